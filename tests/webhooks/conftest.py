"""A workspace with real-provider senders, and requests signed the way each provider signs them.

Signatures are computed here with hmac, hashlib and PyJWT directly (reference/providers.md §1.7.2,
§2.5, §3.2.5), never with Herald's own verifiers.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import uuid
from typing import Any, Mapping
from urllib.parse import urlencode

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from app.services import workspaces as ws
from app.store.models import InboundMessage, Message, MessageEvent, RecipientState, Sender
from tests.providers.docs import load_json

WORKSPACE = "acme"
PUBLIC_BASE = "https://herald.test"  # PUBLIC_BASE_URL in tests/conftest.py

WA_NUMBER, PHONE_NUMBER_ID, WABA_ID = "+14155550100", "106540352242922", "102290129340398"
WA_TOKEN, APP_SECRET, VERIFY_TOKEN = "EAAG-acme-token", "acme-meta-app-secret", "acme-verify-token"
SMS_NUMBER, ACCOUNT_SID, AUTH_TOKEN = "+14155550101", "AC0123456789abcdef0123456789abcdef", "acme-twilio-auth-token"
VIBER_ID, APPLICATION_ID = "AcmeViber", "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
SIGNATURE_SECRET = "acme-vonage-signature-secret-0123456789"
CUSTOMER = "+16505551234"
VIBER_CUSTOMER = "+447911123456"


@pytest.fixture(scope="session")
def vonage_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture
def acme(ctx, vonage_private_key) -> dict[str, int]:
    """The acme workspace's senders, by channel: WhatsApp Cloud, Twilio SMS and Vonage Viber."""
    # The customer is in California, where the test clock reads 07:00; these tests are about providers and
    # webhooks, so quiet hours are off here (tests/domain/test_policy.py covers them).
    ws.create_workspace(ctx, WORKSPACE, settings={"quiet_start": "00:00", "quiet_end": "00:00"})
    senders = {
        "whatsapp": ws.add_sender(ctx, WORKSPACE, "whatsapp", "whatsapp_cloud", WA_NUMBER, {
            "phone_number_id": PHONE_NUMBER_ID, "waba_id": WABA_ID, "access_token": WA_TOKEN,
            "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}),
        "sms": ws.add_sender(ctx, WORKSPACE, "sms", "twilio", SMS_NUMBER, {
            "account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}),
        "viber": ws.add_sender(ctx, WORKSPACE, "viber", "vonage", VIBER_ID, {
            "application_id": APPLICATION_ID, "private_key": vonage_private_key,
            "signature_secret": SIGNATURE_SECRET}),
    }
    return {channel: view.id for channel, view in senders.items()}


@pytest.fixture
def http():
    """The providers' HTTP APIs; a call nobody registered fails the send it belongs to."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def applied(client, response) -> dict[str, Any]:
    """What applying a stored delivery changed (the outcome the worker recorded for its event)."""
    from app.services.webhook_events import outcome_of

    event_id = int(response.headers["X-Herald-Event"])
    outcome = outcome_of(client.application.extensions["herald"], event_id)
    assert outcome is not None, f"event {event_id} was not applied"
    return outcome


# --------------------------------------------------------------------------- signing


def meta_signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def twilio_signature(url: str, fields: Mapping[str, str], token: str = AUTH_TOKEN) -> str:
    text = url + "".join(name + fields[name] for name in sorted(fields))
    return base64.b64encode(hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()).decode()


def vonage_token(body: bytes | None, iat: float, secret: str = SIGNATURE_SECRET, **claims: Any) -> str:
    payload: dict[str, Any] = {"iat": int(iat), "jti": str(uuid.uuid4()), "iss": "Vonage", "api_key": "abcd1234",
                               "application_id": APPLICATION_ID, **claims}
    if body is not None:
        payload["payload_hash"] = hashlib.sha256(body).hexdigest()
    return jwt.encode(payload, secret, algorithm="HS256")


# --------------------------------------------------------------------------- payloads


def whatsapp_inbound(text: str, message_id: str, timestamp: int, customer: str = CUSTOMER,
                     phone_number_id: str = PHONE_NUMBER_ID) -> bytes:
    """Meta's documented inbound text webhook with this message's details."""
    payload = copy.deepcopy(load_json("whatsapp_inbound_text.json"))
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"] = {"display_phone_number": WA_NUMBER[1:], "phone_number_id": phone_number_id}
    value["contacts"][0]["wa_id"] = customer[1:]
    value["messages"][0].update({"from": customer[1:], "id": message_id, "timestamp": str(timestamp),
                                 "text": {"body": text}})
    return json.dumps(payload).encode()


def whatsapp_status(wamid: str, status: str, timestamp: int, reference: str | None = None,
                    error: Mapping[str, Any] | None = None) -> bytes:
    """Meta's documented status webhook, for one message."""
    payload = copy.deepcopy(load_json("whatsapp_status_failed.json"))
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"] = {"display_phone_number": WA_NUMBER[1:], "phone_number_id": PHONE_NUMBER_ID}
    item = value["statuses"][0]
    item.update({"id": wamid, "status": status, "timestamp": str(timestamp), "recipient_id": CUSTOMER[1:]})
    item.pop("biz_opaque_callback_data")
    if reference:
        item["biz_opaque_callback_data"] = reference
    if error is None:
        item.pop("errors")
    else:
        item["errors"] = [dict(error)]
    return json.dumps(payload).encode()


def twilio_inbound(body: str, sid: str, customer: str = CUSTOMER, to: str = SMS_NUMBER) -> dict[str, str]:
    """An inbound SMS webhook with Twilio's documented fields (providers.md §2.4)."""
    return {"ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "",
            "FromZip": "", "SmsSid": sid, "FromState": "CA", "SmsStatus": "received", "FromCity": "",
            "Body": body, "FromCountry": "US", "To": to, "ToZip": "", "NumSegments": "1", "MessageSid": sid,
            "AccountSid": ACCOUNT_SID, "From": customer, "ApiVersion": "2010-04-01"}


def twilio_status(sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    """A status callback with Twilio's documented fields (providers.md §2.3)."""
    fields = {"SmsSid": sid, "SmsStatus": status, "MessageStatus": status, "To": CUSTOMER, "MessageSid": sid,
              "AccountSid": ACCOUNT_SID, "From": SMS_NUMBER, "ApiVersion": "2010-04-01"}
    if error_code:
        fields["ErrorCode"] = error_code
    return fields


def vonage_inbound(text: str, uuid: str, timestamp: str, customer: str = VIBER_CUSTOMER) -> bytes:
    return json.dumps({"channel": "viber_service", "message_uuid": uuid, "to": VIBER_ID, "from": customer[1:],
                       "timestamp": timestamp, "message_type": "text", "text": text}).encode()


def vonage_status(uuid: str, status: str, timestamp: str, reference: str | None = None,
                  error: Mapping[str, Any] | None = None) -> bytes:
    payload = {**load_json("vonage_status_delivered.json"), "message_uuid": uuid, "status": status,
               "timestamp": timestamp, "from": VIBER_ID, "to": VIBER_CUSTOMER[1:]}
    payload.pop("client_ref")
    if reference:
        payload["client_ref"] = reference
    if error:
        payload["error"] = dict(error)
    return json.dumps(payload).encode()


# --------------------------------------------------------------------------- posting


def post_whatsapp(client, body: bytes, secret: str | None = APP_SECRET, signature: str | None = None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not None:
        headers["X-Hub-Signature-256"] = meta_signature(body, secret)
    return client.post("/webhooks/whatsapp", data=body, headers=headers)


def post_twilio(client, fields: Mapping[str, str], token: str | None = AUTH_TOKEN, query: str = "",
                signed_url: str | None = None, body: bytes | None = None):
    url = f"{PUBLIC_BASE}/webhooks/twilio" + (f"?{query}" if query else "")
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if token is not None:
        headers["X-Twilio-Signature"] = twilio_signature(signed_url or url, fields, token)
    path = "/webhooks/twilio" + (f"?{query}" if query else "")
    return client.post(path, data=body if body is not None else urlencode(fields), headers=headers)


def post_vonage(client, body: bytes, token: str | None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.post("/webhooks/vonage", data=body, headers=headers)


# --------------------------------------------------------------------------- reading the store


def state(ctx, sender_id: int, recipient: str) -> RecipientState | None:
    with ctx.store.session() as session:
        return session.scalar(select(RecipientState).where(RecipientState.sender_id == sender_id,
                                                           RecipientState.recipient == recipient))


def inbound_count(ctx) -> int:
    with ctx.store.session() as session:
        return len(list(session.scalars(select(InboundMessage.id).join(Sender).where(Sender.provider != "sandbox"))))


def message(ctx, public_id: str) -> Message:
    with ctx.store.session() as session:
        return session.scalar(select(Message).where(Message.public_id == public_id))


def events(ctx, public_id: str) -> list[str]:
    with ctx.store.session() as session:
        row = session.scalar(select(Message).where(Message.public_id == public_id))
        return [e.status for e in session.scalars(select(MessageEvent).where(MessageEvent.message_id == row.id)
                                                  .order_by(MessageEvent.id))]
