"""Correctly signed deliveries that are malformed: wrong JSON types, characters the store cannot keep,
ids too long for it, JSON nested thousands deep. None gets a 500 (a provider would retry it for
days); the bad part is skipped and noted and the rest of the delivery is applied."""

from __future__ import annotations

import copy
import hashlib
import json
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from app.store.models import InboundMessage, Sender
from tests.conftest import START
from tests.webhooks.conftest import (CUSTOMER, applied, PUBLIC_BASE, inbound_count, post_twilio, post_vonage, post_whatsapp,
                                     twilio_inbound, twilio_signature, vonage_inbound, vonage_token, whatsapp_inbound)

DEEP = b"[" * 5000 + b"]" * 5000
# Shapes are read before the store is touched: one database is enough for them. What the store must
# keep (NUL, surrogates, long ids) runs on every configured database.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
START_TS = int(START.timestamp())


def texts(ctx) -> list[str]:
    with ctx.store.session() as session:
        return list(session.scalars(select(InboundMessage.text).join(Sender).where(Sender.provider != "sandbox")
                                    .order_by(InboundMessage.id)))


def good_entry(message_id: str, text: str = "Where is my order?") -> dict:
    return json.loads(whatsapp_inbound(text, message_id, START_TS))["entry"][0]


def batch(*entries) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": list(entries)}).encode()


def bad_value(**fields) -> dict:
    """An entry whose ``messages`` change carries the given fields in place of its own."""
    entry = copy.deepcopy(good_entry("wamid.bad"))
    value = entry["changes"][0]["value"]
    value.pop("messages")
    value.update(fields)
    return entry


@SQLITE_ONLY
@pytest.mark.parametrize("payload", [
    {"object": "whatsapp_business_account", "entry": 5},
    {"entry": "entries"},
    {"entry": [5, "x", None, [1]]},
    {"entry": [{"changes": {"field": "messages"}}]},
    {"entry": [{"changes": [{"field": "messages", "value": [1, 2]}]}]},
    {"entry": [{"changes": [{"field": ["messages"], "value": {}}]}]},
])
def test_wrong_types_at_the_top_are_noted_and_answered_200(client, ctx, acme, payload) -> None:
    response = post_whatsapp(client, json.dumps(payload).encode())
    assert response.status_code == 200, response.data
    assert applied(client, response)["skipped"] and inbound_count(ctx) == 0


@SQLITE_ONLY
@pytest.mark.parametrize("fields", [
    {"messages": 1.5}, {"messages": True}, {"statuses": "delivered"}, {"errors": True},
    {"errors": [True, "x"]}, {"messages": [[{"id": "wamid.x"}]]}, {"metadata": ["x"], "statuses": {}},
    {"messages": [{"id": {"nested": 1}, "from": "16505551234"}]},
])
def test_a_bad_item_is_skipped_and_the_rest_of_the_batch_applied(client, ctx, acme, fields) -> None:
    body = batch(bad_value(**fields), good_entry("wamid.good"))
    response = post_whatsapp(client, body)
    assert response.status_code == 200, response.data
    outcome = applied(client, response)
    assert outcome["inbound_recorded"] == 1 and outcome["skipped"]
    assert texts(ctx) == ["Where is my order?"]


@pytest.mark.parametrize("text, stored", [
    ("hi\u0000 there", "hi there"),
    ("\u0000", ""),
    ("bad \ud83d half", "bad \ufffd half"),
])
def test_whatsapp_text_the_store_cannot_keep_is_cleaned_not_lost(client, ctx, acme, text, stored) -> None:
    body = json.dumps(json.loads(whatsapp_inbound("placeholder", "wamid.nul", START_TS))).replace(
        "placeholder", json.dumps(text)[1:-1]).encode()
    response = post_whatsapp(client, body)
    assert response.status_code == 200, response.data
    assert applied(client, response)["inbound_recorded"] == 1
    assert texts(ctx) == [stored]


def test_twilio_body_with_a_nul_byte_is_stored_without_it(client, ctx, acme) -> None:
    fields = twilio_inbound("hi\u0000", "SM0001")
    response = post_twilio(client, fields)
    assert response.status_code == 200
    assert texts(ctx) == ["hi"]


def test_twilio_form_with_percent_encoded_nul_and_broken_utf8(client, ctx, acme) -> None:
    fields = twilio_inbound("placeholder", "SM0002")
    raw = urlencode(fields).replace("Body=placeholder", "Body=hi%00%ff%C3")
    signed = {**fields, "Body": "hi\u0000\ufffd\ufffd"}
    response = post_twilio(client, signed, body=raw.encode())
    assert response.status_code == 200, response.data
    assert texts(ctx) == ["hi\ufffd\ufffd"]


def test_an_id_too_long_for_the_store_is_skipped_and_noted(client, ctx, acme) -> None:
    response = post_twilio(client, twilio_inbound("Hello", "SM" + "x" * 400))
    assert response.status_code == 200
    assert inbound_count(ctx) == 0


def test_a_customer_number_that_is_not_one_is_skipped(client, ctx, acme) -> None:
    body = batch(good_entry("wamid.long"))
    body = body.replace(CUSTOMER[1:].encode(), b"9" * 60)
    response = post_whatsapp(client, body)
    assert response.status_code == 200
    assert applied(client, response)["skipped"] and inbound_count(ctx) == 0


def test_vonage_text_of_the_wrong_type_and_nul(client, ctx, acme) -> None:
    body = json.dumps({**json.loads(vonage_inbound("x", "aaaaaaaa-0000-0000-0000-000000000001", "2026-11-22T15:00:00Z")),
                       "text": "ok\u0000"}).encode()
    response = post_vonage(client, body, vonage_token(body, START_TS))
    assert response.status_code == 200, response.data
    assert texts(ctx) == ["ok"]


# --------------------------------------------------------------------------- deep nesting


@SQLITE_ONLY
def test_deeply_nested_json_to_whatsapp_is_400(client, ctx, acme) -> None:
    response = post_whatsapp(client, DEEP)
    assert response.status_code == 400 and "nested" in response.get_json()["message"]


@SQLITE_ONLY
def test_deeply_nested_json_to_vonage_is_400(client, ctx, acme) -> None:
    response = post_vonage(client, DEEP, vonage_token(DEEP, START_TS))
    assert response.status_code == 400 and "nested" in response.get_json()["message"]


@SQLITE_ONLY
def test_deeply_nested_json_to_twilio_is_400(client, ctx, acme) -> None:
    digest = hashlib.sha256(DEEP).hexdigest()
    url = f"{PUBLIC_BASE}/webhooks/twilio?bodySHA256={digest}"
    response = client.post(f"/webhooks/twilio?bodySHA256={digest}", data=DEEP,
                           headers={"Content-Type": "application/json", "X-Twilio-Signature": twilio_signature(url, {})})
    assert response.status_code == 400 and "nested" in response.get_json()["message"]


@SQLITE_ONLY
def test_not_quite_json_is_400(client, ctx, acme) -> None:
    for body in (b'{"entry": NaN}', b"\xff\xfe", b'{"entry": [] ', b""):
        assert post_whatsapp(client, body).status_code == 400, body


@SQLITE_ONLY
def test_deeply_nested_uninstall_notice_is_400(client) -> None:
    response = client.post("/intercom/uninstall", data=DEEP, headers={"Content-Type": "application/json"})
    assert response.status_code == 400

