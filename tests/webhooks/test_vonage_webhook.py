"""POST /webhooks/vonage through the Flask test client: the signed-webhook JWT (HS256 with the
signature secret, payload_hash required, jti spent once), replays, and Viber's window and in-a-row count."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import jwt

from app.services.recipients import note_outbound
from tests.webhooks.conftest import (SIGNATURE_SECRET, VIBER_CUSTOMER, applied, inbound_count, post_vonage, state,
                                     vonage_inbound,
                                     vonage_status, vonage_token)


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_inbound_viber_message_opens_the_window_and_resets_the_count(client, ctx, acme, clock) -> None:
    with ctx.store.session() as session:
        for _ in range(5):
            note_outbound(session, acme["viber"], VIBER_CUSTOMER, clock() - timedelta(hours=1))
    assert state(ctx, acme["viber"], VIBER_CUSTOMER).outbound_since_inbound == 5
    sent_at = clock() - timedelta(seconds=20)
    body = vonage_inbound("Thanks!", "aaaaaaaa-0000-cccc-dddd-0123456789ab", iso(sent_at))
    response = post_vonage(client, body, vonage_token(body, clock().timestamp()))
    assert response.status_code == 200 and applied(client, response)["inbound_recorded"] == 1
    row = state(ctx, acme["viber"], VIBER_CUSTOMER)
    assert row.outbound_since_inbound == 0 and row.last_inbound_at == sent_at


def test_a_token_without_payload_hash_is_refused(client, ctx, acme, clock) -> None:
    """Without payload_hash a captured token would sign any body; Vonage always sends one."""
    body = vonage_inbound("Hi", "u-1", iso(clock()))
    response = post_vonage(client, body, vonage_token(None, clock().timestamp()))
    assert response.status_code == 403 and "payload_hash" in response.get_json()["message"]
    assert inbound_count(ctx) == 0


def test_a_token_without_jti_is_refused(client, ctx, acme, clock) -> None:
    body = vonage_inbound("Hi", "u-1", iso(clock()))
    token = jwt.encode({"iat": int(clock().timestamp()), "payload_hash": hashlib.sha256(body).hexdigest()},
                       SIGNATURE_SECRET, algorithm="HS256")
    response = post_vonage(client, body, token)
    assert response.status_code == 403 and "jti" in response.get_json()["message"]
    assert inbound_count(ctx) == 0


def test_missing_authorization_is_401(client, ctx, acme, clock) -> None:
    body = vonage_inbound("Hi", "u-1", iso(clock()))
    assert post_vonage(client, body, None).status_code == 401
    assert inbound_count(ctx) == 0


def test_tampered_body_is_403(client, ctx, acme, clock) -> None:
    body = vonage_inbound("Hi", "u-1", iso(clock()))
    token = vonage_token(body, clock().timestamp())
    assert post_vonage(client, body.replace(b"Hi", b"Yo"), token).status_code == 403
    assert inbound_count(ctx) == 0


def test_wrong_secret_is_403(client, ctx, acme, clock) -> None:
    body = vonage_inbound("Hi", "u-1", iso(clock()))
    token = vonage_token(body, clock().timestamp(), secret="someone-elses-signature-secret-0123456789")
    assert post_vonage(client, body, token).status_code == 403
    assert inbound_count(ctx) == 0


def test_an_unsigned_token_is_403(client, ctx, acme, clock) -> None:
    body = vonage_inbound("Hi", "u-1", iso(clock()))
    token = jwt.encode({"iat": int(clock().timestamp())}, key=None, algorithm="none")
    assert post_vonage(client, body, token).status_code == 403


def test_a_replay_after_the_window_is_403(client, ctx, acme, clock) -> None:
    body = vonage_inbound("Hi", "u-1", iso(clock()))
    token = vonage_token(body, clock().timestamp())
    clock.advance(minutes=6)
    assert post_vonage(client, body, token).status_code == 403
    assert inbound_count(ctx) == 0


def test_a_token_seen_inside_its_lifetime_is_refused_as_a_replay(client, ctx, acme, clock) -> None:
    body = vonage_inbound("Hi", "u-1", iso(clock()))
    token = vonage_token(body, clock().timestamp())
    assert applied(client, post_vonage(client, body, token))["inbound_recorded"] == 1
    clock.advance(minutes=2)
    again = post_vonage(client, body, token)
    assert again.status_code == 403 and "replay" in again.get_json()["message"]
    assert inbound_count(ctx) == 1


def test_a_redelivery_with_a_fresh_token_is_applied_once(client, ctx, acme, clock) -> None:
    body = vonage_inbound("Hi", "u-1", iso(clock()))
    assert applied(client, post_vonage(client, body, vonage_token(body, clock().timestamp())))["inbound_recorded"] == 1
    clock.advance(minutes=2)
    again = post_vonage(client, body, vonage_token(body, clock().timestamp()))
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert inbound_count(ctx) == 1


def test_spent_tokens_are_forgotten_once_they_could_no_longer_verify(client, ctx, acme, clock) -> None:
    from app.store.models import UsedToken
    from sqlalchemy import func, select

    for number in range(3):
        body = vonage_inbound("Hi", f"u-{number}", iso(clock()))
        assert post_vonage(client, body, vonage_token(body, clock().timestamp())).status_code == 200
    clock.advance(minutes=16)
    body = vonage_inbound("Later", "u-9", iso(clock()))
    assert post_vonage(client, body, vonage_token(body, clock().timestamp())).status_code == 200
    with ctx.store.session() as session:
        assert session.scalar(select(func.count()).select_from(UsedToken)
                              .where(UsedToken.jti.like("vonage:%"))) == 1


def test_a_status_for_an_unknown_message_is_acknowledged(client, acme, clock) -> None:
    body = vonage_status("not-ours", "delivered", iso(clock()), reference="msg_nobody")
    response = post_vonage(client, body, vonage_token(body, clock().timestamp()))
    assert response.status_code == 200 and applied(client, response)["statuses_unknown"] == 1


def test_a_token_is_not_spent_by_a_delivery_that_could_not_be_stored(client, ctx, acme, clock) -> None:
    """A fault while keeping the delivery (the database loses a table) fails it; Vonage's retry of
    the very same token must then get through, not be taken for a replay."""
    import pytest
    from sqlalchemy import text

    body = vonage_inbound("Hi", "u-1", iso(clock()))
    token = vonage_token(body, clock().timestamp())
    with ctx.store.engine.begin() as connection:
        connection.execute(text("ALTER TABLE webhook_events RENAME TO webhook_events_gone"))
    try:
        with pytest.raises(Exception):
            post_vonage(client, body, token)
    finally:
        with ctx.store.engine.begin() as connection:
            connection.execute(text("ALTER TABLE webhook_events_gone RENAME TO webhook_events"))
    again = post_vonage(client, body, token)
    assert again.status_code == 200 and applied(client, again)["inbound_recorded"] == 1
