"""Recording a send back in Intercom or HubSpot: after the send, never failing it, retried until done.

Each attempt first takes a lease on the row (a conditional UPDATE), so two processes — or the send
path and the retry loop — never write the same record twice; the host is called outside any
database transaction.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import select, update

from ..store.models import Writeback
from .context import Context

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """1 min, 2, 4 … capped at 4 h: a host outage is ridden out without hammering it."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 240))


def _lease(ctx: Context, writeback_id: int) -> Writeback | None:
    now = ctx.now()
    with ctx.store.session() as session:
        taken = session.execute(
            update(Writeback)
            .where(Writeback.id == writeback_id, Writeback.status == "pending", Writeback.next_attempt_at <= now)
            .values(attempts=Writeback.attempts + 1, next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)).rowcount
        if taken != 1:
            return None
        return session.get(Writeback, writeback_id)


def _attempt(ctx: Context, writeback_id: int) -> str:
    """One attempt; returns the row's status afterwards ("done", "pending", "failed") or "busy"."""
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
            fresh.next_attempt_at = now + backoff(fresh.attempts)
            log.warning("write-back %s to %s failed (attempt %s): %s", fresh.id, fresh.host, fresh.attempts, error)
        return fresh.status


def run_pending_for(ctx: Context, message_id: int) -> None:
    with ctx.store.session() as session:
        ids = list(session.scalars(select(Writeback.id).where(Writeback.message_id == message_id,
                                                              Writeback.status == "pending")))
    for writeback_id in ids:
        _attempt(ctx, writeback_id)


def run_due(ctx: Context, limit: int = 100) -> int:
    """Retry write-backs whose time has come; returns how many were tried."""
    with ctx.store.session() as session:
        ids = list(session.scalars(select(Writeback.id).where(Writeback.status == "pending",
                                                              Writeback.next_attempt_at <= ctx.now())
                                   .order_by(Writeback.next_attempt_at).limit(limit)))
    return sum(1 for writeback_id in ids if _attempt(ctx, writeback_id) != "busy")


def start_retry_loop(ctx: Context, every_seconds: float) -> threading.Event:
    """Retry due write-backs in the background of a running server; set the event to stop."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_seconds):
            try:
                run_due(ctx)
            except Exception:  # the loop must outlive a database hiccup
                log.exception("write-back retry loop failed; trying again in %ss", every_seconds)

    threading.Thread(target=loop, name="herald-writeback-retry", daemon=True).start()
    return stop
