"""Provider webhook deliveries: stored as they arrived before the 200, applied by a worker.

A provider that does not get a quick 200 retries, and a 500 makes it retry for days. So the web
layer only verifies the signature and hands the raw delivery here; :func:`store` keeps it durably
(once: a byte-identical redelivery is recognised by its digest) and nudges the workers, and
:func:`apply` turns it into statuses, customer messages and template reviews. Applying takes a lease
first, so two workers never apply one delivery at once, and what it applies is itself idempotent
(statuses never move backwards, customer messages are keyed by the provider's id), so a worker
killed half-way through is simply run again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any, Sequence
from urllib.parse import parse_qsl

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..store import outbox
from ..store.models import WebhookEvent
from . import metrics, webhooks
from .context import Context
from .jobs import enqueue
from .webhooks import Candidate, Outcome
from .writeback import lease_for

log = logging.getLogger(__name__)

PROVIDERS = ("whatsapp_cloud", "twilio", "vonage")
MAX_ATTEMPTS = 10


def digest(provider: str, raw: bytes, query: str) -> str:
    return hashlib.sha256(provider.encode() + b"\n" + query.encode() + b"\n" + raw).hexdigest()


def store(ctx: Context, provider: str, senders: Sequence[Candidate], raw: bytes, query: str = "") -> tuple[int, bool]:
    """Keep a verified delivery and nudge a worker; returns (event id, was it a repeat)."""
    now = ctx.now()
    key = digest(provider, raw, query)
    try:
        with ctx.store.session() as session:
            row = WebhookEvent(provider=provider, digest=key, sender_ids=sorted({c.sender_id for c in senders}),
                               body=raw, query=query, status="pending", attempts=0, next_attempt_at=now,
                               received_at=now)
            session.add(row)
            session.flush()
            event_id = row.id
    except IntegrityError:
        with ctx.store.session() as session:
            existing = session.scalar(select(WebhookEvent.id).where(WebhookEvent.digest == key))
        metrics.WEBHOOK_EVENTS.labels(provider, "duplicate").inc()
        log.info("%s webhook delivered again (event %s); already stored", provider, existing)
        return int(existing or 0), True
    metrics.WEBHOOK_EVENTS.labels(provider, "stored").inc()
    enqueue(ctx, "webhook_event", event_id)
    return event_id, False


def decode(provider: str, raw: bytes, query: str) -> tuple[Any, dict[str, str]]:
    """The delivery's payload as the provider module reads it: JSON, or Twilio's form fields."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    if provider == "twilio" and "bodySHA256" not in params:
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)), params
    payload = json.loads(raw)
    if provider == "twilio":
        payload = {str(k): "" if v is None else str(v) for k, v in payload.items()}
    return payload, params


def _lease(ctx: Context, event_id: int) -> WebhookEvent | None:
    now = ctx.now()
    with ctx.store.session() as session:
        if not outbox.lease(session, WebhookEvent, event_id, now, now + lease_for(ctx)):
            return None
        return session.get(WebhookEvent, event_id)


def _apply_payload(ctx: Context, row: WebhookEvent) -> Outcome:
    wanted = set(row.sender_ids or [])
    senders = [c for c in webhooks.candidates(ctx, row.provider) if c.sender_id in wanted]
    payload, params = decode(row.provider, row.body, row.query or "")
    if row.provider == "whatsapp_cloud":
        return webhooks.receive_whatsapp(ctx, senders, payload)
    if row.provider == "twilio":
        return webhooks.receive_twilio(ctx, senders, payload, params)
    if row.provider == "vonage":
        return webhooks.receive_vonage(ctx, senders, payload)
    raise ValueError(f"no webhook reader for provider {row.provider!r}")


def apply(ctx: Context, event_id: int) -> str:
    """Apply one stored delivery; returns its status afterwards ("applied", "pending", "failed") or "busy"."""
    row = _lease(ctx, event_id)
    if row is None:
        return "busy"
    outcome: Outcome | None = None
    error: str | None = None
    try:
        outcome = _apply_payload(ctx, row)
    except Exception as caught:  # kept with its reason and tried again; never lost
        log.exception("%s webhook event %s could not be applied", row.provider, event_id)
        error = f"{type(caught).__name__}: {caught}"[:2000]
    now = ctx.now()
    with ctx.store.session() as session:
        fresh = session.get(WebhookEvent, event_id)
        assert fresh is not None
        if outcome is not None:
            fresh.status, fresh.outcome, fresh.applied_at, fresh.last_error = "applied", outcome.as_dict(), now, None
        else:
            fresh.last_error = error
            fresh.status = "failed" if fresh.attempts >= MAX_ATTEMPTS else "pending"
            fresh.next_attempt_at = now + timedelta(minutes=min(2 ** fresh.attempts, 240))
        metrics.WEBHOOK_EVENTS.labels(fresh.provider, {"applied": "applied", "pending": "retry"}.get(
            fresh.status, "failed")).inc()
        log.info("%s webhook event %s %s", fresh.provider, event_id, fresh.status,
                 extra={"event_id": event_id, "provider": fresh.provider, "result": fresh.status})
        return fresh.status


def run_due(ctx: Context, limit: int = 200) -> int:
    """Apply deliveries whose nudge was lost or whose last attempt failed; returns how many were tried."""
    now = ctx.now()
    with ctx.store.session() as session:
        # still pending a lease after it arrived: its job was lost (broker down, worker killed)
        ids = outbox.due_ids(session, WebhookEvent, now, limit, WebhookEvent.received_at <= now - lease_for(ctx),
                             order_by=WebhookEvent.id)
    return sum(1 for event_id in ids if apply(ctx, event_id) != "busy")


def outcome_of(ctx: Context, event_id: int) -> dict[str, Any] | None:
    """What applying the delivery changed, once it has been applied."""
    with ctx.store.session() as session:
        return session.scalar(select(WebhookEvent.outcome).where(WebhookEvent.id == event_id))
