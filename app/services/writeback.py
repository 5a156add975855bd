"""Recording a send back in Intercom or HubSpot: after the send, never failing it, retried until done."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from ..store.models import Writeback
from .context import Context

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """1 min, 2, 4 … capped at 4 h: a host outage is ridden out without hammering it."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 240))


def _attempt(ctx: Context, writeback_id: int) -> None:
    with ctx.store.session() as session:
        row = session.get(Writeback, writeback_id)
        if row is None or row.status != "pending":
            return
        writer = ctx.writers.get(row.host)
        if writer is None:
            row.last_error = f"no writer for {row.host} is configured"
            row.next_attempt_at = ctx.now() + backoff(row.attempts + 1)
            return
        row.attempts += 1
        try:
            writer(ctx, row)
        except Exception as error:  # recorded, never raised into the send
            row.last_error = str(error)[:2000] or type(error).__name__
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
            row.next_attempt_at = ctx.now() + backoff(row.attempts)
            log.warning("write-back %s to %s failed (attempt %s): %s", row.id, row.host, row.attempts,
                        row.last_error)
        else:
            row.status, row.done_at, row.last_error = "done", ctx.now(), None


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
    for writeback_id in ids:
        _attempt(ctx, writeback_id)
    return len(ids)
