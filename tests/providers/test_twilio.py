"""The Twilio adapter at the HTTP boundary, with Twilio's documented forms and bodies
(reference/providers.md §2, copied into tests/data/providers/)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl

import pytest
import requests
import responses
from responses import matchers

from app.domain import status as st
from app.domain.templates import Currency, TemplateSpec
from app.providers import errors as kinds
from app.providers.base import FAILED, UNKNOWN, Outbound
from app.providers.http import HttpClient
from app.providers.twilio import LABEL, TwilioProvider, parse_webhook
from tests.providers.docs import load_json, load_text

BASE = "https://api.twilio.test"
ACCOUNT = "ACxxxxxxxx"
TOKEN = "twilio-auth-token"
MESSAGES_URL = f"{BASE}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
BASIC = "Basic " + base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def provider() -> TwilioProvider:
    return TwilioProvider(BASE, HttpClient(LABEL, sleep=lambda _: None))


def outbound(**changes) -> Outbound:
    values = dict(channel="sms", to="+15558675310", sender="+15017122661", text="Your code is 123456",
                  options={"account_sid": ACCOUNT}, credentials={"auth_token": TOKEN})
    values.update(changes)
    return Outbound(**values)


def documented_form(name: str, encoded: bool = True) -> dict[str, str]:
    """The documented form; Twilio's WhatsApp example is written unencoded (a + is a plus)."""
    text = load_text(name)
    if encoded:
        return dict(parse_qsl(text, keep_blank_values=True))
    return dict(pair.split("=", 1) for pair in text.split("&"))


def sent_form(call) -> dict[str, str]:
    return dict(parse_qsl(call.request.body, keep_blank_values=True))


SHIPPED = TemplateSpec(name="order_shipped", language="en", channel="whatsapp", category="UTILITY",
                       status="APPROVED", body="Hi {{1}}, your order has shipped.")


def test_sms_through_a_messaging_service_is_the_documented_request(http, provider) -> None:
    http.post(MESSAGES_URL, status=201, json=load_json("twilio_message_201.json"),
              match=[matchers.urlencoded_params_matcher(documented_form("twilio_sms_request.txt")),
                     matchers.header_matcher({"Authorization": BASIC})])
    accepted = provider.send(outbound(options={"account_sid": ACCOUNT, "messaging_service_sid": "MGxxxxxxxx"},
                                      status_callback="https://api.example.com/twilio/status"))
    assert accepted.provider_message_id == "SM304417148af644198a0efaceebc965a5"
    assert accepted.status == "accepted" and accepted.detail == {"status": "queued", "num_segments": "1"}


def test_whatsapp_content_template_is_the_documented_request(http, provider) -> None:
    http.post(MESSAGES_URL, status=201, json=load_json("twilio_message_201.json"),
              match=[matchers.urlencoded_params_matcher(
                  documented_form("twilio_whatsapp_template_request.txt", encoded=False))])
    provider.send(outbound(channel="whatsapp", to="+15551234567", sender="+15557654321", template=SHIPPED,
                           params={"1": "Asha"},
                           options={"account_sid": ACCOUNT, "content_sid.order_shipped": "HXxxxxxxxx"}))


def test_from_number_and_a_status_callback_that_names_our_message(http, provider) -> None:
    http.post(MESSAGES_URL, status=201, json=load_json("twilio_message_201.json"))
    provider.send(outbound(reference="msg_ab12", status_callback="https://herald.example/webhooks/twilio"))
    assert sent_form(http.calls[0]) == {
        "To": "+15558675310", "From": "+15017122661", "Body": "Your code is 123456",
        "StatusCallback": "https://herald.example/webhooks/twilio?ref=msg_ab12"}
    assert http.calls[0].request.req_kwargs["timeout"] == (3.05, 10.0)


def test_language_specific_content_template_wins_and_typed_values_go_as_text(http, provider) -> None:
    http.post(MESSAGES_URL, status=201, json=load_json("twilio_message_201.json"))
    spec = TemplateSpec(name="receipt", language="es", channel="whatsapp", category="UTILITY", status="APPROVED",
                        body="{{1}} {{2}}", header_format="TEXT", header_text="Pedido {{order}}")
    provider.send(outbound(channel="whatsapp", template=spec,
                           params={"1": "Asha", "2": Currency("$5.00", "USD", 5000), "header.order": "A-7"},
                           options={"account_sid": ACCOUNT, "content_sid.receipt": "HXgeneric",
                                    "content_sid.receipt.es": "HXspanish"}))
    form = sent_form(http.calls[0])
    assert form["ContentSid"] == "HXspanish"
    assert form["ContentVariables"] == '{"1":"Asha","2":"$5.00","order":"A-7"}'
    assert "Body" not in form


def test_whatsapp_template_without_a_content_template_sends_nothing(http, provider) -> None:
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound(channel="whatsapp", template=SHIPPED, params={"1": "Asha"}))
    assert caught.value.kind == kinds.TEMPLATE and "content_sid.order_shipped" in caught.value.action
    assert len(http.calls) == 0


def test_sms_template_without_a_content_template_sends_its_text(http, provider) -> None:
    http.post(MESSAGES_URL, status=201, json=load_json("twilio_message_201.json"))
    spec = TemplateSpec(name="callback", language="en", channel="sms", category="UTILITY", status="APPROVED",
                        body="Hi {{1}}")
    provider.send(outbound(template=spec, params={"1": "Asha"}, text="Hi Asha"))
    assert sent_form(http.calls[0])["Body"] == "Hi Asha"


def test_documented_invalid_number_answer(http, provider) -> None:
    http.post(MESSAGES_URL, status=400, json=load_json("twilio_error_21211.json"))
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound())
    assert (caught.value.code, caught.value.kind, caught.value.outcome) == ("21211", kinds.RECIPIENT_INVALID, FAILED)
    assert "not a valid phone number" in caught.value.provider_message


@pytest.mark.parametrize("code, kind, retryable", [
    ("21211", kinds.RECIPIENT_INVALID, False), ("21408", kinds.CONFIG, False), ("21610", kinds.OPTED_OUT, False),
    ("30003", kinds.UNDELIVERABLE, True), ("30004", kinds.BLOCKED, False), ("30005", kinds.RECIPIENT_INVALID, False),
    ("30006", kinds.UNDELIVERABLE, False), ("30007", kinds.BLOCKED, False), ("30008", kinds.UNDELIVERABLE, True),
    ("63016", kinds.WINDOW_CLOSED, False), ("20429", kinds.RATE_LIMITED, True),
])
def test_twilio_codes_are_typed(provider, code, kind, retryable) -> None:
    error = provider.map_error(code)
    assert (error.kind, error.retryable) == (kind, retryable)
    assert error.explanation and error.action


def test_concurrency_limit_is_retryable_and_not_resent(http, provider) -> None:
    http.post(MESSAGES_URL, status=429, json={"code": 20429, "message": "Too Many Requests",
                                              "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429})
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound())
    assert caught.value.retryable and caught.value.outcome == FAILED
    assert len(http.calls) == 1


def test_a_timeout_leaves_the_outcome_unknown(http, provider) -> None:
    http.post(MESSAGES_URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound())
    assert caught.value.outcome == UNKNOWN
    assert len(http.calls) == 1


def test_missing_credentials_send_nothing(http, provider) -> None:
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound(options={}, credentials={}))
    assert "account_sid" in caught.value.explanation and "auth_token" in caught.value.explanation


# --------------------------------------------------------------------------- webhooks


INBOUND = {"MessageSid": "SM1a2b", "SmsSid": "SM1a2b", "SmsMessageSid": "SM1a2b", "AccountSid": ACCOUNT,
           "MessagingServiceSid": "", "From": "+15558675310", "To": "+15017122661", "Body": "STOP",
           "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01",
           "FromCountry": "US", "ToCountry": "US"}


def test_inbound_sms() -> None:
    (event,) = parse_webhook(INBOUND).inbound
    assert (event.channel, event.customer, event.text, event.provider_message_id, event.account) == (
        "sms", "+15558675310", "STOP", "SM1a2b", ACCOUNT)
    assert event.ours == frozenset({"number:15017122661"})


def test_inbound_whatsapp_through_twilio() -> None:
    fields = {**INBOUND, "From": "whatsapp:+15558675310", "To": "whatsapp:+15017122661", "Body": "Hello",
              "ProfileName": "Asha", "WaId": "15558675310"}
    (event,) = parse_webhook(fields).inbound
    assert (event.channel, event.customer) == ("whatsapp", "+15558675310")


def test_status_callback_with_error_and_our_reference() -> None:
    fields = {"MessageSid": "SM9", "SmsSid": "SM9", "MessageStatus": "undelivered", "SmsStatus": "undelivered",
              "ErrorCode": "30003", "AccountSid": ACCOUNT, "From": "+15017122661", "To": "+15558675310",
              "ApiVersion": "2010-04-01", "RawDlrDoneDate": "2511221505"}
    (event,) = parse_webhook(fields, {"ref": "msg_77"}).statuses
    assert (event.status, event.provider_status, event.error_code, event.reference) == (
        st.FAILED, "undelivered", "30003", "msg_77")
    assert "unreachable" in event.error_message


@pytest.mark.parametrize("word, ours", [("sent", st.SENT), ("delivered", st.DELIVERED), ("read", st.READ),
                                        ("failed", st.FAILED), ("sending", st.ACCEPTED)])
def test_status_words(word, ours) -> None:
    (event,) = parse_webhook({"MessageSid": "SM9", "MessageStatus": word}).statuses
    assert event.status == ours and event.error_code is None


def test_what_is_not_acted_on() -> None:
    assert parse_webhook({"MessageStatus": "sent"}).skipped == ["no MessageSid"]
    assert parse_webhook({"MessageSid": "SM1", "MessageStatus": "teleported"}).skipped == ["status teleported"]
