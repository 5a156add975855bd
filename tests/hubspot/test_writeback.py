"""After a send from the compose page, the message is recorded on the HubSpot contact: a Communication
for WhatsApp and SMS (association type 81), a note for Viber (202). A failed write-back never fails the
send; it is recorded and retried. HubSpot's API is faked with ``responses``; payloads follow its docs."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import responses
from sqlalchemy import select

from app.services.writeback import run_due
from app.store.models import Message, Writeback

from .common import ACME_ACCESS, ACME_PORTAL, ACME_REFRESH, API, compose_path, expect_contact, form_fields

COMMUNICATIONS = f"{API}/crm/v3/objects/communications"
NOTES = f"{API}/crm/v3/objects/notes"


def created(object_id: str, **properties) -> dict:
    """HubSpot's answer to a create: the new object with its id."""
    return {"id": object_id, "properties": {"hs_object_id": object_id, **properties},
            "createdAt": "2026-11-22T15:00:00.120Z", "updatedAt": "2026-11-22T15:00:00.120Z", "archived": False}


def send_from_page(client, clock, hubspot_api, contact: str = "201", query: str = "", **data):
    expect_contact(hubspot_api, contact)
    page = client.get(compose_path(client, clock, portal=ACME_PORTAL, contact=contact) + query)
    assert page.status_code == 200, page.get_data(as_text=True)
    response = client.post("/hubspot/compose", data={**form_fields(page.get_data(as_text=True)), "op": "send",
                                                     **data})
    assert "<h1>Message sent</h1>" in response.get_data(as_text=True), response.get_data(as_text=True)
    return response


def writebacks(ctx) -> list[Writeback]:
    with ctx.store.session() as session:
        return list(session.scalars(select(Writeback).order_by(Writeback.id)))


def test_whatsapp_send_becomes_a_communication(acme, client, clock, hubspot_api) -> None:
    call = hubspot_api.add(responses.POST, COMMUNICATIONS, status=201,
                           json=created("12021896773", hs_communication_channel_type="WHATS_APP"))
    send_from_page(client, clock, hubspot_api, channel="whatsapp", template="order_shipped:en_US",
                   **{"p.1": "Grace", "p.2": "A-7"})
    request = call.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {ACME_ACCESS}"
    assert json.loads(request.body) == {
        "properties": {"hs_communication_channel_type": "WHATS_APP", "hs_communication_logged_from": "CRM",
                       "hs_communication_body": "Hi Grace, your order A-7 has shipped.",
                       "hs_timestamp": "2026-11-22T15:00:00.000Z"},
        "associations": [{"to": {"id": "201"},
                          "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 81}]}]}
    [row] = writebacks(acme)
    assert (row.status, row.attempts, row.host) == ("done", 1, "hubspot")
    assert row.target == {"host": "hubspot", "portal_id": ACME_PORTAL, "contact_id": "201",
                          "hubspot_object_type": "communications", "hubspot_object_id": "12021896773"}


def test_sms_send_is_an_sms_communication(acme, client, clock, hubspot_api) -> None:
    call = hubspot_api.add(responses.POST, COMMUNICATIONS, status=201, json=created("12021896774"))
    send_from_page(client, clock, hubspot_api, query="&channel=sms", channel="sms", template="",
                   text="Your engineer arrives at 10:00.")
    body = json.loads(call.calls[0].request.body)
    assert body["properties"]["hs_communication_channel_type"] == "SMS"
    assert body["properties"]["hs_communication_body"] == "Your engineer arrives at 10:00."
    assert body["associations"][0]["types"][0]["associationTypeId"] == 81


def test_viber_send_becomes_a_note(acme, client, clock, hubspot_api) -> None:
    call = hubspot_api.add(responses.POST, NOTES, status=201, json=created("9087"))
    send_from_page(client, clock, hubspot_api, query="&channel=viber", channel="viber",
                   template="delivery_notice:en", **{"p.name": "Grace <3", "p.tracking": "ZX-1"})
    body = json.loads(call.calls[0].request.body)
    assert body["associations"] == [{"to": {"id": "201"}, "types": [
        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]
    assert body["properties"]["hs_timestamp"] == "2026-11-22T15:00:00.000Z"
    note = body["properties"]["hs_note_body"]
    assert note.startswith("<p><strong>Viber message</strong> sent with Herald to +1 201-555-0177")
    assert "Hello Grace &lt;3, your parcel ZX-1 arrives today." in note
    assert writebacks(acme)[0].target["hubspot_object_type"] == "notes"


def test_failed_write_back_never_fails_the_send_and_is_retried(acme, client, clock, hubspot_api) -> None:
    hubspot_api.add(responses.POST, COMMUNICATIONS, status=500,
                    json={"status": "error", "message": "internal error", "category": "INTERNAL_ERROR"})
    send_from_page(client, clock, hubspot_api, query="&channel=sms", channel="sms", template="",
                   text="Your refund was approved.")
    with acme.store.session() as session:
        assert session.scalar(select(Message.status)) == "accepted"
    [row] = writebacks(acme)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "HTTP 500" in row.last_error and "internal error" in row.last_error
    assert ACME_ACCESS not in row.last_error

    # Forty minutes later HubSpot is back, and the access token has expired: the retry renews it first.
    hubspot_api.replace(responses.POST, COMMUNICATIONS, status=201, json=created("12021896775"))
    refresh = hubspot_api.add(responses.POST, f"{API}/oauth/2026-03/token",
                              json={"token_type": "bearer", "refresh_token": ACME_REFRESH,
                                    "access_token": "acme-access-token-2", "expires_in": 1800})
    clock.advance(minutes=40)
    assert run_due(acme) == 1
    assert parse_qs(refresh.calls[0].request.body)["grant_type"] == ["refresh_token"]
    last = hubspot_api.calls[-1].request
    assert (last.url, last.headers["Authorization"]) == (COMMUNICATIONS, "Bearer acme-access-token-2")
    [row] = writebacks(acme)
    assert (row.status, row.attempts, row.last_error) == ("done", 2, None)
    assert row.target["hubspot_object_id"] == "12021896775"


def test_demo_portal_sends_write_nothing_back(ctx, client, clock, hubspot_api) -> None:
    page = client.get(compose_path(client, clock, contact="101") + "&channel=sms")
    client.post("/hubspot/compose", data={**form_fields(page.get_data(as_text=True)), "op": "send",
                                          "channel": "sms", "template": "", "text": "Hello from the demo."})
    assert writebacks(ctx) == []
    assert len(hubspot_api.calls) == 0


def test_text_is_escaped_in_the_communication_body(acme, client, clock, hubspot_api) -> None:
    call = hubspot_api.add(responses.POST, COMMUNICATIONS, status=201, json=created("12021896790"))
    send_from_page(client, clock, hubspot_api, query="&channel=sms", channel="sms", template="",
                   text="Your code <b>A&B</b> is ready.")
    body = json.loads(call.calls[0].request.body)
    assert body["properties"]["hs_communication_body"] == "Your code &lt;b&gt;A&amp;B&lt;/b&gt; is ready."


def test_a_message_that_was_not_sent_is_not_recorded_as_sent(acme, clock, hubspot_api) -> None:
    from app.services.send import SendRequest, send
    from app.services.workspaces import add_sender

    add_sender(acme, "acme", "sms", "sandbox", "+12015550101", {"undeliverable": "+12015550125"})
    result = send(acme, SendRequest(workspace="acme", channel="sms", to="+12015550125", sender="+12015550101",
                                    text="Your engineer arrives at 10:00.", purpose="appointment",
                                    writeback={"host": "hubspot", "portal_id": ACME_PORTAL, "contact_id": "201"}))
    assert result.message["status"] == "failed"
    assert len(hubspot_api.calls) == 0
    [row] = writebacks(acme)
    assert row.status == "done" and row.target["skipped"] == "the message was not sent"
