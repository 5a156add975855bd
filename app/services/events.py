"""Events for customers' systems: ``message.status_changed`` and ``message.received``, signed and retried.

An endpoint subscribes a URL to some or all event types; its secret is shown once and kept sealed
(it is needed again to sign). Events are written in the same transaction as the change they report
(an outbox), one delivery row per subscribed endpoint, and a worker POSTs each:

    Herald-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with the secret>

so a receiver can check the body and refuse replays older than five minutes. A delivery that fails
(no answer, or not a 2xx) is retried with exponential back-off and jitter for a day, then kept as
failed; the deliveries of one endpoint about one message go in order — a later one waits until the
earlier has been delivered or given up on.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import random
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.refusals import Reason, Refused
from ..httpclient import HttpClient, TransportError
from ..store import outbox
from ..store.db import after_commit
from ..store.models import EventDelivery, EventEndpoint, OutboundEvent
from .context import Context
from .jobs import enqueue

log = logging.getLogger(__name__)

STATUS_CHANGED = "message.status_changed"
RECEIVED = "message.received"
EVENT_TYPES = (STATUS_CHANGED, RECEIVED)
SIGNATURE_HEADER = "Herald-Signature"
RETRY_FOR = timedelta(days=1)
TIMEOUT = (3.05, 10.0)
USER_AGENT = "Herald-Events/1"


# --------------------------------------------------------------------------- signing


def signature(secret: str, raw: bytes, at: int) -> str:
    """The ``Herald-Signature`` header value for ``raw`` sent at unix time ``at``."""
    digest = hmac.new(secret.encode(), f"{at}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def backoff(attempts: int, jitter: float) -> timedelta:
    """30 s, 1 min, 2 … capped at an hour, spread ±50 % so a recovering receiver is not stampeded."""
    return timedelta(seconds=30.0 * min(2 ** max(attempts - 1, 0), 120) * (0.5 + min(max(jitter, 0.0), 1.0)))


# --------------------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class EndpointView:
    id: int
    url: str
    events: tuple[str, ...]
    created_at: datetime
    secret: str | None = None  # only right after it was created


def _check_url(url: str, allow_local: bool) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise Refused(Reason("endpoint_url", "The URL must be an absolute https:// URL.", "url"))
    if parts.scheme == "http" and not allow_local:
        raise Refused(Reason("endpoint_url", "The URL must use https: events carry customers' messages.", "url"))
    if not allow_local:
        try:
            address = ipaddress.ip_address(parts.hostname)
        except ValueError:
            address = None
        if parts.hostname == "localhost" or (address is not None and (address.is_private or address.is_loopback
                                                                      or address.is_link_local)):
            raise Refused(Reason("endpoint_url", "The URL must be a public address, not a private or local one.",
                                 "url"))
    if len(url) > 2000:
        raise Refused(Reason("endpoint_url", "The URL is longer than 2,000 characters.", "url"))
    return url


def _check_events(events: Iterable[str]) -> list[str]:
    chosen = sorted({e.strip() for e in events if e and e.strip()})
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise Refused(Reason("event_type", f"Unknown event type {', '.join(unknown)}: choose from "
                                           f"{', '.join(EVENT_TYPES)}.", "events"))
    return chosen


def add_endpoint(ctx: Context, workspace_id: int, url: str, events: Iterable[str] = ()) -> EndpointView:
    """Subscribe ``url``; the answer carries the signing secret, which is never shown again."""
    allow_local = bool(ctx.config.embedded or ctx.config.testing)
    checked, chosen = _check_url(url, allow_local), _check_events(events)
    secret = "whsec_" + secrets.token_urlsafe(32)
    now = ctx.now()
    with ctx.store.session() as session:
        row = EventEndpoint(workspace_id=workspace_id, url=checked, events=chosen,
                            secret_sealed=ctx.store.seal(secret), created_at=now)
        session.add(row)
        session.flush()
        view = EndpointView(row.id, row.url, tuple(chosen), now, secret)
    _forget_subscribers(workspace_id)
    return view


def list_endpoints(ctx: Context, workspace_id: int) -> list[EndpointView]:
    with ctx.store.session() as session:
        return [EndpointView(r.id, r.url, tuple(r.events or ()), r.created_at) for r in session.scalars(
            select(EventEndpoint).where(EventEndpoint.workspace_id == workspace_id).order_by(EventEndpoint.id))]


def remove_endpoint(ctx: Context, workspace_id: int, endpoint_id: int) -> bool:
    with ctx.store.session() as session:
        row = session.scalar(select(EventEndpoint).where(EventEndpoint.id == endpoint_id,
                                                         EventEndpoint.workspace_id == workspace_id))
        if row is None:
            return False
        session.delete(row)
    _forget_subscribers(workspace_id)
    return True


# --------------------------------------------------------------------------- emitting

# Every send and status asks whether anyone listens; each process remembers the answer per workspace
# for a couple of seconds (an endpoint added elsewhere starts receiving within that time).
SUBSCRIBERS_TTL = 2.0
_subscribers: dict[int, tuple[float, tuple[tuple[int, tuple[str, ...]], ...]]] = {}
_subscribers_lock = threading.Lock()


def _subscribed(session: Session, workspace_id: int) -> tuple[tuple[int, tuple[str, ...]], ...]:
    now = time.monotonic()
    with _subscribers_lock:
        cached = _subscribers.get(workspace_id)
    if cached is not None and now - cached[0] <= SUBSCRIBERS_TTL:
        return cached[1]
    found = tuple((row.id, tuple(row.events or ())) for row in session.scalars(
        select(EventEndpoint).where(EventEndpoint.workspace_id == workspace_id).order_by(EventEndpoint.id)))
    with _subscribers_lock:
        _subscribers[workspace_id] = (now, found)
    return found


def _forget_subscribers(workspace_id: int) -> None:
    with _subscribers_lock:
        _subscribers.pop(workspace_id, None)



def emit(ctx: Context, session: Session, workspace_id: int, event_type: str, subject: str,
         data: Mapping[str, Any], now: datetime) -> None:
    """Record an event for every endpoint subscribed to it, in the caller's transaction; workers are
    nudged once it commits (and the periodic sweep finds any nudge that was lost)."""
    endpoints = [endpoint_id for endpoint_id, types in _subscribed(session, workspace_id)
                 if not types or event_type in types]
    if not endpoints:
        return
    public_id = f"evt_{int(now.timestamp() * 1000):012x}{secrets.token_hex(6)}"
    payload = {"id": public_id, "type": event_type, "created_at": now.isoformat(), "data": dict(data)}
    try:
        with session.begin_nested():  # an endpoint removed by another process a moment ago
            ids = _record(session, workspace_id, event_type, subject, public_id, payload, endpoints, now)
    except IntegrityError:  # …must not undo the change being reported: ask again, without it
        _forget_subscribers(workspace_id)
        endpoints = [endpoint_id for endpoint_id, types in _subscribed(session, workspace_id)
                     if not types or event_type in types]
        if not endpoints:
            return
        with session.begin_nested():
            ids = _record(session, workspace_id, event_type, subject, public_id, payload, endpoints, now)
    after_commit(session, lambda: [enqueue(ctx, "event_delivery", i) for i in ids])


def summary(message: Any, updated_at: datetime) -> dict[str, Any]:
    """What an event says of one of our messages (a row of ``messages``)."""
    return {"id": message.public_id, "direction": "outbound", "channel": message.channel, "to": message.recipient,
            "status": message.status, "error_code": message.error_code, "error_message": message.error_message,
            "provider_message_id": message.provider_message_id, "created_at": message.created_at.isoformat(),
            "updated_at": updated_at.isoformat()}


def status_changed(ctx: Context, session: Session, workspace_id: int, message: Mapping[str, Any], previous: str,
                   now: datetime) -> None:
    """A message of ours moved on (accepted, sent, delivered, read, failed, unknown)."""
    emit(ctx, session, workspace_id, STATUS_CHANGED, str(message["id"]),
         {"message": {**message, "previous_status": previous}}, now)


def received(ctx: Context, session: Session, sender: Any, customer: str, text: str, provider_message_id: str,
             received_at: datetime) -> None:
    """A customer wrote to one of the workspace's numbers."""
    emit(ctx, session, sender.workspace_id, RECEIVED, f"in:{sender.id}:{customer}"[:64], {"message": {
        "id": provider_message_id, "direction": "inbound", "channel": sender.channel, "from": customer,
        "to": sender.from_number, "text": text, "received_at": received_at.isoformat()}}, received_at)


# --------------------------------------------------------------------------- delivering


def _record(session: Session, workspace_id: int, event_type: str, subject: str, public_id: str,
            payload: dict[str, Any], endpoints: list[int], now: datetime) -> list[int]:
    event = OutboundEvent(public_id=public_id, workspace_id=workspace_id, type=event_type, subject=subject,
                          payload=payload, created_at=now)
    session.add(event)
    session.flush()
    deliveries = [EventDelivery(event_id=event.id, endpoint_id=e, subject=subject, status="pending", attempts=0,
                                next_attempt_at=now, created_at=now) for e in endpoints]
    session.add_all(deliveries)
    session.flush()
    return [d.id for d in deliveries]


def _earlier_pending(session: Session, row: EventDelivery) -> bool:
    return session.scalar(select(EventDelivery.id).where(
        EventDelivery.endpoint_id == row.endpoint_id, EventDelivery.subject == row.subject,
        EventDelivery.event_id < row.event_id, EventDelivery.status == "pending").limit(1)) is not None


def _lease(ctx: Context, delivery_id: int) -> tuple[EventDelivery, EventEndpoint, OutboundEvent] | None:
    from .writeback import lease_for

    now = ctx.now()
    with ctx.store.session() as session:
        row = session.get(EventDelivery, delivery_id)
        if row is None or row.status != "pending" or row.next_attempt_at > now or _earlier_pending(session, row):
            return None  # not due, done, or waiting for an earlier event about the same message
        if not outbox.lease(session, EventDelivery, delivery_id, now, now + lease_for(ctx)):
            return None
        session.refresh(row)
        return row, session.get(EventEndpoint, row.endpoint_id), session.get(OutboundEvent, row.event_id)


_http = HttpClient("the endpoint", TIMEOUT)  # pooled; an event is POSTed once per attempt


def deliver(ctx: Context, delivery_id: int, jitter: Callable[[], float] = random.random) -> str:
    """One attempt at one delivery; returns its status afterwards, or "busy" (leased, not due, or waiting)."""
    leased = _lease(ctx, delivery_id)
    if leased is None:
        return "busy"
    row, endpoint, event = leased
    raw = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    secret = ctx.store.unseal(endpoint.secret_sealed) or ""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Herald-Event-Id": event.public_id,
               SIGNATURE_HEADER: signature(secret, raw, int(ctx.now().timestamp()))}
    error, code = None, None
    try:
        code = _http.post_once(endpoint.url, data=raw, headers=headers).status
        if not 200 <= code < 300:
            error = f"the endpoint answered HTTP {code}"
    except TransportError as caught:
        error = f"the endpoint could not be reached ({type(caught.error).__name__})"
    now = ctx.now()
    with ctx.store.session() as session:
        fresh = session.get(EventDelivery, delivery_id)
        assert fresh is not None
        fresh.last_status_code, fresh.last_error = code, error
        if error is None:
            fresh.status, fresh.delivered_at = "delivered", now
        elif now - fresh.created_at >= RETRY_FOR:
            fresh.status = "failed"
            log.warning("event %s to endpoint %s given up after a day: %s", event.public_id, endpoint.id, error)
        else:
            fresh.next_attempt_at = now + backoff(fresh.attempts, jitter())
        status = fresh.status
    if status != "pending":  # the next event about this message may go now
        for later in _next_in_line(ctx, row):
            enqueue(ctx, "event_delivery", later)
    return status


def _next_in_line(ctx: Context, row: EventDelivery) -> list[int]:
    with ctx.store.session() as session:
        return list(session.scalars(select(EventDelivery.id).where(
            EventDelivery.endpoint_id == row.endpoint_id, EventDelivery.subject == row.subject,
            EventDelivery.event_id > row.event_id, EventDelivery.status == "pending")
            .order_by(EventDelivery.event_id).limit(1)))


def run_due(ctx: Context, limit: int = 200) -> int:
    """Attempt deliveries whose time has come (retries and lost nudges); returns how many were tried."""
    with ctx.store.session() as session:
        ids = outbox.due_ids(session, EventDelivery, ctx.now(), limit, order_by=EventDelivery.event_id)
    return sum(1 for delivery_id in ids if deliver(ctx, delivery_id) != "busy")


@dataclass(frozen=True)
class DeliveryView:
    id: int
    event: str
    type: str
    endpoint_id: int
    url: str
    status: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


def deliveries(ctx: Context, workspace_id: int, status: str | None = None, limit: int = 100) -> list[DeliveryView]:
    query = (select(EventDelivery, OutboundEvent, EventEndpoint)
             .join(OutboundEvent, OutboundEvent.id == EventDelivery.event_id)
             .join(EventEndpoint, EventEndpoint.id == EventDelivery.endpoint_id)
             .where(EventEndpoint.workspace_id == workspace_id).order_by(EventDelivery.id.desc()).limit(limit))
    if status:
        query = query.where(EventDelivery.status == status)
    with ctx.store.session() as session:
        return [DeliveryView(d.id, e.public_id, e.type, p.id, p.url, d.status, d.attempts, d.last_status_code,
                             d.last_error, d.created_at, d.delivered_at) for d, e, p in session.execute(query)]
