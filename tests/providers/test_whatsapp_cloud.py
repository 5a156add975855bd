"""The WhatsApp Cloud API adapter at the HTTP boundary, with Meta's documented bodies
(reference/providers.md §1, copied into tests/data/providers/)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
import requests
import responses
from responses import matchers
from urllib3.exceptions import MaxRetryError, NewConnectionError

from app.domain import status as st
from app.domain.templates import Button, Currency, DateTimeValue, TemplateSpec
from app.providers import errors as kinds
from app.providers.base import FAILED, UNKNOWN, Outbound
from app.providers.events import TemplateEvent
from app.providers.http import HttpClient
from app.providers.whatsapp_cloud import (LABEL, TEMPLATE_FIELDS, WhatsAppCloudProvider, next_cursor,
                                          parse_template, parse_webhook, template_components)
from tests.providers.docs import load_json

BASE = "https://graph.facebook.test/v23.0"
PHONE_NUMBER_ID = "106540352242922"
MESSAGES_URL = f"{BASE}/{PHONE_NUMBER_ID}/messages"
TOKEN = "EAAG-test-token"
WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCOTY3NDc0NDFDRUI3NTA0Q0UA"


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def provider() -> WhatsAppCloudProvider:
    return WhatsAppCloudProvider(BASE, HttpClient(LABEL, (1.5, 4.0), sleep=lambda _: None))


def outbound(**changes) -> Outbound:
    values = dict(channel="whatsapp", to="+16505551234", sender="+14155550100",
                  text="Your order #12345 has shipped.", options={"phone_number_id": PHONE_NUMBER_ID},
                  credentials={"access_token": TOKEN})
    values.update(changes)
    return Outbound(**values)


def shipped_template(**changes) -> TemplateSpec:
    values = dict(name="order_shipped", language="en_US", channel="whatsapp", category="UTILITY", status="APPROVED",
                  body="Hi {{1}}, your order of {{2}} ships on {{3}}.", header_format="IMAGE",
                  buttons=(Button("URL", "Track", "https://x.example/t/{{1}}"),
                           Button("QUICK_REPLY", "Stop promotions")))
    values.update(changes)
    return TemplateSpec(**values)


SHIPPED_PARAMS = {"header.media": "https://example.com/box.jpg", "1": "Asha",
                  "2": Currency("$100.99", "USD", 100990), "3": DateTimeValue("February 25, 1977"),
                  "button0.1": "ORD-9271"}


def sent_json(call) -> dict:
    return json.loads(call.request.body)


# --------------------------------------------------------------------------- free text


def test_free_text_is_the_documented_request_and_records_the_wamid(http, provider) -> None:
    http.post(MESSAGES_URL, json=load_json("whatsapp_send_response.json"),
              match=[matchers.json_params_matcher(load_json("whatsapp_text_request.json"), strict_match=True),
                     matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})])
    accepted = provider.send(outbound())
    assert accepted.provider_message_id == WAMID
    assert accepted.status == "accepted"
    assert accepted.detail == {"message_status": "accepted", "wa_id": "16505551234"}


def test_our_message_id_rides_along_as_biz_opaque_callback_data(http, provider) -> None:
    expected = {**load_json("whatsapp_text_request.json"), "biz_opaque_callback_data": "msg_0123"}
    http.post(MESSAGES_URL, json=load_json("whatsapp_send_response.json"),
              match=[matchers.json_params_matcher(expected, strict_match=True)])
    provider.send(outbound(reference="msg_0123"))


def test_a_link_in_the_text_asks_for_a_preview(http, provider) -> None:
    http.post(MESSAGES_URL, json=load_json("whatsapp_send_response.json"))
    provider.send(outbound(text="Track it at https://x.example/t/1"))
    assert sent_json(http.calls[0])["text"]["preview_url"] is True


def test_timeouts_come_from_the_configuration(http) -> None:
    config = SimpleNamespace(whatsapp_api_base=BASE + "/", provider_timeout=(2.5, 7.0))
    adapter = WhatsAppCloudProvider.from_config(config)
    http.post(MESSAGES_URL, json=load_json("whatsapp_send_response.json"))
    adapter.send(outbound())
    assert http.calls[0].request.req_kwargs["timeout"] == (2.5, 7.0)


def test_one_pooled_session_without_hidden_retries(provider) -> None:
    adapter = provider.http.session.get_adapter(MESSAGES_URL)
    assert adapter.max_retries.total == 0
    assert adapter._pool_maxsize == 10


# --------------------------------------------------------------------------- templates


def test_positional_template_is_the_documented_request(http, provider) -> None:
    documented = load_json("whatsapp_template_request.json")
    expected = copy.deepcopy(documented)
    expected["to"] = "+16505551234"  # Herald always sends E.164 (Meta's text example uses the same form)
    # Quick-reply payload parameters are optional; Herald lets the approved button send its own payload.
    expected["template"]["components"] = [c for c in expected["template"]["components"]
                                          if c.get("sub_type") != "quick_reply"]
    http.post(MESSAGES_URL, json=load_json("whatsapp_send_response.json"),
              match=[matchers.json_params_matcher(expected, strict_match=True)])
    accepted = provider.send(outbound(template=shipped_template(), params=SHIPPED_PARAMS))
    assert accepted.provider_message_id == WAMID


def test_positional_values_follow_placeholder_numbers_not_reading_order() -> None:
    spec = shipped_template(body="{{2}} is on its way to {{1}}.", header_format="", buttons=())
    body = template_components(spec, {"1": "Asha", "2": "Order 7"})[0]
    assert [p["text"] for p in body["parameters"]] == ["Asha", "Order 7"]


def test_named_template_body_is_the_documented_component() -> None:
    spec = TemplateSpec(name="order_update", language="en", channel="whatsapp", category="UTILITY",
                        status="APPROVED", body="Hi {{first_name}}, order {{order_id}} is ready.",
                        parameter_format="NAMED")
    components = template_components(spec, {"first_name": "Jessica", "order_id": "SKBUP2-4CPIG9"})
    assert components == [load_json("whatsapp_named_body.json")]


def test_header_text_parameter_and_cleaned_values() -> None:
    spec = shipped_template(header_format="TEXT", header_text="Order {{1}}", body="Hello {{1}}", buttons=())
    components = template_components(spec, {"header.1": "A-1", "1": "Asha\nand\tfriends      there"})
    assert components == [
        {"type": "header", "parameters": [{"type": "text", "text": "A-1"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Asha and friends    there"}]},
    ]


def test_document_header_keeps_the_file_name_and_a_media_id_is_an_id() -> None:
    document = template_components(shipped_template(header_format="DOCUMENT", body="x", buttons=()),
                                   {"header.media": "https://files.example/invoice-7.pdf"})
    assert document[0]["parameters"] == [{"type": "document", "document": {
        "link": "https://files.example/invoice-7.pdf", "filename": "invoice-7.pdf"}}]
    video = template_components(shipped_template(header_format="VIDEO", body="x", buttons=()),
                                {"header.media": "1013859600285441"})
    assert video[0]["parameters"] == [{"type": "video", "video": {"id": "1013859600285441"}}]


def test_authentication_template_repeats_the_code_in_its_button() -> None:
    spec = shipped_template(category="AUTHENTICATION", header_format="", body="{{1}} is your verification code.",
                            buttons=(Button("OTP", "Copy code"),))
    components = template_components(spec, {"1": "482913"})
    assert components[1] == {"type": "button", "sub_type": "url", "index": "0",
                             "parameters": [{"type": "text", "text": "482913"}]}


NAMED_TOTAL = TemplateSpec(name="receipt", language="en", channel="whatsapp", category="UTILITY", status="APPROVED",
                           body="Hi {{first_name}}, you paid {{total}} on {{paid_on}}.", parameter_format="NAMED")
NAMED_TOTAL_PARAMS = {"first_name": "Asha", "total": Currency("$100.99", "USD", 100990),
                      "paid_on": DateTimeValue("February 25, 1977")}


def test_named_currency_and_date_carry_their_parameter_name(http, provider) -> None:
    http.post(MESSAGES_URL, json=load_json("whatsapp_send_response.json"))
    provider.send(outbound(template=NAMED_TOTAL, params=NAMED_TOTAL_PARAMS))
    body = sent_json(http.calls[0])["template"]["components"][0]["parameters"]
    assert body == [
        {"type": "text", "parameter_name": "first_name", "text": "Asha"},
        {"type": "currency", "parameter_name": "total",
         "currency": {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990}},
        {"type": "date_time", "parameter_name": "paid_on", "date_time": {"fallback_value": "February 25, 1977"}},
    ]


def test_named_currency_refused_by_meta_is_sent_once_more_as_text(http, provider) -> None:
    refusal = {"error": {"message": "(#132012) Parameter format does not match format in the created template",
                         "type": "OAuthException", "code": 132012,
                         "error_data": {"messaging_product": "whatsapp", "details": "body: Format mismatch"},
                         "fbtrace_id": "AbC"}}
    http.post(MESSAGES_URL, status=400, json=refusal)
    http.post(MESSAGES_URL, json=load_json("whatsapp_send_response.json"))
    accepted = provider.send(outbound(template=NAMED_TOTAL, params=NAMED_TOTAL_PARAMS))
    assert accepted.provider_message_id == WAMID
    assert len(http.calls) == 2
    second = sent_json(http.calls[1])["template"]["components"][0]["parameters"]
    assert second[1:] == [{"type": "text", "parameter_name": "total", "text": "$100.99"},
                          {"type": "text", "parameter_name": "paid_on", "text": "February 25, 1977"}]


def test_positional_template_refusal_is_not_sent_again(http, provider) -> None:
    refusal = {"error": {"message": "(#132000) Number of parameters does not match", "type": "OAuthException",
                         "code": 132000,
                         "error_data": {"messaging_product": "whatsapp", "details": "body: 3 expected"}}}
    http.post(MESSAGES_URL, status=400, json=refusal)
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound(template=shipped_template(), params=SHIPPED_PARAMS))
    assert len(http.calls) == 1
    assert caught.value.code == "132000" and caught.value.kind == kinds.TEMPLATE


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("code, kind, retryable, words", [
    ("131047", kinds.WINDOW_CLOSED, False, "template"),
    ("131026", kinds.UNDELIVERABLE, False, "could not deliver"),
    ("131049", kinds.MARKETING_LIMIT, False, "24 hours"),
    ("131050", kinds.OPTED_OUT, False, "stopped marketing"),
    ("131056", kinds.RATE_LIMITED, True, "Retry later"),
    ("130429", kinds.RATE_LIMITED, True, "Retry later"),
    ("132000", kinds.TEMPLATE, False, "number of template parameters"),
    ("132001", kinds.TEMPLATE, False, "does not exist"),
    ("132012", kinds.TEMPLATE, False, "wrong format"),
    ("190", kinds.AUTH, False, "Reconnect"),
])
def test_meta_codes_are_typed_errors_a_person_can_act_on(provider, code, kind, retryable, words) -> None:
    error = provider.map_error(code, "Meta's words")
    assert isinstance(error, kinds.TypedProviderError)
    assert (error.code, error.kind, error.retryable, error.outcome) == (code, kind, retryable, FAILED)
    assert words.lower() in error.sentence().lower()
    assert error.provider_message == "Meta's words"


def test_documented_rate_limit_answer(http, provider) -> None:
    http.post(MESSAGES_URL, status=429, json=load_json("whatsapp_error_130429.json"))
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound())
    error = caught.value
    assert (error.code, error.kind, error.retryable, error.outcome) == ("130429", kinds.RATE_LIMITED, True, FAILED)
    assert "too many messages" in error.provider_message
    assert len(http.calls) == 1


def test_expired_token(http, provider) -> None:
    http.post(MESSAGES_URL, status=401, json={"error": {
        "message": "Error validating access token: Session has expired.", "type": "OAuthException", "code": 190,
        "fbtrace_id": "A1"}})
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound())
    assert caught.value.kind == kinds.AUTH
    assert "expired" in caught.value.explanation and "Reconnect" in caught.value.action


def test_an_unknown_code_keeps_metas_own_message(http, provider) -> None:
    http.post(MESSAGES_URL, status=400, json={"error": {
        "message": "(#133016) Account has been deregistered", "type": "OAuthException", "code": 133016,
        "error_data": {"messaging_product": "whatsapp",
                       "details": "Too many register and deregister attempts for this number"}}})
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound())
    assert caught.value.code == "133016"
    assert "Too many register and deregister attempts for this number" in caught.value.sentence()


def test_missing_settings_send_nothing(provider) -> None:
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound(options={}, credentials={}))
    assert caught.value.code == "sender_not_configured"
    assert "phone_number_id" in caught.value.explanation and "access_token" in caught.value.explanation


# --------------------------------------------------------------------------- transport


@pytest.mark.parametrize("failure, outcome, retryable", [
    (requests.ReadTimeout("read timed out"), UNKNOWN, False),
    (requests.ConnectionError("Connection aborted: reset by peer"), UNKNOWN, False),
    (requests.ConnectTimeout("connect timed out"), FAILED, True),
    (requests.ConnectionError(MaxRetryError(None, MESSAGES_URL, NewConnectionError(None, "refused"))), FAILED, True),
])
def test_transport_failures(http, provider, failure, outcome, retryable) -> None:
    http.post(MESSAGES_URL, body=failure)
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound())
    assert (caught.value.outcome, caught.value.retryable, caught.value.kind) == (outcome, retryable, kinds.TRANSPORT)
    assert len(http.calls) == 1


def test_a_bare_server_error_leaves_the_outcome_unknown_and_is_not_retried(http, provider) -> None:
    http.post(MESSAGES_URL, status=502, body="<html>Bad gateway</html>")
    with pytest.raises(kinds.TypedProviderError) as caught:
        provider.send(outbound())
    assert caught.value.outcome == UNKNOWN and caught.value.code == "http_502"
    assert len(http.calls) == 1


# --------------------------------------------------------------------------- template list


def test_documented_template_is_read_into_herald_terms() -> None:
    synced = parse_template(load_json("whatsapp_template_list_item.json"))
    assert synced is not None
    assert (synced.provider_id, synced.name, synced.language, synced.status, synced.category,
            synced.parameter_format) == ("1234567890", "order_shipped", "en_US", "APPROVED", "UTILITY", "POSITIONAL")
    assert (synced.header_format, synced.body, synced.footer) == ("IMAGE", "Hi {{1}}, order {{2}} ships on {{3}}.",
                                                                  "Reply STOP to opt out")
    assert synced.buttons == ({"type": "URL", "text": "Track", "url": "https://x.example/t/{{1}}"},
                              {"type": "QUICK_REPLY", "text": "Stop promotions", "url": ""})
    assert len(synced.components) == 4


def test_parameter_format_is_inferred_when_meta_leaves_it_out() -> None:
    item = {"id": "9", "name": "hello", "language": "en", "status": "APPROVED", "category": "UTILITY",
            "components": [{"type": "BODY", "text": "Hello {{first_name}}"}]}
    assert parse_template(item).parameter_format == "NAMED"


def test_template_pages_are_followed_with_their_cursors(http, provider) -> None:
    url = f"{BASE}/102290129340398/message_templates"
    first = {"data": [load_json("whatsapp_template_list_item.json")],
             "paging": {"cursors": {"before": "B1", "after": "A1"},
                        "next": "https://graph.facebook.com/v23.0/102290129340398/message_templates"
                                "?limit=100&after=A1"}}
    paused = {**load_json("whatsapp_template_list_item.json"), "id": "222", "name": "winter_sale",
              "status": "PAUSED", "category": "MARKETING"}
    second = {"data": [paused], "paging": {"cursors": {"before": "B2", "after": "A2"}}}
    base_query = {"fields": TEMPLATE_FIELDS, "limit": "100"}
    auth = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})
    http.get(url, json=first, match=[matchers.query_param_matcher(base_query), auth])
    http.get(url, json=second, match=[matchers.query_param_matcher({**base_query, "after": "A1"}), auth])
    http.get(url, json={"data": [], "paging": {"cursors": {}}},
             match=[matchers.query_param_matcher({**base_query, "after": "A2"})])
    pages = list(provider.list_templates("102290129340398", TOKEN))
    assert [p.number for p in pages] == [1, 2, 3]
    assert [t.name for p in pages for t in p.templates] == ["order_shipped", "winter_sale"]


def test_reading_templates_is_retried_after_a_server_error(http) -> None:
    naps: list[float] = []
    adapter = WhatsAppCloudProvider(BASE, HttpClient(LABEL, sleep=naps.append))
    url = f"{BASE}/55/message_templates"
    http.get(url, status=503, body="unavailable")
    http.get(url, body=requests.ConnectionError("reset"))
    http.get(url, json={"data": []})
    pages = list(adapter.list_templates("55", TOKEN))
    assert len(pages) == 1 and naps == [0.5, 1.0]


def test_cursor_rules() -> None:
    assert next_cursor({"paging": {"next": "https://g/x?after=Z&limit=2", "cursors": {"after": "Y"}}}, True) == "Z"
    assert next_cursor({"paging": {"cursors": {"after": "Y"}}}, True) == "Y"
    assert next_cursor({"paging": {"cursors": {"after": "Y"}}}, False) is None
    assert next_cursor({}, True) is None


# --------------------------------------------------------------------------- webhooks


def test_documented_inbound_message() -> None:
    batch = parse_webhook(load_json("whatsapp_inbound_text.json"))
    assert batch.statuses == [] and batch.skipped == []
    (event,) = batch.inbound
    assert event.channel == "whatsapp"
    assert event.customer == "+16505551234"
    assert event.text == "Hi, is my order ready?"
    assert event.provider_message_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
    assert event.received_at == datetime.fromtimestamp(1739321024, tz=timezone.utc)
    assert event.ours == frozenset({"pnid:106540352242922", "number:15550783881"})


def test_documented_failed_status() -> None:
    (event,) = parse_webhook(load_json("whatsapp_status_failed.json")).statuses
    assert (event.provider_message_id, event.status, event.error_code, event.reference) == (
        "wamid.HBgL…", st.FAILED, "131047", "job-42")
    assert "approved template" in event.error_message
    assert event.occurred_at == datetime.fromtimestamp(1750857384, tz=timezone.utc)


def test_batched_changes_and_what_is_not_acted_on() -> None:
    payload = load_json("whatsapp_inbound_text.json")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"].append({"from": "16505551234", "id": "wamid.B", "timestamp": "1739321030",
                              "type": "interactive",
                              "interactive": {"type": "button_reply", "button_reply": {"id": "y", "title": "Yes"}}})
    value["messages"].append({"from": "16505551234", "id": "wamid.S", "timestamp": "1739321031", "type": "system",
                              "system": {"body": "User changed number"}})
    value["statuses"] = [{"id": "wamid.X", "status": "read", "timestamp": "1739321040", "recipient_id": "1"},
                         {"id": "wamid.Y", "status": "deleted", "timestamp": "1739321041", "recipient_id": "1"}]
    payload["entry"].append({"id": "2", "changes": [{"field": "message_template_status_update",
                                                     "value": {"event": "APPROVED"}}]})
    batch = parse_webhook(payload)
    assert [e.text for e in batch.inbound] == ["Hi, is my order ready?", "Yes"]
    assert [(s.provider_message_id, s.status) for s in batch.statuses] == [("wamid.X", st.READ)]
    assert batch.skipped == ["system message", "status deleted",
                             "template status without account, name, language or event"]


def test_a_documented_template_status_update_names_the_template_and_its_account() -> None:
    batch = parse_webhook(load_json("whatsapp_template_status_update.json"))
    assert batch.templates == [TemplateEvent(account="102290129340398", name="order_confirmation", language="en-US",
                                             event="APPROVED", provider_template_id="1689556908129832", reason=None,
                                             occurred_at=datetime.fromtimestamp(1739321024, tz=timezone.utc))]
    assert batch.inbound == [] and batch.statuses == [] and batch.skipped == []
