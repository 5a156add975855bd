"""/api/v1 through the Flask test client, with real keys on the real store."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.services.apikeys import create_key, revoke_key
from app.services.demo import CUSTOMERS, DEMO
from app.store.models import ApiKey, Message


@pytest.fixture
def key(ctx) -> str:
    return create_key(ctx, DEMO, "order system")


def post(client, key, body, **headers):
    return client.post("/api/v1/messages", json=body, headers={"Authorization": f"Bearer {key}", **headers})


def count(ctx) -> int:
    with ctx.store.session() as session:
        return session.scalar(select(func.count()).select_from(Message))


def test_keys_are_stored_as_hashes_only(ctx, key):
    with ctx.store.session() as session:
        row = session.scalar(select(ApiKey))
    assert key.split("_", 2)[2] not in (row.secret_hash + row.prefix)


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer hk_nope_nope", "Basic abc", "Bearer hk_"])
def test_missing_or_wrong_keys_get_401_and_change_nothing(client, ctx, header):
    headers = {"Authorization": header} if header else {}
    response = client.post("/api/v1/messages", json={"channel": "sms", "to": CUSTOMERS["new"], "text": "hi"},
                           headers=headers)
    assert response.status_code == 401 and "API key" in response.get_json()["error"]["message"]
    assert count(ctx) == 0


def test_a_revoked_key_stops_working(client, ctx, key):
    revoke_key(ctx, DEMO, key.split("_")[1])
    assert post(client, key, {"channel": "sms", "to": CUSTOMERS["new"], "text": "hi"}).status_code == 401


def test_send_free_text_sms(client, ctx, key):
    response = post(client, key, {"channel": "sms", "to": CUSTOMERS["new"], "text": "Your parcel is out for delivery."})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["message"]["status"] == "accepted" and body["message"]["surface"] == "api"
    assert body["decision"]["sms"]["segments"] == 1
    fetched = client.get(f"/api/v1/messages/{body['message']['id']}", headers={"Authorization": f"Bearer {key}"})
    assert [h["status"] for h in fetched.get_json()["history"]] == ["queued", "accepted"]


def test_send_template_with_named_params(client, key):
    response = post(client, key, {"channel": "whatsapp", "to": CUSTOMERS["new"],
                                  "template": {"name": "appointment_reminder", "language": "en_US",
                                               "params": {"first_name": "Ana", "date": "Dec 3", "time": "10:00"}}})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["message"]["text"].startswith("Hello Ana")


def test_a_refusal_is_422_with_reasons_in_words(client, ctx, key):
    response = post(client, key, {"channel": "whatsapp", "to": CUSTOMERS["new"], "text": "hi"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["reasons"][0]["code"] == "window_closed" and "template" in error["message"]
    assert count(ctx) == 0


@pytest.mark.parametrize("body, field", [
    ({"channel": "sms", "to": "+12015550126"}, "text"),
    ({"channel": "fax", "to": "+12015550126", "text": "x"}, "channel"),
    ({"channel": "sms", "to": "+12015550126", "text": "x", "surprise": 1}, "surprise"),
    ({"channel": "sms", "to": "+12015550126", "text": "x", "template": {"name": "t"}}, "text"),
    ({"channel": "sms", "to": "+12015550126", "text": "x", "origin": "agent"}, "origin"),
])
def test_malformed_requests_get_400_naming_the_field(client, ctx, key, body, field):
    response = post(client, key, body)
    assert response.status_code == 400
    assert any(field in r["field"] or field in r["message"] for r in response.get_json()["error"]["reasons"])
    assert count(ctx) == 0


def test_invalid_number_is_422_in_words(client, key):
    response = post(client, key, {"channel": "sms", "to": "12", "text": "x"})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "number_impossible"


def test_idempotency_key_replays_and_conflicts(client, ctx, key):
    body = {"channel": "sms", "to": CUSTOMERS["new"], "text": "Refund issued."}
    first = post(client, key, body, **{"Idempotency-Key": "order-9"})
    again = post(client, key, body, **{"Idempotency-Key": "order-9"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["message"]["id"] == first.get_json()["message"]["id"]
    other = post(client, key, {**body, "text": "Different"}, **{"Idempotency-Key": "order-9"})
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "idempotency_key_reused"
    assert count(ctx) == 1


def test_dry_run_returns_the_decision_only(client, ctx, key):
    response = post(client, key, {"channel": "sms", "to": CUSTOMERS["new"], "text": "Grüße 😀", "dry_run": True})
    assert response.status_code == 200 and response.get_json()["decision"]["sms"]["encoding"] == "UCS-2"
    assert count(ctx) == 0


def test_provider_failure_is_502_with_the_explanation(client, key):
    response = post(client, key, {"channel": "sms", "to": CUSTOMERS["undeliverable"], "text": "hi"})
    assert response.status_code == 502
    assert response.get_json()["message"]["error_code"] == "sandbox_undeliverable"


def test_messages_of_another_workspace_are_invisible(client, ctx, key):
    from app.services.workspaces import create_workspace

    create_workspace(ctx, "other")
    other_key = create_key(ctx, "other", "theirs")
    sent = post(client, key, {"channel": "sms", "to": CUSTOMERS["new"], "text": "hi"}).get_json()
    response = client.get(f"/api/v1/messages/{sent['message']['id']}", headers={"Authorization": f"Bearer {other_key}"})
    assert response.status_code == 404


def test_templates_lists_only_approved(client, key):
    response = client.get("/api/v1/templates?channel=whatsapp", headers={"Authorization": f"Bearer {key}"})
    names = {t["name"] for t in response.get_json()["templates"]}
    assert "order_shipped" in names and "refund_update" not in names


def test_oversized_body_is_413(client, key):
    response = client.post("/api/v1/messages", data="x" * (300 * 1024), content_type="application/json",
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 413


def test_a_key_is_read_once_per_burst_and_its_last_use_written_at_most_once_a_minute(client, ctx, clock, key):
    from sqlalchemy import event

    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, …)
    event.listen(ctx.store.engine, "before_cursor_execute", listener)
    try:
        for _ in range(3):
            assert client.get("/api/v1/templates?channel=whatsapp",
                              headers={"Authorization": f"Bearer {key}"}).status_code == 200
    finally:
        event.remove(ctx.store.engine, "before_cursor_execute", listener)
    key_reads = [s for s in statements if "FROM api_keys" in s]
    key_writes = [s for s in statements if s.startswith("UPDATE api_keys")]
    assert len(key_reads) == 1 and len(key_writes) == 1
    with ctx.store.session() as session:
        first = session.scalar(select(ApiKey.last_used_at))
    assert first == clock()
    clock.advance(minutes=2)
    client.get("/api/v1/templates?channel=whatsapp", headers={"Authorization": f"Bearer {key}"})
    with ctx.store.session() as session:
        assert session.scalar(select(ApiKey.last_used_at)) == clock()
