"""/api/v1 under hostile or careless input and under faults: always the JSON error shape, the right
status, words that name the field, and nothing written."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import requests
from sqlalchemy import func, select, text

from app.services import workspaces as ws
from app.services.apikeys import create_key
from app.services.demo import CUSTOMERS, DEMO
from app.store.models import IdempotencyKey, Message

NEW = CUSTOMERS["new"]
# Validation happens before the store is touched: one database is enough, except where PostgreSQL
# itself would refuse the value (NUL, unpaired surrogates), which run on every configured database.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def key(ctx) -> str:
    return create_key(ctx, DEMO, "order system")


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def post_raw(client, key, raw: bytes | str, content_type: str = "application/json", **headers):
    return client.post("/api/v1/messages", data=raw, content_type=content_type, headers={**auth(key), **headers})


def count(ctx, model=Message) -> int:
    with ctx.store.session() as session:
        return session.scalar(select(func.count()).select_from(model))


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "reasons"} and error["message"] and isinstance(error["reasons"], list)
    return error


def fields_named(error: dict) -> list[str]:
    return [r["field"] for r in error["reasons"]]


# --------------------------------------------------------------------------- characters the store cannot keep

SMS = {"channel": "sms", "to": NEW, "text": "Your parcel is out for delivery."}
SHIPPED = {"channel": "whatsapp", "to": NEW, "template": {"name": "order_shipped", "language": "en_US",
                                                          "params": ["Asha", "A-17", "Nov 25"]}}


@pytest.mark.parametrize("body, field", [
    ({**SMS, "text": "hi\u0000"}, "text"),
    ({**SMS, "text": "half \ud83d an emoji"}, "text"),
    ({**SMS, "requested_by": "ops\u0000"}, "requested_by"),
    ({**SMS, "contact_ref": "\udc00"}, "contact_ref"),
    ({**SMS, "to": "+1201555\u00000126"}, "to"),
    ({**SMS, "sender": "\u0000"}, "sender"),
    ({**SHIPPED, "template": {**SHIPPED["template"], "params": ["Asha\u0000", "A-17", "Nov 25"]}}, "template.params.0"),
    ({**SHIPPED, "template": {**SHIPPED["template"], "params": {"1": "\ud800"}}}, "template.params.1"),
    ({**SHIPPED, "template": {**SHIPPED["template"], "name": "order\u0000shipped"}}, "template.name"),
])
def test_nul_and_lone_surrogates_are_400_naming_the_field(client, ctx, key, body, field):
    raw = json.dumps(body)  # \u0000 and lone surrogates travel as JSON escapes
    error = assert_error_shape(post_raw(client, key, raw), 400)
    assert field in fields_named(error), error
    assert any("NUL" in r["message"] for r in error["reasons"])
    assert count(ctx) == 0


# --------------------------------------------------------------------------- typed template parameters

TYPED = {"channel": "whatsapp", "to": NEW, "template": {"name": "order_shipped", "language": "en_US"}}


@SQLITE_ONLY
@pytest.mark.parametrize("value, field", [
    ('{"type": "currency", "fallback_value": "$1", "code": "USD", "amount_1000": "abc"}', "amount_1000"),
    ('{"type": "currency", "fallback_value": "$1", "code": "USD", "amount_1000": null}', "amount_1000"),
    ('{"type": "currency", "fallback_value": "$1", "code": "USD", "amount_1000": [1]}', "amount_1000"),
    ('{"type": "currency", "fallback_value": "$1", "code": "USD", "amount_1000": 1e400}', "amount_1000"),
    ('{"type": "currency", "fallback_value": "$1", "code": "USD", "amount_1000": 1.5}', "amount_1000"),
    ('{"type": "currency", "fallback_value": "$1", "code": "USD", "amount_1000": true}', "amount_1000"),
    ('{"type": "currency", "fallback_value": "$1", "code": "dollars", "amount_1000": 1000}', "code"),
    ('{"type": "currency", "code": "USD", "amount_1000": 1000}', "fallback_value"),
    ('{"type": "date_time", "fallback_value": 20261125}', "fallback_value"),
    ('{"type": "date_time", "fallback_value": ""}', "fallback_value"),
    ('{"type": "date_time"}', "fallback_value"),
    ('{"type": "date_time", "fallback_value": "Nov 25", "day_of_month": 40}', "day_of_month"),
    ('{"type": "money", "amount": 1}', "type"),
    ("null", "total"), ("[1]", "total"), ("true", "total"), ("1e400", "total"),
])
def test_bad_typed_parameter_values_are_400_naming_the_field(client, ctx, key, value, field):
    raw = json.dumps(TYPED)[:-2] + f', "params": {{"total": {value}}}}}}}'
    error = assert_error_shape(post_raw(client, key, raw), 400)
    assert any(f.startswith("template.params.total") and f.endswith(field) for f in fields_named(error)), error
    assert count(ctx) == 0


@SQLITE_ONLY
def test_a_template_given_as_a_string_says_what_shape_is_expected(client, ctx, key):
    error = assert_error_shape(post_raw(client, key, json.dumps({**SMS, "text": None,
                                                                 "template": "order_shipped"})), 400)
    [reason] = [r for r in error["reasons"] if r["field"] == "template"]
    assert 'Must be an object such as {"name": "order_shipped"' in reason["message"]


# --------------------------------------------------------------------------- JSON itself


@SQLITE_ONLY
@pytest.mark.parametrize("raw, words", [
    ("[" * 5000 + "]" * 5000, "nested too deeply"),
    ('{"a":' * 3000 + "1" + "}" * 3000, "nested too deeply"),
    ('{"channel": "sms", "to": "+12015550126", "text": NaN}', "not valid JSON"),
    ("{", "not valid JSON"),
    (b"\xff\xfe\x00", "not valid JSON"),
    ("", "empty"),
    ("[]", "JSON object"),
])
def test_json_that_is_not_a_plain_object_is_400(client, ctx, key, raw, words):
    error = assert_error_shape(post_raw(client, key, raw), 400)
    assert words in error["message"]
    assert count(ctx) == 0


@SQLITE_ONLY
def test_a_body_that_is_not_json_is_415(client, ctx, key):
    error = assert_error_shape(post_raw(client, key, "channel=sms&to=%2B12015550126&text=hi",
                                        content_type="application/x-www-form-urlencoded"), 415)
    assert "application/json" in error["message"] and count(ctx) == 0


# --------------------------------------------------------------------------- every error is JSON


@SQLITE_ONLY
def test_unknown_routes_and_methods_answer_the_json_error_shape(client, key):
    assert assert_error_shape(client.get("/api/v1/nothing-here", headers=auth(key)), 404)["code"] == "not_found"
    assert assert_error_shape(client.get("/api/v1", headers=auth(key)), 404)
    wrong = client.delete("/api/v1/messages", headers=auth(key))
    assert assert_error_shape(wrong, 405)["code"] == "method_not_allowed" and "POST" in wrong.headers["Allow"]
    assert assert_error_shape(client.get("/api/v1/messages/msg_%00"), 401)


def test_an_unknown_message_id_of_any_form_is_404(client, key):
    for public_id in ("msg_%00", "%F0%9F%98%80", "x" * 500, "msg_0123"):
        assert assert_error_shape(client.get(f"/api/v1/messages/{public_id}", headers=auth(key)), 404)


@SQLITE_ONLY
def test_too_large_is_the_json_shape(client, key):
    error = assert_error_shape(post_raw(client, key, "x" * (300 * 1024)), 413)
    assert error["code"] == "too_large"


@SQLITE_ONLY
def test_a_fault_is_a_500_in_the_json_shape_not_an_html_page(app, ctx, client, key):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error handler answers
    with ctx.store.engine.begin() as connection:  # the database loses a table under Herald
        connection.execute(text("ALTER TABLE messages RENAME TO messages_gone"))
    try:
        error = assert_error_shape(client.get("/api/v1/messages/msg_0123456789ab", headers=auth(key)), 500)
    finally:
        with ctx.store.engine.begin() as connection:
            connection.execute(text("ALTER TABLE messages_gone RENAME TO messages"))
    assert error["code"] == "internal_error" and "Traceback" not in error["message"]


@SQLITE_ONLY
def test_other_surfaces_keep_their_own_error_pages(client):
    assert client.get("/nothing-here").mimetype == "text/html"


# --------------------------------------------------------------------------- what the answer says


@SQLITE_ONLY
@pytest.mark.parametrize("header", ["", "x" * 256, "has space", "tab\tkey", "ключ"])
def test_a_bad_idempotency_key_is_400_with_the_limits(client, ctx, key, header):
    response = client.post("/api/v1/messages", json=SMS, headers={**auth(key), "Idempotency-Key": header})
    error = assert_error_shape(response, 400)
    assert error["code"] == "idempotency_key_invalid" and "1 to 255" in error["message"]
    assert count(ctx) == 0 and count(ctx, IdempotencyKey) == 0


@SQLITE_ONLY
def test_the_longest_idempotency_key_is_fine(client, key):
    response = client.post("/api/v1/messages", json=SMS, headers={**auth(key), "Idempotency-Key": "k" * 255})
    assert response.status_code == 201


@SQLITE_ONLY
def test_unknown_channel_on_templates_is_400_naming_the_channels(client, key):
    error = assert_error_shape(client.get("/api/v1/templates?channel=fax", headers=auth(key)), 400)
    assert fields_named(error) == ["channel"] and "whatsapp, sms, viber" in error["reasons"][0]["message"]


@SQLITE_ONLY
def test_joined_reasons_read_as_sentences(client, ctx, key, clock):
    clock.current = datetime(2026, 11, 23, 3, 40, tzinfo=timezone.utc)  # 22:40 for the customer: quiet hours
    response = client.post("/api/v1/messages", headers=auth(key), json={
        "channel": "sms", "to": NEW, "text": "Flash sale! 50% off. Shop now.", "purpose": "promotion"})
    error = assert_error_shape(response, 422)
    assert len(error["reasons"]) >= 2
    assert ".;" not in error["message"]
    assert error["message"] == " ".join(r["message"] for r in error["reasons"])


@SQLITE_ONLY
def test_a_send_of_unknown_outcome_is_202_with_the_message_unknown(client, ctx, key):
    import responses

    ws.add_sender(ctx, DEMO, "sms", "twilio", "+12015550111", {"account_sid": "AC00", "auth_token": "t0k"})
    with responses.RequestsMock() as http:
        http.post(f"{ctx.config.twilio_api_base}/2010-04-01/Accounts/AC00/Messages.json",
                  body=requests.ReadTimeout("read timed out"))
        response = client.post("/api/v1/messages", headers=auth(key),
                               json={**SMS, "sender": "+12015550111"})
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["message"]["status"] == "unknown"


@pytest.mark.parametrize("token", ["hk_\u0000bad_secret", "hk_abcd\u0000123_" + "s" * 20, "hk_" + "a" * 500,
                                   "hk_abcdef12_\udcff"])
def test_a_key_of_the_wrong_form_is_401_without_reaching_the_database(client, ctx, key, token):
    from app.services.apikeys import authenticate

    assert authenticate(ctx, token) is None
    assert authenticate(ctx, key) is not None
