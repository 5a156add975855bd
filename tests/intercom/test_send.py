"""Sending: the engine decides; refusals inline with the field marked, success with ✅, once only."""

from __future__ import annotations

from sqlalchemy import func, select

from app.services.sandbox import play_statuses
from app.services.send import SendRequest, send
from app.store.models import IdempotencyKey, Message

from .conftest import (CONTACT_ID, NEW, OPEN_WINDOW, OPTED_OUT, UNDELIVERABLE, Panel, compact, contact,
                       initialize_payload, post_raw, post_signed, secret_of, sign)


def messages(ctx) -> list[Message]:
    with ctx.store.session() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def write(client, person=None, channel: str | None = None, item: str = "content:free", nested: bool = False) -> Panel:
    panel = Panel(client, initialize_payload(person) if person else None, nested=nested)
    panel.initialize()
    panel.click("compose")
    if channel:
        panel.click("channel", {"channel": channel})
    panel.click(item if item.startswith("content:") else panel.template_item(item))
    return panel


def test_free_text_inside_the_window_is_sent(client, ctx):
    panel = write(client)
    panel.click("send", {"message": "Your order left our warehouse this morning.", "purpose": "delivery_update"})
    assert panel.texts("header") == ["✅ WhatsApp message sent"]
    assert panel.table() == {"Channel": "WhatsApp", "To": "+1 201-555-0123", "From": "+1 201-555-0100",
                             "Status": "Accepted"}
    assert "Sent on Nov 22, 2026 at 3:00 PM UTC." in panel.texts("muted")
    assert "Your order left our warehouse this morning." in panel.texts("muted")
    assert panel.body["event"] == {"type": "completed"}
    back = panel.component("home")
    assert back["style"] == "link" and back["label"] == "Back to start"
    [message] = messages(ctx)
    assert (message.channel, message.recipient, message.kind, message.status) == \
        ("whatsapp", OPEN_WINDOW, "text", "accepted")
    assert (message.origin, message.surface, message.purpose) == ("agent", "intercom", "delivery_update")
    assert message.requested_by == "jane@example.com (Intercom admin 814860)"
    assert message.contact_ref == CONTACT_ID
    assert message.context == {"intercom_workspace_id": "demo-intercom", "conversation_id": "147",
                               "admin_id": "814860"}


def test_free_text_outside_the_window_is_refused_inline(client, ctx, clock):
    clock.advance(hours=21)  # Nov 23, 12:00: the window (until 1:00 PM) is still open
    panel = write(client)
    clock.advance(hours=2)   # the canvas is not refreshed; the window closes meanwhile
    panel.click("send", {"message": "Quick update on your order.", "purpose": "delivery_update"})
    assert panel.texts("header") == ["WhatsApp message"]
    assert panel.texts("error") == ["The 24-hour WhatsApp window closed on Nov 23, 2026 at 1:00 PM UTC: "
                                    "choose an approved template."]
    message = panel.component("message")
    assert message["error"] is True and message["value"] == "Quick update on your order."
    assert panel.component("purpose")["value"] == "delivery_update"
    assert messages(ctx) == []


def test_a_template_outside_the_window_is_sent(client, ctx):
    panel = write(client, contact(NEW, name="Tom Baker"), item="order_shipped")
    panel.click("send", {"param:2": "A-1001", "param:3": "Monday", "purpose": "delivery_update"})
    assert panel.texts("header") == ["✅ WhatsApp message sent"]
    [message] = messages(ctx)
    assert message.kind == "template" and message.template_name == "order_shipped"
    assert message.params == {"1": "Tom", "2": "A-1001", "3": "Monday"}
    assert message.text.startswith("Hi Tom, your order A-1001 has shipped and should arrive on Monday.")


def test_a_missing_parameter_marks_its_input(client, ctx):
    panel = write(client, contact(NEW), item="order_shipped")
    panel.click("send", {"param:1": "Tom", "param:2": "", "param:3": "Monday", "purpose": "delivery_update"})
    assert panel.component("param:2")["save_state"] == "failed"
    assert "save_state" not in panel.component("param:1")
    assert panel.component("param:3")["value"] == "Monday"
    assert panel.texts("error") == ["Fill in “Variable 2”."]
    assert messages(ctx) == []


def test_sms_opt_out_is_refused_inline(client, ctx):
    panel = write(client, contact(OPTED_OUT), channel="sms")
    panel.click("send", {"message": "We tried to call you.", "purpose": "confirmation"})
    assert panel.component("to")["save_state"] == "failed"
    [reason] = panel.texts("error")
    assert reason.startswith("This customer opted out of SMS (replied STOP on Nov 19, 2026 at 3:00 PM UTC)")
    assert panel.component("message")["value"] == "We tried to call you."
    assert messages(ctx) == []


def test_an_invalid_number_is_refused_inline(client):
    panel = write(client)
    panel.click("send", {"to": "+1 555", "message": "Hi", "purpose": "confirmation"})
    assert panel.component("to")["save_state"] == "failed"
    assert panel.component("to")["value"] == "+1 555"
    assert any("+1 555" in t for t in panel.texts("error"))


def test_a_provider_error_is_shown_inline_and_a_new_attempt_gets_a_new_key(client, ctx):
    panel = write(client, contact(UNDELIVERABLE, name="Kim Novak"), channel="sms")
    first_key = panel.stored["key"]
    panel.click("send", {"message": "Your parcel is at the depot.", "purpose": "delivery_update"})
    assert panel.texts("header") == ["SMS message"]
    assert panel.texts("error") == [
        "Not sent: the provider did not accept the message.",
        "The sandbox treats this number as unable to receive messages on this channel. "
        "Try another channel or number."]
    assert panel.component("message")["value"] == "Your parcel is at the depot."
    assert panel.stored["key"] != first_key
    [failed] = messages(ctx)
    assert failed.status == "failed" and failed.error_code == "sandbox_undeliverable"

    panel.click("send", {"to": NEW, "message": "Your parcel is at the depot.", "purpose": "delivery_update"})
    assert panel.texts("header") == ["✅ SMS message sent"]
    assert [m.status for m in messages(ctx)] == ["failed", "accepted"]


def test_a_double_submit_sends_once(client, ctx):
    panel = write(client)
    payload = panel.submit_payload("send", {"message": "Your order is packed and leaves today.", "purpose": "confirmation"})
    first = post_signed(client, "/intercom/submit", payload)
    again = post_signed(client, "/intercom/submit", payload)
    assert first["canvas"]["content"]["components"][0]["text"] == "✅ WhatsApp message sent"
    assert again["canvas"]["content"]["components"][0]["text"] == "✅ WhatsApp message sent"
    assert any(c.get("text") == "This message had already been sent; Herald did not send it twice."
               for c in again["canvas"]["content"]["components"])
    assert first["canvas"]["stored_data"]["message"] == again["canvas"]["stored_data"]["message"]
    assert len(messages(ctx)) == 1
    with ctx.store.session() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1


def test_a_replayed_signed_request_sends_once_even_much_later(client, ctx, clock):
    panel = write(client)
    raw = compact(panel.submit_payload("send", {"message": "Replay me.", "purpose": "confirmation"}))
    signature = sign(raw, secret_of(client))
    assert post_raw(client, "/intercom/submit", raw, signature).status_code == 200
    clock.advance(hours=1)
    assert post_raw(client, "/intercom/submit", raw, signature).get_json()["canvas"]["stored_data"]["step"] == "sent"
    clock.advance(hours=12)
    late = post_raw(client, "/intercom/submit", raw, signature).get_json()
    assert late["canvas"]["content"]["components"][0]["text"] == "This form has expired"
    assert len(messages(ctx)) == 1


def test_an_expired_form_sends_nothing(client, ctx, clock):
    panel = write(client)
    clock.advance(hours=12, minutes=1)
    panel.click("send", {"message": "Still there?", "purpose": "confirmation"})
    assert panel.texts("header") == ["This form has expired"]
    assert "It was opened on Nov 22, 2026 at 3:00 PM UTC and can no longer send." in panel.texts("muted")[0]
    assert messages(ctx) == []


def test_the_nested_current_canvas_shape_works_end_to_end(client, ctx):
    panel = write(client, nested=True, channel="viber")
    panel.click("send", {"message": "Your parcel arrives today.", "purpose": "delivery_update"})
    assert panel.texts("header") == ["✅ Viber message sent"]
    assert panel.table()["From"] == "HeraldDemo"
    assert messages(ctx)[0].channel == "viber"


def test_refresh_status_follows_delivery_receipts(client, ctx):
    panel = write(client)
    panel.click("send", {"message": "Tracking: ZX-1.", "purpose": "delivery_update"})
    assert "event" in panel.body
    play_statuses(ctx, panel.stored["message"], until="delivered")
    panel.click("refresh_status")
    assert panel.table()["Status"] == "Delivered"
    assert "event" not in panel.body


def test_whatever_the_policy_decides_the_panel_shows_it(client, ctx):
    """A marketing template for a promotion: allowed, confirm or refused, the canvas follows the decision."""
    panel = write(client, item="winter_sale")
    dry = send(ctx, SendRequest(workspace="demo", channel="whatsapp", to=OPEN_WINDOW, template="winter_sale",
                                language="en_US", params={"1": "Bob"}, purpose="promotion", origin="agent",
                                surface="intercom", dry_run=True, contact_ref=CONTACT_ID))
    decision = dry.decision
    panel.click("send", {"param:1": "Bob", "purpose": "promotion"})
    text = panel.all_text()
    if decision.outcome == "allowed":
        assert panel.texts("header") == ["✅ WhatsApp message sent"]
    elif decision.outcome == "confirm":
        assert panel.texts("header") == ["⚠️ Confirm before sending"]
        for question in decision.policy.questions:
            assert question in text
        panel.click("confirm_send", {"confirm_answer": "yes"})
        assert panel.texts("header") == ["✅ WhatsApp message sent"]
        assert messages(ctx)[0].confirmed_by == "jane@example.com (Intercom admin 814860)"
    else:
        for reason in decision.reasons:
            assert reason.message in text
        if decision.policy is not None and decision.policy.outcome == "refuse":
            assert "Not sent: Herald's proactive-message policy does not allow this message." in panel.texts("error")
        assert panel.component("param:1")["value"] == "Bob"
        assert messages(ctx) == []


def test_a_huge_paste_is_refused_and_the_canvas_stays_under_64_kb(client, ctx):
    panel = write(client)
    panel.click("send", {"message": "é" * 60_000, "purpose": "confirmation"})  # validated: content < 64 KB
    assert "WhatsApp messages can be at most 4096 characters; this one has 60000." in panel.texts("error")
    assert panel.component("message")["error"] is True
    assert messages(ctx) == []
