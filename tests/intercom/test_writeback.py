"""After a send, an internal note on the conversation, by the clicking teammate; never failing the send."""

from __future__ import annotations

import dataclasses
import json

import pytest
import responses
from sqlalchemy import select

from app.services.writeback import run_due
from app.store.models import Writeback

from .conftest import CONTACT_ID, UNDELIVERABLE, Panel, contact, initialize_payload, install_token

NOTE_URL = "https://api.intercom.io/conversations/147/reply"


def send_free_text(client, payload=None, words="Your order left our warehouse.", channel=None,
                   person=None) -> Panel:
    panel = Panel(client, payload or initialize_payload(person) if (payload or person) else None)
    panel.initialize()
    panel.click("compose")
    if channel:
        panel.click("channel", {"channel": channel})
    panel.click("content:free")
    panel.click("send", {"message": words, "purpose": "delivery_update"})
    return panel


def writebacks(ctx) -> list[Writeback]:
    with ctx.store.session() as session:
        return list(session.scalars(select(Writeback)))


def test_the_note_names_channel_number_text_and_status(client, ctx, intercom_api):
    install_token(ctx, "tok-note")
    intercom_api.post(NOTE_URL, json={"type": "conversation", "id": "147"},
                      match=[responses.matchers.header_matcher({"Authorization": "Bearer tok-note",
                                                               "Intercom-Version": "2.14"})])
    panel = send_free_text(client, words='Your <b>order</b> & "parcel" left.\nSee you soon.')
    assert panel.texts("header") == ["✅ WhatsApp message sent"]
    assert "Added as a note to this conversation." in panel.texts("muted")
    [call] = intercom_api.calls
    body = json.loads(call.request.body)
    assert {k: body[k] for k in ("message_type", "type", "admin_id")} == \
        {"message_type": "note", "type": "admin", "admin_id": "814860"}
    note = body["body"]
    assert "<b>WhatsApp</b> message sent with Herald to <b>+1 201-555-0123</b> from +1 201-555-0100" in note
    assert "“Your &lt;b&gt;order&lt;/b&gt; &amp; &quot;parcel&quot; left.<br>See you soon.”" in note
    assert "Status: Accepted" in note and "Purpose: Delivery or order update" in note
    assert panel.stored["message"] in note
    [row] = writebacks(ctx)
    assert row.status == "done" and row.attempts == 1
    assert row.target["conversation_id"] == "147" and row.target["admin_id"] == "814860"


def test_the_note_goes_to_the_workspace_region(client, ctx, intercom_api):
    install_token(ctx, "tok-eu")
    intercom_api.post("https://api.eu.intercom.io/conversations/147/reply", json={})
    send_free_text(client, initialize_payload(region="EU"))
    assert [c.request.url for c in intercom_api.calls] == ["https://api.eu.intercom.io/conversations/147/reply"]
    install_au = initialize_payload(region="au", conversation_id="148")
    intercom_api.post("https://api.au.intercom.io/conversations/148/reply", json={})
    send_free_text(client, install_au, words="Your parcel was handed to the courier.")
    assert intercom_api.calls[-1].request.url == "https://api.au.intercom.io/conversations/148/reply"


def test_single_workspace_mode_uses_the_configured_token(client, ctx, intercom_api):
    ctx.config = dataclasses.replace(ctx.config, intercom_access_token="tok-from-env",
                                     intercom_api_base="https://intercom.proxy.test")
    intercom_api.post("https://intercom.proxy.test/conversations/147/reply", json={},
                      match=[responses.matchers.header_matcher({"Authorization": "Bearer tok-from-env"})])
    panel = send_free_text(client)
    assert "Added as a note to this conversation." in panel.texts("muted")
    assert writebacks(ctx)[0].status == "done"


def test_a_failed_note_never_fails_the_send_and_is_retried(client, ctx, clock, intercom_api, caplog):
    install_token(ctx, "tok-secret-value")
    intercom_api.post(NOTE_URL, status=503, json={"type": "error.list", "request_id": "r1",
                                                  "errors": [{"code": "service_unavailable",
                                                              "message": "Try again later"}]})
    panel = send_free_text(client)
    assert panel.texts("header") == ["✅ WhatsApp message sent"]
    assert "Herald could not add the note to this conversation yet; it will try again." in panel.texts("muted")
    [row] = writebacks(ctx)
    assert row.status == "pending" and row.attempts == 1
    assert row.last_error == ("Intercom answered 503 to the conversation note "
                              "(service_unavailable: Try again later)")
    assert "tok-secret-value" not in caplog.text and "tok-secret-value" not in row.last_error

    intercom_api.replace(responses.POST, NOTE_URL, json={"type": "conversation"})
    assert run_due(ctx) == 0  # not due yet
    clock.advance(minutes=2)
    assert run_due(ctx) == 1
    [row] = writebacks(ctx)
    assert row.status == "done" and row.attempts == 2
    panel.click("refresh_status")
    assert "Added as a note to this conversation." in panel.texts("muted")


def test_without_any_token_the_note_waits_for_an_install(client, ctx, intercom_api):
    panel = send_free_text(client)
    assert panel.texts("header") == ["✅ WhatsApp message sent"]
    [row] = writebacks(ctx)
    assert row.status == "pending" and "no Intercom access token" in row.last_error
    assert len(intercom_api.calls) == 0


def test_without_a_conversation_the_note_goes_on_the_contact(client, ctx, intercom_api):
    install_token(ctx, "tok-note")
    intercom_api.post(f"https://api.intercom.io/contacts/{CONTACT_ID}/notes", json={"type": "note"})
    payload = initialize_payload(conversation=False, with_context=False)
    send_free_text(client, payload)
    [call] = intercom_api.calls
    body = json.loads(call.request.body)
    assert body["admin_id"] == "814860" and "WhatsApp" in body["body"]


def test_a_message_the_provider_refused_is_never_noted_as_sent(client, ctx, intercom_api):
    install_token(ctx, "tok-note")
    intercom_api.post(NOTE_URL, json={})
    send_free_text(client, channel="sms", person=contact(UNDELIVERABLE))
    [call] = intercom_api.calls  # the agent hears of the failure in the conversation right away
    note = json.loads(call.request.body)["body"]
    assert "⚠️ <b>SMS</b> message to <b>+1 201-555-0125</b> from +1 201-555-0100 was not sent by Herald" in note
    assert "Status: Failed" in note and "The sandbox treats this number as unable" in note
    assert "sent with Herald" not in note


def _cut_off_attempt(ctx, clock):
    """A worker leases the note's row and dies before it can say how its call went."""
    from app.services import writeback

    [row] = writebacks(ctx)
    assert writeback._lease(ctx, row.id) is not None
    clock.advance(seconds=writeback.lease_for(ctx).total_seconds() + 1)
    return row.id


@pytest.mark.parametrize("landed", [True, False])
def test_after_a_cut_off_attempt_the_note_is_looked_for_before_it_is_written_again(client, ctx, clock,
                                                                                   intercom_api, landed):
    from app.services.jobs import DeferredJobs
    from app.services.writeback import attempt

    install_token(ctx, "tok-note")
    ctx.jobs = DeferredJobs(ctx)  # the note is left for a worker, as in production
    panel = send_free_text(client)
    public_id = panel.stored["message"]
    writeback_id = _cut_off_attempt(ctx, clock)
    note = {"type": "conversation_part", "part_type": "note",
            "body": f"<p>📤 WhatsApp message sent</p><p>Herald id {public_id}</p>" if landed else "<p>Other</p>"}
    intercom_api.get("https://api.intercom.io/conversations/147",
                     json={"type": "conversation", "id": "147",
                           "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [note]}})
    intercom_api.post(NOTE_URL, json={"type": "conversation", "id": "147"})
    assert attempt(ctx, writeback_id) == "done"
    posts = [c for c in intercom_api.calls if c.request.method == "POST"]
    assert len(posts) == (0 if landed else 1)  # written exactly once either way


def test_an_attempt_that_finished_is_not_treated_as_cut_off(client, ctx, clock, intercom_api):
    install_token(ctx, "tok-note")
    intercom_api.post(NOTE_URL, status=503, json={"type": "error.list", "errors": [{"code": "x", "message": "y"}]})
    send_free_text(client)
    intercom_api.replace(responses.POST, NOTE_URL, json={"type": "conversation"})
    clock.advance(hours=1)
    assert run_due(ctx) == 1
    assert [c.request.method for c in intercom_api.calls] == ["POST", "POST"]  # no look-up: it was not cut off
