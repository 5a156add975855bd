"""POST/GET /webhooks/whatsapp through the Flask test client: Meta's handshake, X-Hub-Signature-256
over the raw body, and what a verified delivery changes (and what a refused one does not)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from app.domain.refusals import Refused
from app.services import workspaces as ws
from app.services.send import SendRequest, send
from tests.providers.docs import load_json
from tests.webhooks.conftest import (applied, APP_SECRET, CUSTOMER, PHONE_NUMBER_ID, VERIFY_TOKEN, WABA_ID, WORKSPACE,
                                     inbound_count,
                                     meta_signature, post_whatsapp, state, whatsapp_inbound, whatsapp_status)


def handshake(client, **query):
    return client.get("/webhooks/whatsapp", query_string=query)


def test_handshake_echoes_the_challenge(client, acme) -> None:
    response = handshake(client, **{"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                    "hub.verify_token": VERIFY_TOKEN})
    assert response.status_code == 200
    assert response.data == b"1158201444" and response.mimetype == "text/plain"


@pytest.mark.parametrize("query", [
    {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": "not-ours"},
    {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
    {"hub.mode": "unsubscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY_TOKEN},
])
def test_handshake_refuses_anything_else(client, acme, query) -> None:
    response = handshake(client, **query)
    assert response.status_code == 403 and b"1158201444" not in response.data


def test_signed_inbound_message_opens_the_window(client, ctx, acme, clock) -> None:
    sent_at = clock() - timedelta(seconds=30)
    response = post_whatsapp(client, whatsapp_inbound("Hi, is my order ready?", "wamid.IN1",
                                                      int(sent_at.timestamp())))
    assert response.status_code == 200
    assert applied(client, response)["inbound_recorded"] == 1
    row = state(ctx, acme["whatsapp"], CUSTOMER)
    assert row.last_inbound_at == sent_at and row.outbound_since_inbound == 0


def test_missing_signature_is_401_and_changes_nothing(client, ctx, acme, clock) -> None:
    response = post_whatsapp(client, whatsapp_inbound("Hi", "wamid.IN1", int(clock().timestamp())), secret=None)
    assert response.status_code == 401
    assert "X-Hub-Signature-256" in response.get_json()["message"]
    assert state(ctx, acme["whatsapp"], CUSTOMER) is None and inbound_count(ctx) == 0


def test_tampered_body_is_403_and_changes_nothing(client, ctx, acme, clock) -> None:
    body = whatsapp_inbound("Hi", "wamid.IN1", int(clock().timestamp()))
    tampered = body.replace(CUSTOMER[1:].encode(), b"16505551235")
    response = post_whatsapp(client, tampered, signature=meta_signature(body))
    assert response.status_code == 403
    assert inbound_count(ctx) == 0


def test_reserialised_json_does_not_verify(client, ctx, acme, clock) -> None:
    body = whatsapp_inbound("Hi", "wamid.IN1", int(clock().timestamp()))
    response = post_whatsapp(client, json.dumps(json.loads(body), indent=1).encode(), signature=meta_signature(body))
    assert response.status_code == 403 and inbound_count(ctx) == 0


def test_wrong_secret_is_403(client, ctx, acme, clock) -> None:
    response = post_whatsapp(client, whatsapp_inbound("Hi", "wamid.IN1", int(clock().timestamp())),
                             secret="someone-elses-secret")
    assert response.status_code == 403 and inbound_count(ctx) == 0


@pytest.mark.parametrize("signature", ["sha1=" + "0" * 40, "sha256=" + "z" * 64, "0" * 64])
def test_malformed_signature_is_403(client, ctx, acme, clock, signature) -> None:
    response = post_whatsapp(client, whatsapp_inbound("Hi", "wamid.IN1", int(clock().timestamp())),
                             signature=signature)
    assert response.status_code == 403 and inbound_count(ctx) == 0


def test_replayed_delivery_is_applied_once(client, ctx, acme, clock) -> None:
    body = whatsapp_inbound("Hi", "wamid.IN1", int(clock().timestamp()) - 60)
    assert applied(client, post_whatsapp(client, body))["inbound_recorded"] == 1
    first = state(ctx, acme["whatsapp"], CUSTOMER).last_inbound_at
    clock.advance(hours=2)
    again = post_whatsapp(client, body)  # byte for byte: recognised before it is stored again
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    # the same message in a batch Meta wrote anew: stored, and its message recognised when applied
    rewrapped = post_whatsapp(client, json.dumps(json.loads(body), indent=1).encode())
    assert rewrapped.get_json()["duplicate"] is False
    assert applied(client, rewrapped)["inbound_duplicate"] == 1 and applied(client, rewrapped)["inbound_recorded"] == 0
    assert inbound_count(ctx) == 1 and state(ctx, acme["whatsapp"], CUSTOMER).last_inbound_at == first


def test_an_unknown_number_is_acknowledged_not_recorded(client, ctx, acme, clock) -> None:
    body = whatsapp_inbound("Hi", "wamid.IN1", int(clock().timestamp()), phone_number_id="999999999")
    response = post_whatsapp(client, body)
    assert response.status_code == 200 and applied(client, response)["inbound_unmatched"] == 1
    assert inbound_count(ctx) == 0


def test_another_apps_secret_cannot_speak_for_this_number(client, ctx, acme, clock) -> None:
    ws.create_workspace(ctx, "globex")
    ws.add_sender(ctx, "globex", "whatsapp", "whatsapp_cloud", "+14155550199",
                  {"phone_number_id": "555000111", "access_token": "t", "app_secret": "globex-secret"})
    body = whatsapp_inbound("Hi", "wamid.IN1", int(clock().timestamp()), phone_number_id=PHONE_NUMBER_ID)
    response = post_whatsapp(client, body, secret="globex-secret")
    assert response.status_code == 200 and applied(client, response)["inbound_unmatched"] == 1
    assert state(ctx, acme["whatsapp"], CUSTOMER) is None


def test_a_status_for_an_unknown_message_is_acknowledged(client, ctx, acme, clock) -> None:
    response = post_whatsapp(client, whatsapp_status("wamid.NOT-OURS", "delivered", int(clock().timestamp())))
    assert response.status_code == 200 and applied(client, response)["statuses_unknown"] == 1


def test_without_a_whatsapp_sender_nothing_verifies(client, ctx, clock) -> None:
    response = post_whatsapp(client, whatsapp_inbound("Hi", "wamid.IN1", int(clock().timestamp())),
                             secret=APP_SECRET)
    assert response.status_code == 403


def test_a_verified_body_that_is_not_json_is_400(client, acme) -> None:
    body = b"not json"
    assert post_whatsapp(client, body).status_code == 400


# --------------------------------------------------------------------------- template reviews


def template_event(event: str, at: datetime, name: str = "order_confirmation", language: str = "en-US",
                   account: str = WABA_ID) -> bytes:
    payload = load_json("whatsapp_template_status_update.json")
    payload["entry"][0].update(id=account, time=int(at.timestamp()))
    value = payload["entry"][0]["changes"][0]["value"]
    value.update(event=event, message_template_name=name, message_template_language=language)
    return json.dumps(payload).encode()


def template_status(ctx, workspace: str = WORKSPACE, name: str = "order_confirmation") -> str:
    return next(t.status for t in ws.list_templates(ctx, workspace, "whatsapp") if t.name == name)


def confirmation_template(ctx, workspace: str = WORKSPACE) -> None:
    ws.add_template(ctx, workspace, "whatsapp", "order_confirmation", "en_US", "Order {{1}} is confirmed.", "UTILITY")


def test_a_paused_template_stops_being_sendable_until_meta_reinstates_it(client, ctx, acme, http, clock) -> None:
    confirmation_template(ctx)
    response = post_whatsapp(client, template_event("PAUSED", clock()))
    assert response.status_code == 200 and applied(client, response)["templates_updated"] == 1
    assert template_status(ctx) == "PAUSED"
    with pytest.raises(Refused) as refused:
        send(ctx, SendRequest(workspace=WORKSPACE, channel="whatsapp", to=CUSTOMER, template="order_confirmation",
                              params=["A-17"], purpose="confirmation"))
    assert refused.value.code == "template_not_approved" and "paused" in refused.value.reasons[0].message
    assert len(http.calls) == 0

    post_whatsapp(client, template_event("REINSTATED", clock()))
    assert template_status(ctx) == "APPROVED"


def test_a_late_redelivered_event_does_not_undo_a_newer_change(client, ctx, acme, clock) -> None:
    confirmation_template(ctx)
    paused_at = clock.advance(hours=1)  # Meta paused it, but that delivery did not get through
    clock.advance(hours=3)
    post_whatsapp(client, template_event("REINSTATED", clock()))
    body = applied(client, post_whatsapp(client, template_event("PAUSED", paused_at)))  # Meta's retry, late
    assert template_status(ctx) == "APPROVED" and "older than its last change" in body["skipped"][0]
    assert body["templates_updated"] == 0 and body["templates_unknown"] == 0


def test_an_event_that_does_not_change_sendability_is_acknowledged_and_noted(client, ctx, acme, clock) -> None:
    confirmation_template(ctx)
    body = applied(client, post_whatsapp(client, template_event("FLAGGED", clock())))
    assert body["templates_updated"] == 0 and body["skipped"] == ["template order_confirmation (en-US): FLAGGED"]
    assert template_status(ctx) == "APPROVED"


def test_a_template_event_reaches_only_workspaces_on_that_business_account(client, ctx, acme, clock) -> None:
    ws.create_workspace(ctx, "globex")
    ws.add_sender(ctx, "globex", "whatsapp", "whatsapp_cloud", "+14155550199", {
        "phone_number_id": "999", "waba_id": "555000111", "access_token": "t", "app_secret": APP_SECRET})
    confirmation_template(ctx)
    confirmation_template(ctx, "globex")
    body = applied(client, post_whatsapp(client, template_event("DISABLED", clock(), account="555000111")))
    assert body["templates_updated"] == 1
    assert (template_status(ctx), template_status(ctx, "globex")) == ("APPROVED", "DISABLED")
    unknown = applied(client, post_whatsapp(client, template_event("DISABLED", clock(), name="never_heard_of")))
    assert unknown["templates_unknown"] == 1


def test_an_unsigned_template_event_changes_nothing(client, ctx, acme, clock) -> None:
    confirmation_template(ctx)
    assert post_whatsapp(client, template_event("DISABLED", clock()), secret=None).status_code == 401
    assert post_whatsapp(client, template_event("DISABLED", clock()), secret="not-the-secret").status_code == 403
    assert template_status(ctx) == "APPROVED"
