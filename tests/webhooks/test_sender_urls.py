"""Per-sender webhook URLs (/webhooks/<provider>/<sender id>): a delivery there is verified with that
sender's secret alone, so its cost does not grow with the number of tenants; the shared URLs still work."""

from __future__ import annotations

from urllib.parse import urlencode

from sqlalchemy import select

from app.services import workspaces as ws
from app.store.models import WebhookEvent
from tests.webhooks.conftest import (APP_SECRET, AUTH_TOKEN, CUSTOMER, PUBLIC_BASE, SIGNATURE_SECRET, SMS_NUMBER,
                                     VERIFY_TOKEN, applied, inbound_count, meta_signature, post_twilio, post_vonage,
                                     twilio_inbound, twilio_signature, vonage_inbound, vonage_token,
                                     whatsapp_inbound)

OTHER_TOKEN = "globex-twilio-auth-token"


def twilio_at(client, path: str, fields, token: str = AUTH_TOKEN, signed_path: str | None = None):
    signature = twilio_signature(f"{PUBLIC_BASE}{signed_path or path}", fields, token)
    return client.post(path, data=urlencode(fields), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})


def stored_senders(ctx, response) -> list[int]:
    with ctx.store.session() as session:
        return list(session.scalar(select(WebhookEvent.sender_ids)
                                   .where(WebhookEvent.id == int(response.headers["X-Herald-Event"]))))


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_twilio_inbound_at_the_senders_url_is_verified_with_its_token(client, ctx, acme) -> None:
    path = f"/webhooks/twilio/{acme['sms']}"
    response = twilio_at(client, path, twilio_inbound("Where is my parcel?", "SM0101"))
    assert response.status_code == 200, response.data
    assert applied(client, response)["inbound_recorded"] == 1
    assert stored_senders(ctx, response) == [acme["sms"]]


def test_another_tenants_secret_does_not_verify_at_this_senders_url(client, ctx, acme) -> None:
    ws.create_workspace(ctx, "globex")
    other = ws.add_sender(ctx, "globex", "sms", "twilio", "+14155550199",
                          {"account_sid": "AC99", "auth_token": OTHER_TOKEN}).id
    fields = twilio_inbound("Hi", "SM0102")
    # signed with acme's token: the shared URL accepts it (acme's secret verifies), globex's URL does not
    refused = twilio_at(client, f"/webhooks/twilio/{other}", fields)
    assert refused.status_code == 403 and inbound_count(ctx) == 0
    accepted = twilio_at(client, f"/webhooks/twilio/{other}", fields, token=OTHER_TOKEN)
    assert accepted.status_code == 200 and stored_senders(ctx, accepted) == [other]


def test_a_tenant_sharing_the_secret_elsewhere_is_not_in_the_event(client, ctx, acme) -> None:
    """The shared URL records every sender whose secret verifies; the sender's URL only its workspace's."""
    ws.create_workspace(ctx, "globex")
    twin = ws.add_sender(ctx, "globex", "sms", "twilio", "+14155550199",
                         {"account_sid": "AC99", "auth_token": AUTH_TOKEN}).id
    shared = post_twilio(client, twilio_inbound("One", "SM0103"))
    assert sorted(stored_senders(ctx, shared)) == sorted([acme["sms"], twin])
    own = twilio_at(client, f"/webhooks/twilio/{acme['sms']}", twilio_inbound("Two", "SM0104"))
    assert stored_senders(ctx, own) == [acme["sms"]]


def test_senders_of_the_workspace_holding_the_same_secret_are_in_the_event(client, ctx, acme) -> None:
    """One Twilio account serves several numbers: a delivery for any of them verifies for all."""
    sibling = ws.add_sender(ctx, "acme", "sms", "twilio", "+14155550102",
                            {"account_sid": "AC0123456789abcdef0123456789abcdef", "auth_token": AUTH_TOKEN}).id
    response = twilio_at(client, f"/webhooks/twilio/{acme['sms']}",
                         twilio_inbound("To the second number", "SM0105", to="+14155550102"))
    assert sorted(stored_senders(ctx, response)) == sorted([acme["sms"], sibling])
    assert applied(client, response)["inbound_recorded"] == 1


def test_an_unknown_or_wrong_provider_sender_is_refused_without_a_500(client, ctx, acme) -> None:
    fields = twilio_inbound("Hi", "SM0106")
    for sender_id in (acme["sms"] + 1000, 10**30, acme["whatsapp"], 0):
        response = twilio_at(client, f"/webhooks/twilio/{sender_id}", fields)
        assert response.status_code in (403, 404), (sender_id, response.status_code)
        if response.status_code == 403:
            assert "signature" in response.get_json()["message"]
    assert inbound_count(ctx) == 0


def test_a_missing_signature_is_401_at_the_senders_url(client, ctx, acme) -> None:
    response = client.post(f"/webhooks/twilio/{acme['sms']}", data=urlencode(twilio_inbound("Hi", "SM0107")),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 401 and inbound_count(ctx) == 0


def test_a_signature_over_the_shared_url_does_not_verify_at_the_senders_url(client, ctx, acme) -> None:
    response = twilio_at(client, f"/webhooks/twilio/{acme['sms']}", twilio_inbound("Hi", "SM0108"),
                         signed_path="/webhooks/twilio")
    assert response.status_code == 403 and inbound_count(ctx) == 0


def test_whatsapp_at_the_senders_url(client, ctx, acme, clock) -> None:
    path = f"/webhooks/whatsapp/{acme['whatsapp']}"
    challenge = client.get(path, query_string={"hub.mode": "subscribe", "hub.challenge": "42",
                                               "hub.verify_token": VERIFY_TOKEN})
    assert challenge.status_code == 200 and challenge.data == b"42"
    wrong = client.get(f"/webhooks/whatsapp/{acme['sms']}", query_string={
        "hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": VERIFY_TOKEN})
    assert wrong.status_code == 403 and b"42" not in wrong.data
    body = whatsapp_inbound("Hello", "wamid.per-sender-1", int(clock().timestamp()) - 5)
    forged = client.post(path, data=body, headers={"Content-Type": "application/json",
                                                   "X-Hub-Signature-256": meta_signature(body, "not-the-secret")})
    assert forged.status_code == 403 and inbound_count(ctx) == 0
    response = client.post(path, data=body, headers={"Content-Type": "application/json",
                                                     "X-Hub-Signature-256": meta_signature(body, APP_SECRET)})
    assert response.status_code == 200 and applied(client, response)["inbound_recorded"] == 1
    assert stored_senders(ctx, response) == [acme["whatsapp"]]


def test_vonage_at_the_senders_url_spends_its_token_once(client, ctx, acme, clock) -> None:
    path = f"/webhooks/vonage/{acme['viber']}"
    body = vonage_inbound("Thanks", "bbbbbbbb-0000-cccc-dddd-0123456789ab", iso(clock()))
    token = vonage_token(body, clock().timestamp())
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    response = client.post(path, data=body, headers=headers)
    assert response.status_code == 200 and applied(client, response)["inbound_recorded"] == 1
    assert stored_senders(ctx, response) == [acme["viber"]]
    assert client.post(path, data=body, headers=headers).status_code == 403
    assert post_vonage(client, body, token).status_code == 403  # the shared URL knows it was spent too
    other = vonage_token(body, clock().timestamp(), secret="not-" + SIGNATURE_SECRET)
    assert client.post(path, data=body, headers={**headers, "Authorization": f"Bearer {other}"}).status_code == 403


def test_the_cli_prints_each_senders_webhook_url(client, ctx, acme) -> None:
    runner = client.application.test_cli_runner()
    listed = runner.invoke(args=["sender", "list", "acme"]).output
    for provider, channel in (("whatsapp", "whatsapp"), ("twilio", "sms"), ("vonage", "viber")):
        assert f"webhook URL: {PUBLIC_BASE}/webhooks/{provider}/{acme[channel]}\n" in listed
    added = runner.invoke(args=["sender", "add", "acme", "--channel", "sms", "--provider", "twilio",
                                "--from", "+14155550177", "--option", "auth_token=t0k3n"])
    assert added.exit_code == 0, added.output
    new_id = ws.list_senders(ctx, "acme")[-1].id
    assert f"webhook URL: {PUBLIC_BASE}/webhooks/twilio/{new_id}" in added.output and "t0k3n" not in added.output
    assert SMS_NUMBER in listed and CUSTOMER not in listed
