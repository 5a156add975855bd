"""The canvas builders as pure functions, and the confirmation step the policy can ask for."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.domain.decision import CONFIRM, REFUSED, Decision, PolicyVerdict
from app.domain.refusals import Reason
from app.services.send import SendRequest, send
from app.services.workspaces import add_sender, create_workspace
from app.store.models import Message
from app.web.intercom import screens
from app.web.intercom.components import plain, single_select
from app.web.intercom.render import refusal_heading

from .canvaskit import validate_response
from .conftest import Panel, contact, initialize_payload, post_signed

QUESTIONS = ("Would a competent agent send this today, unprompted?", "Would the customer thank us for it?")
SERVICE = [{"code": f"s{i}", "label": f"Service {i}", "kind": "service"} for i in range(7)]
MARKETING = [{"code": f"m{i}", "label": f"Marketing {i}", "kind": "marketing"} for i in range(4)]


def confirm_view(stored, error=""):
    return screens.ConfirmView(
        channel_label="WhatsApp", to="+12015550123", preview="Hi Bob, our winter sale is on!",
        reasons=(Reason("marketing_after_service", "A service message went to this customer an hour ago.", ""),),
        questions=QUESTIONS, stored=stored, error=error)


def test_the_confirm_canvas_shows_reasons_questions_and_an_explicit_yes():
    body = validate_response(screens.confirm(confirm_view({"step": "confirm"})))
    components = body["canvas"]["content"]["components"]
    texts = [c.get("text") for c in components]
    assert texts[0] == "⚠️ Confirm before sending"
    assert "A service message went to this customer an hour ago." in texts
    assert f"**1.** {QUESTIONS[0]}" in texts and f"**2.** {QUESTIONS[1]}" in texts
    answer = next(c for c in components if c.get("id") == "confirm_answer")
    assert answer["options"] == [{"type": "option", "id": "yes", "text": "Yes to both"},
                                 {"type": "option", "id": "no", "text": "No"}]
    assert "value" not in answer  # never pre-answered
    assert next(c for c in components if c.get("id") == "confirm_send")["style"] == "primary"
    assert components[-1] == {"type": "button", "id": "back_write", "label": "Back", "style": "link",
                              "action": {"type": "submit"}}
    failed = screens.confirm(confirm_view({}, error="Answer the questions above before sending."))
    answer = next(c for c in failed["canvas"]["content"]["components"] if c.get("id") == "confirm_answer")
    assert answer["save_state"] == "failed"


def test_the_heading_names_the_policy_only_when_the_policy_refused():
    policy = PolicyVerdict("refuse", (Reason("no_consent", "No marketing consent on WhatsApp.", "purpose"),))
    by_policy = Decision(REFUSED, "whatsapp", "+12015550123", reasons=policy.reasons, policy=policy)
    assert refusal_heading(by_policy) == "Not sent: Herald's proactive-message policy does not allow this message."
    by_rule = Decision(REFUSED, "whatsapp", "+12015550123", reasons=(Reason("window_closed", "Closed.", "text"),),
                       policy=None)
    assert refusal_heading(by_rule) == ""
    assert refusal_heading(Decision(CONFIRM, "sms", "+12015550123", policy=PolicyVerdict("confirm"))) == ""


def test_a_policy_refusal_marks_the_purpose_and_keeps_values():
    view = screens.WriteView(
        channel_label="WhatsApp", window_note="Free text.", to="+12015550123", senders=[("1", "+1 201-555-0100")],
        sender="1", template=None, params={}, text_value="20% off today!", purposes=SERVICE + MARKETING,
        purpose="m0", purpose_kind="marketing", preview="20% off today!", sms=None, stored={"step": "write"},
        reasons=(Reason("no_consent", "No marketing consent on WhatsApp.", "purpose"),),
        heading="Not sent: Herald's proactive-message policy does not allow this message.")
    body = validate_response(screens.write(view))
    components = {c.get("id"): c for c in body["canvas"]["content"]["components"]}
    assert components["purpose"]["save_state"] == "failed" and components["purpose"]["value"] == "m0"
    assert components["message"]["value"] == "20% off today!" and "error" not in components["message"]
    errors = [c["text"] for c in body["canvas"]["content"]["components"] if c.get("style") == "error"]
    assert errors == ["Not sent: Herald's proactive-message policy does not allow this message.",
                      "No marketing consent on WhatsApp."]


def test_purposes_fit_a_select_or_split_by_kind():
    short = screens.purpose_fields(SERVICE[:5] + MARKETING[:2], "m1", "service", False)
    assert [c["type"] for c in short] == ["dropdown"]
    assert short[0]["value"] == "m1" and len(short[0]["options"]) == 8
    split = screens.purpose_fields(SERVICE + MARKETING, "", "marketing", True)
    assert [c["type"] for c in split] == ["single-select", "dropdown"]
    assert split[1]["label"] == "Marketing purpose" and split[1]["save_state"] == "failed"
    assert [o["id"] for o in split[1]["options"]] == ["none", "m0", "m1", "m2", "m3"]
    crowded = screens.purpose_fields([{"code": f"x{i}", "label": f"X {i}", "kind": "service"} for i in range(14)],
                                      "", "service", False)
    assert len(crowded[-1]["options"]) == 10


def test_a_select_never_has_fewer_than_two_options():
    with pytest.raises(ValueError):
        single_select("channel", "Channel", [("sms", "SMS")])


def test_one_channel_is_shown_as_text_and_many_senders_are_capped(client, ctx):
    create_workspace(ctx, "solo", intercom_workspace_id="solo-ic")
    for n in range(12):
        add_sender(ctx, "solo", "sms", "sandbox", f"+120155502{n:02d}")
    panel = Panel(client, initialize_payload(workspace_id="solo-ic"))
    panel.initialize()
    assert list(panel.summary()) == ["Phone", "SMS"]
    panel.click("compose")
    assert "channel" not in panel.ids() and "Channel: SMS" in panel.texts()
    panel.click("content:free")
    assert len(panel.component("sender")["options"]) == 10


def test_markdown_from_people_is_inert():
    assert plain("[win a prize](https://evil.test) **now**") == "[win a prize] (https://evil.test) * *now* *"


def test_contact_names_cannot_inject_links(client):
    panel = Panel(client, initialize_payload(contact(None, name="[Click](https://evil.test)")))
    panel.initialize()
    assert panel.texts("header") == ["[Click] (https://evil.test)"]


def test_an_unknown_outcome_is_not_called_success():
    message = {"id": "msg_1", "channel": "sms", "channel_label": "SMS", "to": "+12015550123",
               "from": "+12015550100", "status": "unknown", "status_label": "Outcome unknown",
               "text": "Hello", "error_message": "The provider did not answer in time.",
               "created_at": "2026-11-22T15:00:00+00:00"}
    body = validate_response(screens.sent(screens.SentView(message, None, {"step": "sent"})))
    texts = [c.get("text", "") for c in body["canvas"]["content"]["components"]]
    assert texts[0] == "⚠️ SMS message: outcome unknown"
    assert any("Herald will not send it twice" in t for t in texts)


def test_a_decision_to_confirm_asks_the_policy_questions_and_sends_once_confirmed(client, ctx):
    words = "Je pakket is onderweg en wordt morgen tussen 9 en 12 uur bezorgd."
    dry = send(ctx, SendRequest(workspace="demo", channel="whatsapp", to="+12015550123", text=words,
                                purpose="confirmation", surface="intercom", dry_run=True))
    assert dry.decision.outcome == "confirm"  # Dutch: the marketing check does not read it, an agent decides
    panel = Panel(client)
    panel.initialize()
    panel.click("compose")
    panel.click("content:free")
    key = panel.stored["key"]
    panel.click("send", {"message": words, "purpose": "confirmation"})
    assert panel.texts("header") == ["⚠️ Confirm before sending"]
    shown = panel.texts()
    for number, question in enumerate(dry.decision.policy.questions, start=1):
        assert f"**{number}.** {question}" in shown
    for reason in dry.decision.reasons:
        assert plain(reason.message) in shown
    assert panel.component("preview_text")["value"] == words
    assert panel.stored["draft"]["text"] == words and panel.stored["key"] == key

    panel.click("confirm_send")  # no answer given
    assert panel.component("confirm_answer")["save_state"] == "failed"
    assert panel.texts("error") == ["Answer the questions above before sending."]

    panel.click("confirm_send", {"confirm_answer": "no"})
    assert panel.texts("header") == ["WhatsApp message"]
    assert "Not sent: you did not confirm it. Change the message or go back." in panel.texts("muted")
    assert panel.component("message")["value"] == words
    assert panel.stored["key"] == key and "draft" not in panel.stored

    panel.click("send", {"message": words, "purpose": "confirmation"})
    panel.click("back_write")
    assert panel.component("message")["value"] == words
    assert panel.component("purpose")["value"] == "confirmation"

    panel.click("send", {"message": words, "purpose": "confirmation"})
    payload = panel.submit_payload("confirm_send", {"confirm_answer": "yes"})
    for _ in range(2):  # a double click on Send
        body = post_signed(client, "/intercom/submit", payload)
        assert body["canvas"]["content"]["components"][0]["text"] == "✅ WhatsApp message sent"
    with ctx.store.session() as session:
        [message] = session.scalars(select(Message)).all()
    assert message.confirmed_by == "jane@example.com (Intercom admin 814860)"
    assert message.text == words and message.purpose == "confirmation"
    assert message.policy_verdict == "confirm"
