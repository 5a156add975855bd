"""The validator itself: it accepts the reference's example canvases and names each broken rule."""

from __future__ import annotations

import copy

import pytest

from .canvaskit import CanvasError, estimated_height, validate_response

FIRST = {"canvas": {
    "content": {"components": [
        {"type": "text", "text": "Send outbound message", "style": "header"},
        {"type": "data-table", "items": [{"type": "field-value", "field": "Phone", "value": "+1 555 123 4567"}]},
        {"type": "button", "id": "start_compose", "label": "Compose message", "style": "secondary",
         "action": {"type": "submit"}}]},
    "stored_data": {"contact_id": "5ba682d23d7cf92bef87bfd4", "phone": "+15551234567"}}}

COMPOSE = {"canvas": {
    "content": {"components": [
        {"type": "single-select", "id": "channel", "label": "Channel", "value": "whatsapp",
         "options": [{"type": "option", "id": "whatsapp", "text": "WhatsApp"},
                     {"type": "option", "id": "sms", "text": "SMS"},
                     {"type": "option", "id": "viber", "text": "Viber"}]},
        {"type": "input", "id": "to_phone", "label": "To", "value": "+15551234567"},
        {"type": "textarea", "id": "message", "label": "Message", "placeholder": "Type your message…"},
        {"type": "button", "id": "send", "label": "Send", "style": "primary", "action": {"type": "submit"}},
        {"type": "divider"},
        {"type": "button", "id": "back", "label": "Back", "style": "link", "action": {"type": "submit"}}]},
    "stored_data": {"contact_id": "5ba682d23d7cf92bef87bfd4", "step": "compose"}}}


def test_the_reference_examples_are_valid():
    validate_response(FIRST, first=True)
    validate_response(COMPOSE)


def broken(base, change):
    body = copy.deepcopy(base)
    change(body["canvas"]["content"]["components"])
    return body


@pytest.mark.parametrize("change, message", [
    (lambda c: c.append({"type": "carousel"}), "unknown component type 'carousel'"),
    (lambda c: c[3].pop("action"), "missing required ['action']"),
    (lambda c: c[3].update(style="danger"), "style 'danger' is not one of link, primary, secondary"),
    (lambda c: c[0]["options"].pop() and c[0]["options"].pop(), "needs 2 to 10 options, has 1"),
    (lambda c: c[0]["options"].extend({"type": "option", "id": f"o{i}", "text": "x"} for i in range(8)),
     "needs 2 to 10 options, has 11"),
    (lambda c: c[0].update(value="telegram"), "value 'telegram' is not one of its option ids"),
    (lambda c: c[1].update(id="message"), "duplicate id 'message'"),
    (lambda c: c[1].update(error=True), "undocumented keys ['error'] for input"),
    (lambda c: c[2].update(save_state="failed"), "undocumented keys ['save_state'] for textarea"),
    (lambda c: c[1].update(save_state="broken"), "save_state 'broken' is not one of"),
    (lambda c: c[5].update(style="secondary"), "navigation ('Back') uses a link-style button"),
    (lambda c: c[3].update(action={"type": "sheet", "url": "https://x.test"}), "sheet actions are Messenger-only"),
    (lambda c: c.append({"type": "text", "text": "Sent 5 minutes ago", "style": "muted"}), "dates are absolute"),
    (lambda c: c.append({"type": "text", "text": "Nothing yet", "style": "muted", "align": "center"}),
     "left-aligned"),
    (lambda c: c.append({"type": "data-table", "items": [{"type": "field-value", "field": "A"}]}),
     "each row is exactly"),
    (lambda c: c.append({"type": "list", "items": [{"type": "item", "id": "a", "title": "A",
                                                    "image": "https://x.test/a.png"}]}),
     "needs image_width and image_height"),
    (lambda c: c.append({"type": "image", "url": "https://x.test/a.png", "width": 10, "height": 10,
                         "action": {"type": "submit"}}), "only a url action is allowed here"),
    (lambda c: c.append({"type": "checkbox", "id": "c", "label": "C"}), "exactly one of option/options"),
    (lambda c: c.append({"type": "spacer", "size": "xxl"}), "size 'xxl' is not one of"),
])
def test_each_broken_rule_is_named(change, message):
    with pytest.raises(CanvasError) as caught:
        validate_response(broken(COMPOSE, change))
    assert message in str(caught.value)


def test_sizes_and_envelope_are_checked():
    body = copy.deepcopy(FIRST)
    body["canvas"]["stored_data"]["blob"] = "x" * (64 * 1024)
    with pytest.raises(CanvasError, match="stored_data: is .* bytes; the limit is 64 KB"):
        validate_response(body)
    body = copy.deepcopy(FIRST)
    body["canvas"]["content"]["components"].append({"type": "text", "text": "y" * (64 * 1024)})
    with pytest.raises(CanvasError, match="canvas.content: is .* bytes"):
        validate_response(body)
    with pytest.raises(CanvasError, match='the only event is'):
        validate_response({**FIRST, "event": {"type": "done"}})
    with pytest.raises(CanvasError, match="undocumented keys"):
        validate_response({**FIRST, "status": "ok"})
    with pytest.raises(CanvasError, match="content_url"):
        validate_response({"canvas": {"content_url": "https://x.test/live"}})


def test_first_canvas_rules():
    with pytest.raises(CanvasError, match="no primary button on the first canvas"):
        validate_response(COMPOSE, first=True)
    tall = copy.deepcopy(FIRST)
    tall["canvas"]["content"]["components"][1]["items"] *= 16
    assert estimated_height(tall["canvas"]["content"]["components"]) > 400
    with pytest.raises(CanvasError, match="first canvas is about .* px tall"):
        validate_response(tall, first=True)
