"""Marketing consent in the sidebar: seen per channel with who and when, recorded by the clicking teammate."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.domain.policy import MarketingConsent
from app.services.consent import consent_state, record_consent
from app.services.workspaces import add_sender, create_workspace
from app.store.models import Consent, Message
from app.web.intercom import screens

from ..conftest import START
from .canvaskit import validate_response
from .conftest import NEW, OPEN_WINDOW, Panel, contact, initialize_payload, post_signed

JANE = "jane@example.com (Intercom admin 814860)"


def consents(ctx) -> list[Consent]:
    with ctx.store.session() as session:
        return list(session.scalars(select(Consent).order_by(Consent.id)))


def messages(ctx) -> list[Message]:
    with ctx.store.session() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def open_consent(client, person=None) -> Panel:
    panel = Panel(client, initialize_payload(person) if person else None)
    panel.initialize()
    panel.click("consent", first=False)
    return panel


def channel_lines(panel: Panel) -> dict[str, str]:
    """The consent canvas's "**WhatsApp**: …" lines, by channel label."""
    lines = {}
    for text in panel.texts("paragraph"):
        if text.startswith("**") and "**: " in text:
            label, _, rest = text[2:].partition("**: ")
            lines[label] = rest
    return lines


def refused_for_consent(client) -> Panel:
    """A marketing template to a customer with no consent recorded: refused by the policy."""
    panel = Panel(client)
    panel.initialize()
    panel.click("compose")
    panel.click(panel.template_item("winter_sale"))
    panel.click("send", {"param:1": "Bobby", "purpose": "promotion"})
    return panel


def test_the_first_canvas_links_to_consent_and_stays_short(client):
    panel = Panel(client)
    panel.initialize()  # validated as a first canvas: under about 400 px, no primary button
    link = panel.component("consent")
    assert link["label"] == "Marketing consent" and link["style"] == "link"
    assert panel.components()[-1] == link


def test_with_nothing_recorded_each_channel_says_so(client, ctx):
    panel = open_consent(client)
    assert panel.texts("header") == ["Marketing consent"]
    assert "For **+1 201-555-0123**" in panel.texts()
    assert channel_lines(panel) == {"WhatsApp": "no marketing consent recorded",
                                    "SMS": "no marketing consent recorded",
                                    "Viber": "no marketing consent recorded"}
    choice = panel.component("consent_channel")
    assert choice["type"] == "single-select" and "value" not in choice  # never chosen for the agent
    assert [o["id"] for o in choice["options"]] == ["whatsapp", "sms", "viber"]
    assert panel.component("consent_note")["placeholder"] == "e.g. asked on the phone"
    assert panel.component("consent_grant")["style"] == "primary"
    assert panel.component("consent_withdraw")["style"] == "secondary"
    assert panel.components()[-1] == {"type": "button", "id": "consent_back", "label": "Back", "style": "link",
                                      "action": {"type": "submit"}}
    assert panel.stored["recipient"] == OPEN_WINDOW and panel.stored["seen"] == {"whatsapp": "", "sms": "",
                                                                                 "viber": ""}
    panel.click("consent_back", first=True)
    assert panel.summary()["Phone"] == "+1 201-555-0123"
    assert consents(ctx) == []


def test_recording_a_grant_stores_who_when_and_where(client, ctx, clock):
    clock.advance(minutes=7)
    panel = open_consent(client)
    panel.click("consent_grant", {"consent_channel": "whatsapp", "consent_note": "  asked on the phone "})
    assert panel.texts("header") == ["✅ Marketing consent recorded"]
    assert "**WhatsApp** · +1 201-555-0123" in panel.texts()
    assert (f"Consented to marketing on Nov 22, 2026 at 3:07 PM UTC, recorded by {JANE} via intercom."
            in panel.texts())
    assert "Note: “asked on the phone”" in panel.texts("muted")
    assert ("Herald may now send marketing on WhatsApp to this number, when the other rules allow it."
            in panel.texts("muted"))
    assert panel.body["event"] == {"type": "completed"}
    assert panel.component("home")["style"] == "link" and panel.component("consent_view")["style"] == "link"
    assert "consent_resume" not in panel.ids()  # nothing was waiting to be sent

    [row] = consents(ctx)
    assert (row.recipient, row.channel, row.granted, row.source, row.recorded_by, row.note) == \
        (OPEN_WINDOW, "whatsapp", True, "intercom", JANE, "asked on the phone")
    assert row.recorded_at == START + timedelta(minutes=7)
    state = consent_state(ctx, "demo", OPEN_WINDOW)
    assert state.granted("whatsapp") and not state.granted("sms")

    panel.click("consent_view")
    lines = channel_lines(panel)
    assert lines["WhatsApp"] == (f"consented to marketing on Nov 22, 2026 at 3:07 PM UTC, recorded by {JANE} "
                                 "via intercom.")
    assert lines["SMS"] == "no marketing consent recorded"
    assert "Note: “asked on the phone”" in panel.texts("muted")
    assert panel.component("consent_channel")["value"] == "whatsapp"  # the channel just recorded
    panel.click("consent_back", first=True)
    assert panel.texts("header") == ["+1 201-555-0123"]


def test_recording_a_withdrawal_keeps_the_earlier_grant_in_the_history(client, ctx, clock):
    record_consent(ctx, "demo", OPEN_WINDOW, "sms", True, "web_form", "ops@example.com", "newsletter box")
    clock.advance(hours=2)
    panel = open_consent(client)
    assert channel_lines(panel)["SMS"] == ("consented to marketing on Nov 22, 2026 at 3:00 PM UTC, recorded by "
                                           "ops@example.com via web_form.")
    assert "Note: “newsletter box”" in panel.texts("muted")
    panel.click("consent_withdraw", {"consent_channel": "sms"})
    assert panel.texts("header") == ["✅ Marketing consent withdrawn"]
    assert f"Withdrew marketing consent on Nov 22, 2026 at 5:00 PM UTC, recorded by {JANE} via intercom." \
        in panel.texts()
    assert "Herald refuses marketing on SMS to this number until consent is recorded again." in panel.texts("muted")
    assert not any(t.startswith("Note:") for t in panel.texts("muted"))

    grant, withdrawal = consents(ctx)
    assert (withdrawal.granted, withdrawal.source, withdrawal.recorded_by, withdrawal.note) == \
        (False, "intercom", JANE, "")
    assert grant.granted  # never edited: the withdrawal is a new record
    assert not consent_state(ctx, "demo", OPEN_WINDOW).granted("sms")

    panel.click("consent_view")
    assert channel_lines(panel)["SMS"].startswith("withdrew marketing consent on Nov 22, 2026 at 5:00 PM UTC")
    assert "**Earlier records**" in panel.texts()
    assert ("SMS: consented to marketing on Nov 22, 2026 at 3:00 PM UTC, recorded by ops@example.com via "
            "web_form. Note: “newsletter box”") in panel.texts("muted")


def test_a_marketing_send_refused_for_consent_leads_to_consent_and_back_to_send(client, ctx):
    panel = refused_for_consent(client)
    assert "Not sent: Herald's proactive-message policy does not allow this message." in panel.texts("error")
    assert ("Marketing needs the customer's consent to marketing on WhatsApp; none is recorded."
            in panel.texts("error"))
    offer = panel.component("consent_for_send")
    assert offer["label"] == "Record marketing consent on WhatsApp" and offer["style"] == "secondary"
    key = panel.stored["key"]
    assert messages(ctx) == []

    panel.click("consent_for_send", {"param:1": "Bobby", "purpose": "promotion"})
    assert panel.texts("header") == ["Marketing consent"]
    assert panel.component("consent_channel")["value"] == "whatsapp"
    assert panel.component("consent_back")["label"] == "Back to your message"
    assert panel.stored["resume"]["draft"]["params"] == {"1": "Bobby"}

    panel.click("consent_back")  # changed their mind: the message is as they left it, still refused
    assert panel.texts("header") == ["WhatsApp message"]
    assert panel.component("param:1")["value"] == "Bobby"
    assert panel.component("purpose")["value"] == "promotion"
    assert "consent_for_send" in panel.ids()
    assert panel.stored["key"] == key

    panel.click("consent_for_send")
    panel.click("consent_grant", {"consent_note": "asked on the phone"})  # the refused channel is preselected
    assert panel.texts("header") == ["✅ Marketing consent recorded"]
    assert panel.component("consent_resume")["label"] == "Back to your message"

    panel.click("consent_resume")
    assert panel.texts("header") == ["WhatsApp message"]
    assert panel.texts("error") == []
    assert "Marketing consent on WhatsApp is recorded for this number." in panel.texts("muted")
    assert "consent_for_send" not in panel.ids()
    assert panel.component("param:1")["value"] == "Bobby"
    assert panel.component("purpose")["value"] == "promotion"
    assert panel.component("preview_text")["value"].startswith("Hi Bobby, our winter sale is on")
    assert panel.stored["key"] == key and panel.stored["step"] == "write"

    panel.click("send")
    assert panel.texts("header") == ["✅ WhatsApp message sent"]
    [message] = messages(ctx)
    assert (message.template_name, message.purpose, message.policy_verdict) == ("winter_sale", "promotion", "allow")
    assert any(r["code"] == "marketing_consented" and JANE in r["message"] for r in message.policy_reasons)


def test_a_withdrawn_consent_offers_the_same_way(client, ctx):
    record_consent(ctx, "demo", OPEN_WINDOW, "whatsapp", False, "email", "ops@example.com")
    panel = refused_for_consent(client)
    assert any(t.startswith("Marketing needs the customer's consent to marketing on WhatsApp; they withdrew it")
               for t in panel.texts("error"))
    panel.click("consent_for_send")
    assert channel_lines(panel)["WhatsApp"].startswith("withdrew marketing consent")


def test_consent_on_another_channel_does_not_lift_the_refusal(client, ctx):
    panel = refused_for_consent(client)
    panel.click("consent_for_send")
    panel.click("consent_grant", {"consent_channel": "sms"})
    panel.click("consent_resume")
    assert "Marketing needs the customer's consent to marketing on WhatsApp; none is recorded." \
        in panel.texts("error")
    assert "consent_for_send" in panel.ids()
    assert panel.component("param:1")["value"] == "Bobby"


def test_no_channel_chosen_is_refused_inline_and_records_nothing(client, ctx):
    panel = open_consent(client)
    panel.click("consent_grant", {"consent_note": "asked on the phone"})
    assert panel.texts("header") == ["Marketing consent"]
    assert panel.texts("error") == ["Choose the channel the customer gave or withdrew consent on."]
    assert panel.component("consent_channel")["save_state"] == "failed"
    assert panel.component("consent_note")["value"] == "asked on the phone"
    panel.click("consent_withdraw", {"consent_channel": "telegram"})
    assert panel.component("consent_channel")["save_state"] == "failed"
    assert consents(ctx) == []


def test_a_note_too_long_is_refused_inline_and_records_nothing(client, ctx):
    panel = open_consent(client)
    panel.click("consent_grant", {"consent_channel": "viber", "consent_note": "x" * 2001})
    assert panel.texts("error") == ["A consent note has at most 2000 characters."]
    assert panel.component("consent_note")["save_state"] == "failed"
    assert panel.component("consent_channel")["value"] == "viber"
    assert consents(ctx) == []


def test_without_a_number_consent_is_refused_on_the_first_canvas(client, ctx):
    panel = Panel(client, initialize_payload(contact(None)))
    panel.initialize()
    panel.click("consent", first=True)
    assert panel.texts("error") == [("Enter the customer's phone number first: marketing consent is recorded for "
                                     "a number.")]
    assert panel.component("phone")["type"] == "input"
    panel.click("consent", {"phone": "555"}, first=True)
    assert panel.component("phone")["save_state"] == "failed"
    panel.click("consent", {"phone": "+1 201 555 0126"})
    assert panel.texts("header") == ["Marketing consent"] and panel.stored["recipient"] == NEW
    panel.click("consent_grant", {"consent_channel": "sms"})
    assert [(c.recipient, c.channel) for c in consents(ctx)] == [(NEW, "sms")]
    panel.click("home", first=True)
    assert panel.summary()["Phone"] == "+1 201-555-0126"  # the number typed stays the panel's number


def test_a_canvas_without_a_number_records_nothing(client, ctx):
    panel = open_consent(client)
    payload = panel.submit_payload("consent_grant", {"consent_channel": "sms"})
    del payload["current_canvas"]["stored_data"]["recipient"]
    del payload["current_canvas"]["stored_data"]["phone"]
    body = post_signed(client, "/intercom/submit", payload, first=True)
    texts = [c.get("text") for c in body["canvas"]["content"]["components"]]
    assert "Enter the customer's phone number first: marketing consent is recorded for a number." in texts
    assert consents(ctx) == []


def test_a_replayed_or_stale_click_never_overwrites_a_newer_record(client, ctx, clock):
    panel = open_consent(client)
    grant = panel.submit_payload("consent_grant", {"consent_channel": "whatsapp"})
    first = post_signed(client, "/intercom/submit", grant)
    assert first["canvas"]["content"]["components"][0]["text"] == "✅ Marketing consent recorded"
    again = post_signed(client, "/intercom/submit", grant)  # a double click, or the same request replayed
    assert any(c.get("text") == "This had already been recorded; Herald did not record it twice."
               for c in again["canvas"]["content"]["components"])
    assert "event" not in again
    assert len(consents(ctx)) == 1

    clock.advance(hours=1)
    record_consent(ctx, "demo", OPEN_WINDOW, "whatsapp", False, "email", "ops@example.com", "unsubscribed")
    clock.advance(hours=1)
    stale = post_signed(client, "/intercom/submit", grant)  # the old canvas, after a newer withdrawal
    components = stale["canvas"]["content"]["components"]
    assert components[0]["text"] == "Marketing consent"
    assert any(c.get("style") == "error" and c["text"].startswith("Nothing was recorded: marketing consent on "
                                                                  "WhatsApp changed") for c in components)
    assert len(consents(ctx)) == 2
    assert not consent_state(ctx, "demo", OPEN_WINDOW).granted("whatsapp")


def test_a_one_channel_workspace_needs_no_choice(client, ctx):
    create_workspace(ctx, "solo", intercom_workspace_id="solo-ic")
    add_sender(ctx, "solo", "sms", "sandbox", "+12015550199")
    panel = Panel(client, initialize_payload(workspace_id="solo-ic"))
    panel.initialize()
    panel.click("consent")
    assert "consent_channel" not in panel.ids() and "Channel: SMS" in panel.texts()
    assert list(channel_lines(panel)) == ["SMS"]
    panel.click("consent_grant")
    assert panel.texts("header") == ["✅ Marketing consent recorded"]
    assert consent_state(ctx, "solo", OPEN_WINDOW).granted("sms")
    assert not consent_state(ctx, "demo", OPEN_WINDOW).granted("sms")  # another workspace's record


def test_the_consent_canvases_are_valid_and_inert_as_pure_functions():
    moment = START
    shady = MarketingConsent(granted=True, recorded_by="[Boss](https://evil.test) **now**", recorded_at=moment,
                             source="intercom", note="[click](https://evil.test)", channel="whatsapp",
                             recipient="+12015550123")
    older = [MarketingConsent(granted=i % 2 == 0, recorded_by="ops@example.com", recorded_at=moment, source="cli",
                              channel="sms", recipient="+12015550123") for i in range(6)]
    view = screens.ConsentView(number="+12015550123", channels=[("whatsapp", "WhatsApp"), ("sms", "SMS")],
                                current={"whatsapp": shady, "sms": None}, earlier=older, stored={"step": "consent"},
                                errors=("Choose the channel the customer gave or withdrew consent on.",),
                                failed=frozenset({"consent_channel"}), note="y" * 9000)
    body = validate_response(screens.consent(view))
    components = body["canvas"]["content"]["components"]
    texts = [c.get("text", "") for c in components]
    assert not any("](" in t for t in texts)
    assert sum(t.startswith("SMS: ") for t in texts) == screens.EARLIER
    note = next(c for c in components if c.get("id") == "consent_note")
    assert len(note["value"]) == screens.ECHO and "save_state" not in note
    assert next(c for c in components if c.get("id") == "consent_channel")["save_state"] == "failed"
    done = validate_response(screens.consent_recorded(screens.ConsentRecordedView(
        record=shady, channel_label="WhatsApp", stored={"step": "consent_recorded"}, resume=True)))
    ids = [c.get("id") for c in done["canvas"]["content"]["components"]]
    assert ids[-4:] == ["consent_resume", None, "consent_view", "home"]  # a way on, then navigation
    assert not any("](" in c.get("text", "") for c in done["canvas"]["content"]["components"])
