"""Recording a send back in Intercom or HubSpot: after the send, never failing it, retried until done.

The send commits a write-back row with the message (an outbox) and enqueues a job naming it; a
worker makes the call. Each attempt first takes a lease on the row (a conditional UPDATE), so two
workers never write the same record twice, and the host is called outside any database
transaction. A host that keeps failing is retried with exponential backoff and jitter; after
``MAX_ATTEMPTS`` the row is kept as failed, listed by ``writeback list --failed`` and put back in
line by ``writeback retry --failed``.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select, update

from ..store import outbox
from ..store.models import Message, Writeback
from . import metrics
from .context import Context

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Marks a row while a worker holds it: found again on the next lease, it means that attempt was cut off
# (the worker died) and the host may already have the record.
IN_PROGRESS = "attempt in progress"


def lease_for(ctx: Context) -> timedelta:
    """How long one attempt holds its row: longer than a host call can take (config ``job_lease_seconds``)."""
    return timedelta(seconds=float(getattr(ctx.config, "job_lease_seconds", 60.0)))


def backoff(attempts: int, jitter: float = 0.5) -> timedelta:
    """1 min, 2, 4 … capped at 4 h, each spread by ±50 % (``jitter`` in [0, 1)), so a host outage is
    ridden out without every worker calling it back in the same second."""
    base = 60.0 * min(2 ** max(attempts - 1, 0), 240)
    return timedelta(seconds=base * (0.5 + min(max(jitter, 0.0), 1.0)))


def _lease(ctx: Context, writeback_id: int) -> Writeback | None:
    now = ctx.now()
    with ctx.store.session() as session:
        if not outbox.lease(session, Writeback, writeback_id, now, now + lease_for(ctx)):
            return None
        row = session.get(Writeback, writeback_id)
        assert row is not None
        # The writer learns that the last attempt was cut off before it could say how it went, so it
        # can look for its record at the host before writing it again.
        row.interrupted = row.last_error == IN_PROGRESS  # type: ignore[attr-defined]
        row.last_error = IN_PROGRESS
        return row


def attempt(ctx: Context, writeback_id: int, jitter: Callable[[], float] = random.random) -> str:
    """One attempt; returns the row's status afterwards ("done", "pending", "failed") or "busy".

    Writers see ``row.interrupted``: True when the previous attempt died mid-way (a killed worker), so
    one that can check the host for its record first does, and the record is written exactly once.
    """
    row = _lease(ctx, writeback_id)
    if row is None:
        return "busy"
    writer = ctx.writers.get(row.host)
    error: str | None = None
    if writer is None:
        error = f"no writer for {row.host} is configured"
    else:
        try:
            writer(ctx, row)
        except Exception as caught:  # recorded, never raised into the send
            error = str(caught)[:2000] or type(caught).__name__
    now = ctx.now()
    with ctx.store.session() as session:
        fresh = session.get(Writeback, writeback_id)
        assert fresh is not None
        if error is None:
            fresh.status, fresh.done_at, fresh.last_error = "done", now, None
        else:
            fresh.last_error = error
            fresh.status = "failed" if fresh.attempts >= MAX_ATTEMPTS else "pending"
            fresh.next_attempt_at = now + backoff(fresh.attempts, jitter())
            metrics.WRITEBACK_FAILURES.labels(fresh.host, "yes" if fresh.status == "failed" else "no").inc()
            log.warning("write-back %s to %s failed (attempt %s of %s): %s", fresh.id, fresh.host, fresh.attempts,
                        MAX_ATTEMPTS, error, extra={"writeback_id": fresh.id, "host": fresh.host})
        return fresh.status


def run_due(ctx: Context, limit: int = 100) -> int:
    """Try write-backs whose time has come (lost nudges, retries); returns how many were tried."""
    with ctx.store.session() as session:
        ids = outbox.due_ids(session, Writeback, ctx.now(), limit)
    return sum(1 for writeback_id in ids if attempt(ctx, writeback_id) != "busy")


@dataclass(frozen=True)
class WritebackView:
    id: int
    host: str
    message: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime


def listing(ctx: Context, status: str | None = None, limit: int = 200) -> list[WritebackView]:
    """Write-backs, newest first, optionally of one status ("pending", "failed", "done")."""
    query = (select(Writeback, Message.public_id).join(Message, Message.id == Writeback.message_id)
             .order_by(Writeback.id.desc()).limit(limit))
    if status:
        query = query.where(Writeback.status == status)
    with ctx.store.session() as session:
        return [WritebackView(row.id, row.host, public_id, row.status, row.attempts, row.last_error,
                              row.next_attempt_at, row.created_at) for row, public_id in session.execute(query)]


def requeue_failed(ctx: Context, ids: list[int] | None = None) -> list[int]:
    """Put failed write-backs (all, or these) back in line with a fresh set of attempts."""
    now = ctx.now()
    with ctx.store.session() as session:
        query = select(Writeback.id).where(Writeback.status == "failed")
        if ids:
            query = query.where(Writeback.id.in_(ids))
        chosen = list(session.scalars(query))
        if chosen:
            session.execute(update(Writeback).where(Writeback.id.in_(chosen))
                            .values(status="pending", attempts=0, next_attempt_at=now)
                            .execution_options(synchronize_session=False))
    from .jobs import enqueue

    for writeback_id in chosen:
        enqueue(ctx, "writeback", writeback_id)
    return chosen
