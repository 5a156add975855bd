"""The first canvas: the number, one line per channel, recent sends, and one way on."""

from __future__ import annotations

import responses

from app.services.workspaces import create_workspace

from .conftest import (CONTACT_ID, NEW, OPEN_WINDOW, OPTED_OUT, Panel, contact, initialize_payload, install_token,
                       post_signed)


def no_primary(panel: Panel) -> None:
    assert all(c.get("style") != "primary" for c in panel.components() if c["type"] == "button")


def test_with_a_phone_each_channel_says_what_can_be_sent_now(client):
    panel = Panel(client)
    panel.initialize()
    assert panel.texts("header") == ["+1 201-555-0123"]
    assert panel.summary() == {
        "Phone": "+1 201-555-0123",
        "WhatsApp": "free text until Nov 23, 2026 at 1:00 PM UTC",
        "SMS": "free text",
        "Viber": "free text until Nov 23, 2026 at 1:00 PM UTC",
    }
    assert "Herald has not sent this contact anything yet." in panel.texts("muted")
    assert panel.component("compose")["style"] == "secondary"
    no_primary(panel)
    assert panel.stored["phone"] == OPEN_WINDOW and panel.stored["contact_id"] == CONTACT_ID


def test_opted_out_and_new_customers(client):
    panel = Panel(client, initialize_payload(contact(OPTED_OUT)))
    panel.initialize()
    assert panel.summary()["SMS"] == "opted out (replied STOP)"
    assert panel.summary()["WhatsApp"] == "template only"
    panel = Panel(client, initialize_payload(contact("(201) 555-0126")))
    panel.initialize()
    assert panel.summary()["Phone"] == "+1 201-555-0126"
    assert panel.summary()["WhatsApp"] == "template only" and panel.summary()["SMS"] == "free text"


def test_without_a_phone_a_clear_empty_state_with_an_input(client):
    panel = Panel(client, initialize_payload(contact(None)))
    panel.initialize()
    assert panel.texts("header") == ["Bob Ramos"]
    assert panel.texts("muted")[0] == "Intercom has no phone number for this contact. Enter one to send a message."
    field = panel.component("phone")
    assert field["type"] == "input" and field["action"] == {"type": "submit"} and "value" not in field
    assert panel.summary() == {}
    no_primary(panel)

    panel.click("phone", {"phone": "555"}, first=True)
    assert panel.component("phone")["save_state"] == "failed"
    assert panel.component("phone")["value"] == "555"
    assert any("555" in t for t in panel.texts("error"))

    panel.click("phone", {"phone": "+1 201 555 0126"}, first=True)
    assert panel.summary()["Phone"] == "+1 201-555-0126"
    assert panel.stored["phone"] == NEW


def test_write_a_message_straight_from_the_empty_state(client):
    panel = Panel(client, initialize_payload(contact(None)))
    panel.initialize()
    panel.click("compose", first=True)
    assert panel.texts("error") == ["Enter the customer's phone number first."]
    panel.click("compose", {"phone": "+12015550123"})
    assert panel.texts("header") == ["New message"]


def test_a_number_intercom_has_that_is_not_a_phone_number(client):
    panel = Panel(client, initialize_payload(contact("12345")))
    panel.initialize()
    assert "“12345”" in panel.texts("muted")[0]
    assert panel.component("phone")["type"] == "input"


def test_customer_key_legacy_app_id_and_no_context(client):
    payload = initialize_payload(key="customer", legacy_ids=True, with_context=False)
    panel = Panel(client, payload)
    panel.initialize()
    assert panel.summary()["Phone"] == "+1 201-555-0123"
    assert panel.stored["contact_id"] == CONTACT_ID


def test_a_contact_without_its_phone_field_is_looked_up_in_intercom(client, ctx, intercom_api):
    install_token(ctx, "tok-lookup")
    intercom_api.get(f"https://api.eu.intercom.io/contacts/{CONTACT_ID}",
                     json={"type": "contact", "id": CONTACT_ID, "phone": "+12015550124"},
                     match=[responses.matchers.header_matcher({"Authorization": "Bearer tok-lookup",
                                                              "Intercom-Version": "2.14"})])
    panel = Panel(client, initialize_payload(contact(omit_phone=True), region="eu"))
    panel.initialize()
    assert panel.summary()["Phone"] == "+1 201-555-0124"
    assert len(intercom_api.calls) == 1


def test_a_failed_lookup_is_an_empty_state_not_an_error(client, ctx, intercom_api):
    install_token(ctx, "tok-lookup")
    intercom_api.get(f"https://api.intercom.io/contacts/{CONTACT_ID}", status=404,
                     json={"type": "error.list", "errors": [{"code": "not_found", "message": "User Not Found"}]})
    panel = Panel(client, initialize_payload(contact(omit_phone=True)))
    panel.initialize()
    assert panel.component("phone")["type"] == "input"


def test_recent_messages_with_status_and_absolute_dates(client, clock):
    panel = Panel(client)
    panel.initialize()
    for words in ("First update.", "Second update.", "Third update.", "Fourth update."):
        panel.click("compose")
        panel.click("content:free")
        panel.click("send", {"message": words, "purpose": "confirmation"})
        assert panel.texts("header") == ["✅ WhatsApp message sent"]
        panel.click("home", first=True)
        clock.advance(minutes=5)
    panel.initialize()
    assert panel.recent() == [
        "**WhatsApp** · Accepted · Nov 22, 2026 at 3:15 PM UTC · “Fourth update.”",
        "**WhatsApp** · Accepted · Nov 22, 2026 at 3:10 PM UTC · “Third update.”",
        "**WhatsApp** · Accepted · Nov 22, 2026 at 3:05 PM UTC · “Second update.”",
    ]
    no_primary(panel)


def test_a_long_message_is_clipped_to_two_lines(client):
    panel = Panel(client)
    panel.initialize()
    panel.click("compose")
    panel.click("content:free")
    panel.click("send", {"message": "We have refunded the duplicate charge on your card ending 4242; it shows "
                                    "within five working days.", "purpose": "confirmation"})
    panel.click("home", first=True)
    [line] = panel.recent()
    assert line == "**WhatsApp** · Accepted · Nov 22, 2026 at 3:00 PM UTC · “We have refunded the…”"
    assert len(line) <= 84


def test_an_unknown_workspace_is_told_how_to_finish_set_up(client):
    body = post_signed(client, "/intercom/initialize", initialize_payload(workspace_id="zz9plural"))
    components = body["canvas"]["content"]["components"]
    text = " ".join(c.get("text", "") for c in components)
    assert components[0]["text"] == "Finish setting up Herald"
    assert "zz9plural" in text and "--intercom-workspace-id zz9plural" in text
    install = next(c for c in components if c.get("id") == "install")
    assert install["action"] == {"type": "url", "url": "https://herald.test/intercom/oauth/start"}
    assert install["style"] == "secondary"
    again = post_signed(client, "/intercom/submit", {**initialize_payload(workspace_id="zz9plural"),
                                                     "component_id": "home", "input_values": {},
                                                     "current_canvas": body["canvas"]})
    assert again["canvas"]["content"]["components"][0]["text"] == "Finish setting up Herald"


def test_a_workspace_without_senders_is_told_what_is_missing(client, ctx):
    create_workspace(ctx, "acme", intercom_workspace_id="acme-ic")
    body = post_signed(client, "/intercom/initialize", initialize_payload(workspace_id="acme-ic"))
    text = " ".join(c.get("text", "") for c in body["canvas"]["content"]["components"])
    assert "Workspace acme has no WhatsApp, SMS or Viber sender yet" in text
