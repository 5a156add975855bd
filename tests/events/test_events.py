"""Signed events for customers' systems: subscribed, signed over the raw body, retried, in order per message.

The receiving system is outside this machine, so it is faked at the HTTP boundary with ``responses``;
each test checks the signature itself, with hmac, as a receiver would.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import requests
import responses
from click.testing import CliRunner
from sqlalchemy import select

from app.domain import status as st
from app.domain.refusals import Refused
from app.services import events
from app.services.demo import CUSTOMERS, DEMO
from app.services.sandbox import play_reply, play_statuses
from app.services.send import SendRequest, send
from app.store.models import EventDelivery

RECEIVER = "https://orders.example.com/herald/events"


def _workspace_id(ctx) -> int:
    from app.services.workspaces import workspace_named

    with ctx.store.session() as session:
        return workspace_named(session, DEMO).id


def verify(secret: str, request, now: int) -> dict:
    """What a receiver does: parse the header, recompute the HMAC over t + "." + raw body, check the age."""
    header = request.headers["Herald-Signature"]
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"]), "signature does not match"
    assert abs(now - int(parts["t"])) <= 300, "older than five minutes"
    return json.loads(request.body)


@pytest.fixture
def receiver():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_a_subscribed_url_gets_each_status_change_signed_and_in_order(ctx, clock, receiver):
    endpoint = events.add_endpoint(ctx, _workspace_id(ctx), RECEIVER)
    assert endpoint.secret.startswith("whsec_")
    receiver.post(RECEIVER, status=204)
    result = send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["new"], text="Your parcel left."))
    play_statuses(ctx, result.message["id"])
    bodies = [verify(endpoint.secret, call.request, int(clock().timestamp())) for call in receiver.calls]
    assert [b["type"] for b in bodies] == [events.STATUS_CHANGED] * 4
    assert [b["data"]["message"]["status"] for b in bodies] == [st.ACCEPTED, st.SENT, st.DELIVERED, st.READ]
    assert [b["data"]["message"]["previous_status"] for b in bodies] == [st.QUEUED, st.ACCEPTED, st.SENT,
                                                                         st.DELIVERED]
    assert {b["data"]["message"]["id"] for b in bodies} == {result.message["id"]}
    assert len({b["id"] for b in bodies}) == 4 and all(b["id"].startswith("evt_") for b in bodies)
    assert receiver.calls[0].request.headers["Herald-Event-Id"] == bodies[0]["id"]


def test_a_customers_message_is_an_event_and_types_can_be_chosen(ctx, clock, receiver):
    only_received = events.add_endpoint(ctx, _workspace_id(ctx), RECEIVER, [events.RECEIVED])
    receiver.post(RECEIVER, status=200)
    send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["new"], text="Reply 1 or 2."))
    play_reply(ctx, DEMO, "sms", CUSTOMERS["new"], "1 please")
    [call] = receiver.calls
    body = verify(only_received.secret, call.request, int(clock().timestamp()))
    assert body["type"] == events.RECEIVED
    message = body["data"]["message"]
    assert message["direction"] == "inbound" and message["text"] == "1 please"
    assert message["from"] == CUSTOMERS["new"] and message["channel"] == "sms"


def test_a_failing_url_is_retried_with_backoff_and_later_events_wait_their_turn(ctx, clock, receiver):
    endpoint = events.add_endpoint(ctx, _workspace_id(ctx), RECEIVER)
    receiver.post(RECEIVER, status=503)
    result = send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["new"], text="Your parcel left."))
    play_statuses(ctx, result.message["id"], until=st.DELIVERED)
    assert len(receiver.calls) == 1  # the first event failed; the later ones wait behind it
    with ctx.store.session() as session:
        rows = list(session.scalars(select(EventDelivery).order_by(EventDelivery.id)))
    assert [r.status for r in rows] == ["pending"] * 3 and rows[0].last_status_code == 503
    assert "HTTP 503" in rows[0].last_error and rows[0].attempts == 1 and rows[1].attempts == 0

    receiver.replace(responses.POST, RECEIVER, status=200)
    assert events.run_due(ctx) == 0  # the first one's back-off has not run out; the rest wait for it
    clock.advance(minutes=1)
    assert events.run_due(ctx) >= 1
    bodies = [verify(endpoint.secret, c.request, int(clock().timestamp())) for c in receiver.calls[1:]]
    assert [b["data"]["message"]["status"] for b in bodies] == [st.ACCEPTED, st.SENT, st.DELIVERED]
    assert [d.status for d in events.deliveries(ctx, _workspace_id(ctx))] == ["delivered"] * 3


def test_a_delivery_is_given_up_after_a_day_and_the_next_one_goes(ctx, clock, receiver):
    events.add_endpoint(ctx, _workspace_id(ctx), RECEIVER)
    receiver.post(RECEIVER, body=requests.exceptions.ConnectionError("refused"))
    result = send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["new"], text="Your parcel left."))
    play_statuses(ctx, result.message["id"], until=st.SENT)
    for _ in range(40):
        clock.advance(hours=1)
        events.run_due(ctx)
    statuses = [d.status for d in events.deliveries(ctx, _workspace_id(ctx))]
    assert statuses == ["failed", "failed"]  # newest first; each tried for a day, in order
    assert all("could not be reached" in d.last_error for d in events.deliveries(ctx, _workspace_id(ctx)))


@pytest.mark.parametrize("url, words", [
    ("ftp://example.com/x", "https://"), ("not a url", "https://"), ("https://10.0.0.5/hook", "public address"),
])
def test_an_endpoint_must_be_a_public_https_url_outside_the_demo(ctx, url, words):
    import dataclasses

    ctx.config = dataclasses.replace(ctx.config, testing=False, demo=False)
    with pytest.raises(Refused) as refused:
        events.add_endpoint(ctx, _workspace_id(ctx), url)
    assert words in refused.value.reasons[0].message
    with pytest.raises(Refused):
        events.add_endpoint(ctx, _workspace_id(ctx), "http://orders.example.com/x")


def test_the_cli_adds_lists_shows_deliveries_and_removes(app, ctx, receiver):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["webhook", "add", DEMO, "--url", RECEIVER, "--event", "message.received"])
    assert added.exit_code == 0, added.output
    secret = next(w for w in added.output.split() if w.startswith("whsec_"))
    listed = runner.invoke(args=["webhook", "list", DEMO])
    assert RECEIVER in listed.output and "message.received" in listed.output and secret not in listed.output
    receiver.post(RECEIVER, status=500)
    play_reply(ctx, DEMO, "sms", CUSTOMERS["new"], "hello?")
    shown = runner.invoke(args=["webhook", "deliveries", DEMO, "--status", "pending"])
    assert "message.received" in shown.output and "HTTP 500" in shown.output
    endpoint_id = events.list_endpoints(ctx, _workspace_id(ctx))[0].id
    assert runner.invoke(args=["webhook", "remove", DEMO, str(endpoint_id)]).exit_code == 0
    assert events.list_endpoints(ctx, _workspace_id(ctx)) == []
    again = runner.invoke(args=["webhook", "remove", DEMO, str(endpoint_id)])
    assert again.exit_code != 0 and "has no endpoint" in again.output
    bad = runner.invoke(args=["webhook", "add", DEMO, "--url", RECEIVER, "--event", "message.exploded"])
    assert bad.exit_code == 2 and "message.exploded" in bad.output


def test_an_endpoint_removed_by_another_process_never_breaks_the_change_it_would_hear_of(ctx, clock, receiver):
    from app.services.events import _subscribed
    from app.store.models import EventEndpoint

    endpoint = events.add_endpoint(ctx, _workspace_id(ctx), RECEIVER)
    with ctx.store.session() as session:
        assert _subscribed(session, _workspace_id(ctx))  # this process now remembers the endpoint
        session.query(EventEndpoint).filter_by(id=endpoint.id).delete()  # as another process's removal would
    result = send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["new"], text="Your parcel left."))
    assert result.message["status"] == st.ACCEPTED and len(receiver.calls) == 0
    with ctx.store.session() as session:
        assert list(session.scalars(select(EventDelivery))) == []
