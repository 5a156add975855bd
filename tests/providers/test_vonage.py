"""The Vonage Messages API adapter at the HTTP boundary, with Vonage's documented bodies
(reference/providers.md §3.2, copied into tests/data/providers/)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from responses import matchers

from app.domain import status as st
from app.domain.templates import TemplateSpec
from app.providers import errors as kinds
from app.providers.base import UNKNOWN, Outbound
from app.providers.http import HttpClient
from app.providers.vonage import LABEL, VonageProvider, parse_webhook, problem_code
from tests.providers.docs import load_json

BASE = "https://api.nexmo.test"
MESSAGES_URL = f"{BASE}/v1/messages"
APPLICATION = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
NOW = 1_795_000_000


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def provider() -> VonageProvider:
    return VonageProvider(BASE, HttpClient(LABEL, sleep=lambda _: None), clock=lambda: NOW)


def outbound(private_key: str, **changes) -> Outbound:
    values = dict(channel="viber", to="+447700900000", sender="<VIBER_SENDER_ID>",
                  text="Your appointment is confirmed for 12 Mar 10:00.",
                  options={"application_id": APPLICATION, "viber_ttl": "600"},
                  credentials={"private_key": private_key, "signature_secret": "sig"}, reference="job-42",
                  status_callback="https://api.example.com/vonage/status")
    values.update(changes)
    return Outbound(**values)


def sent_json(call) -> dict:
    return json.loads(call.request.body)


def test_viber_text_is_the_documented_request(http, provider, key_pair) -> None:
    expected = copy.deepcopy(load_json("vonage_viber_text_request.json"))
    del expected["viber_service"]["action"]  # Herald's messages carry no button
    http.post(MESSAGES_URL, status=202, json=load_json("vonage_send_response.json"),
              match=[matchers.json_params_matcher(expected, strict_match=True)])
    accepted = provider.send(outbound(key_pair[0]))
    assert accepted.provider_message_id == "d8f86df1-dec6-442f-870a-2241be27d721"


def test_each_request_carries_an_rs256_token_signed_with_the_private_key(http, provider, key_pair) -> None:
    http.post(MESSAGES_URL, status=202, json=load_json("vonage_send_response.json"))
    provider.send(outbound(key_pair[0]))
    scheme, token = http.calls[0].request.headers["Authorization"].split(" ")
    assert scheme == "Bearer"
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, key_pair[1], algorithms=["RS256"], options={"verify_exp": False})
    assert claims["application_id"] == APPLICATION
    assert claims["iat"] == NOW and claims["exp"] > NOW and claims["jti"]


def test_a_key_pasted_on_one_line_still_signs(http, provider, key_pair) -> None:
    http.post(MESSAGES_URL, status=202, json=load_json("vonage_send_response.json"))
    provider.send(outbound(key_pair[0].replace("\n", "\\n")))
    token = http.calls[0].request.headers["Authorization"].split(" ")[1]
    jwt.decode(token, key_pair[1], algorithms=["RS256"], options={"verify_exp": False})


def test_an_unreadable_key_sends_nothing(http, provider) -> None:
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound("not a key"))
    assert caught.value.code == "private_key_invalid" and len(http.calls) == 0


def test_viber_templates_are_marked_as_templates_with_their_category(http, provider, key_pair) -> None:
    http.post(MESSAGES_URL, status=202, json=load_json("vonage_send_response.json"))
    http.post(MESSAGES_URL, status=202, json=load_json("vonage_send_response.json"))
    notice = TemplateSpec(name="delivery_notice", language="en", channel="viber", category="TRANSACTIONAL",
                          status="APPROVED", body="Hello {{name}}, parcel {{tracking}} arrives today.")
    offer = TemplateSpec(name="loyalty_offer", language="en", channel="viber", category="PROMOTIONAL",
                         status="APPROVED", body="{{name}}, double points this week.")
    provider.send(outbound(key_pair[0], template=notice, params={"name": "Asha", "tracking": "P1"},
                           text="Hello Asha, parcel P1 arrives today."))
    provider.send(outbound(key_pair[0], template=offer, params={"name": "Asha"}, text="Asha, double points."))
    first, second = sent_json(http.calls[0]), sent_json(http.calls[1])
    assert first["viber_service"] == {"category": "transaction", "ttl": 600, "type": "template"}
    assert first["text"] == "Hello Asha, parcel P1 arrives today." and first["message_type"] == "text"
    assert second["viber_service"]["category"] == "promotion"


def test_sms_through_vonage(http, provider, key_pair) -> None:
    http.post(MESSAGES_URL, status=202, json=load_json("vonage_send_response.json"),
              match=[matchers.json_params_matcher({
                  "to": "447911123456", "from": "447700900111", "channel": "sms", "message_type": "text",
                  "text": "Your code is 123456", "client_ref": "msg_1"}, strict_match=True)])
    provider.send(outbound(key_pair[0], channel="sms", to="+447911123456", sender="+447700900111",
                           text="Your code is 123456", reference="msg_1", status_callback=""))


def test_whatsapp_template_through_vonage_carries_metas_template_object(http, provider, key_pair) -> None:
    http.post(MESSAGES_URL, status=202, json=load_json("vonage_send_response.json"))
    spec = TemplateSpec(name="order_shipped", language="en_US", channel="whatsapp", category="UTILITY",
                        status="APPROVED", body="Hi {{1}}")
    provider.send(outbound(key_pair[0], channel="whatsapp", to="+16505551234", sender="+14155550100",
                           template=spec, params={"1": "Asha"}, text="Hi Asha"))
    body = sent_json(http.calls[0])
    assert body["message_type"] == "custom" and body["channel"] == "whatsapp"
    assert body["custom"] == {"type": "template", "template": {
        "name": "order_shipped", "language": {"policy": "deterministic", "code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Asha"}]}]}}


@pytest.mark.parametrize("name, code, kind", [
    ("vonage_error_invalid_params.json", "1150", kinds.CONFIG),
    ("vonage_error_low_balance.json", "low-balance", kinds.ACCOUNT),
])
def test_documented_error_answers(http, provider, key_pair, name, code, kind) -> None:
    http.post(MESSAGES_URL, status=422, json=load_json(name))
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound(key_pair[0]))
    assert (caught.value.code, caught.value.kind) == (code, kind)


@pytest.mark.parametrize("problem, viber, code, kind", [
    ({"type": "https://developer.vonage.com/api-errors/messages#1340", "title": "1340",
      "detail": "SRVC_NOT_VIBER_USER"}, True, "SRVC_NOT_VIBER_USER", kinds.NOT_ON_CHANNEL),
    ({"type": "https://developer.vonage.com/api-errors/messages#1380", "title": "Rejected",
      "detail": "The user is not a Viber user"}, True, "SRVC_NOT_VIBER_USER", kinds.NOT_ON_CHANNEL),
    ({"title": "Rejected", "detail": "The user has blocked the sender"}, True, "SRVC_USER_BLOCKED", kinds.BLOCKED),
    ({"title": "Rejected", "detail": "Wait for user response before sending more"}, True,
     "SRVC_WAIT_FOR_USER_RESPONSE", kinds.SESSION_LIMIT),
    ({"type": "https://developer.vonage.com/api-errors/messages#1050", "title": "Number barred",
      "detail": "Message blocked by the carrier"}, False, "1050", kinds.BLOCKED),
    ({"type": "https://developer.vonage.com/api-errors/messages#1022", "title": "Invalid template"}, True, "1022",
     kinds.TEMPLATE),
])
def test_viber_refusals_in_code_or_in_words(provider, problem, viber, code, kind) -> None:
    found, _ = problem_code(problem, viber=viber)
    assert found == code
    assert provider.map_error(found).kind == kind


def test_a_timeout_leaves_the_outcome_unknown(http, provider, key_pair) -> None:
    http.post(MESSAGES_URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound(key_pair[0]))
    assert caught.value.outcome == UNKNOWN and len(http.calls) == 1


# --------------------------------------------------------------------------- webhooks


def test_documented_status() -> None:
    (event,) = parse_webhook(load_json("vonage_status_delivered.json")).statuses
    assert (event.provider_message_id, event.status, event.reference) == (
        "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", st.DELIVERED, "job-42")
    assert event.occurred_at == datetime(2025, 5, 1, 14, 0, tzinfo=timezone.utc)


def test_rejected_viber_status_explains_why() -> None:
    payload = {**load_json("vonage_status_delivered.json"), "status": "rejected",
               "error": {"type": "https://developer.vonage.com/api-errors/messages#1340", "title": "1340",
                         "detail": "SRVC_NOT_VIBER_USER", "instance": "x"}}
    (event,) = parse_webhook(payload).statuses
    assert (event.status, event.error_code) == (st.FAILED, "SRVC_NOT_VIBER_USER")
    assert "not registered on Viber" in event.error_message


@pytest.mark.parametrize("word, ours", [("submitted", st.SENT), ("read", st.READ), ("undeliverable", st.FAILED)])
def test_status_words(word, ours) -> None:
    (event,) = parse_webhook({**load_json("vonage_status_delivered.json"), "status": word}).statuses
    assert event.status == ours


def test_inbound_viber_message() -> None:
    payload = {"channel": "viber_service", "message_uuid": "aaaaaaaa-0000-cccc-dddd-0123456789ab",
               "to": "AcmeViber", "from": "447911123456", "timestamp": "2026-11-22T14:58:00.000Z",
               "message_type": "text", "text": "Thanks, see you then"}
    (event,) = parse_webhook(payload).inbound
    assert (event.channel, event.customer, event.text) == ("viber", "+447911123456", "Thanks, see you then")
    assert event.ours == frozenset({"id:AcmeViber"})
    assert event.received_at == datetime(2026, 11, 22, 14, 58, tzinfo=timezone.utc)


def test_inbound_sms_with_addresses_as_objects() -> None:
    payload = {"channel": "sms", "message_uuid": "u-1", "to": {"type": "sms", "number": "447700900111"},
               "from": {"type": "sms", "number": "447911123456"}, "message_type": "text", "text": "STOP"}
    (event,) = parse_webhook(payload).inbound
    assert (event.channel, event.customer, event.text) == ("sms", "+447911123456", "STOP")
    assert "number:447700900111" in event.ours


def test_what_is_not_acted_on() -> None:
    assert parse_webhook({"status": "delivered"}).skipped == ["no message_uuid"]
    assert parse_webhook({"message_uuid": "u", "channel": "messenger", "from": "1", "to": "2"}).skipped == [
        "inbound on messenger"]
