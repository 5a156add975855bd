"""Periodic housekeeping: spent one-time tokens and old idempotency keys go, interrupted sends settle.

A send claims its message (status ``queued``) before it calls the provider and records the answer
after. A process killed between the two leaves the message queued; once that is older than any
provider call can take, :func:`sweep_interrupted_sends` marks it ``unknown`` with a sentence that
says so. ``unknown`` is not final: a later status webhook still moves it to sent, delivered or
failed, so an agent is never shown "queued" forever and nothing a provider reports is lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select, update

from ..domain import status as st
from ..store.models import IdempotencyKey, Message, MessageEvent, UsedToken
from . import events
from .context import Context

log = logging.getLogger(__name__)

# A replayed request is recognised for a day, as payment APIs do; a client retrying later sends anew.
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)
# Longer than any one-time token lives (compose links 30 min, OAuth states 15 min, webhook JWTs 5 min).
USED_TOKEN_LIFETIME = timedelta(days=2)
INTERRUPTED_EXPLANATION = ("Herald stopped while handing this message to the provider, so it is not known "
                           "whether it went; a delivery report from the provider will still settle it.")


def interrupted_after(ctx: Context) -> timedelta:
    """How long a send may stay queued before it counts as interrupted: well past the provider timeout."""
    connect, read = ctx.config.provider_timeout
    return timedelta(seconds=max(120.0, 4 * (connect + read)))


def sweep_interrupted_sends(ctx: Context, limit: int = 500) -> int:
    """Messages queued for longer than a send can take become ``unknown``; returns how many."""
    now = ctx.now()
    cutoff = now - interrupted_after(ctx)
    with ctx.store.session() as session:
        ids = list(session.scalars(select(Message.id).where(Message.status == st.QUEUED,
                                                            Message.created_at < cutoff)
                                   .order_by(Message.id).limit(limit)))
        swept = 0
        for message_id in ids:
            changed = session.execute(
                update(Message).where(Message.id == message_id, Message.status == st.QUEUED)
                .values(status=st.UNKNOWN, error_code="interrupted", error_message=INTERRUPTED_EXPLANATION,
                        updated_at=now)
                .execution_options(synchronize_session=False)).rowcount
            if changed:
                row = session.get(Message, message_id)
                events.status_changed(ctx, session, row.workspace_id, events.summary(row, now), st.QUEUED, now)
                session.add(MessageEvent(message_id=message_id, status=st.UNKNOWN, dedupe_key=None,
                                         error_code="interrupted", error_message=INTERRUPTED_EXPLANATION,
                                         occurred_at=now, recorded_at=now))
                swept += 1
    if swept:
        log.warning("%s interrupted send(s) marked unknown", swept, extra={"swept": swept})
    return swept


def cleanup(ctx: Context) -> dict[str, int]:
    """Delete idempotency keys past their lifetime and one-time token ids that can no longer be replayed."""
    now = ctx.now()
    with ctx.store.session() as session:
        keys = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < now - IDEMPOTENCY_KEY_LIFETIME)
                               .execution_options(synchronize_session=False)).rowcount
        tokens = session.execute(delete(UsedToken).where(UsedToken.used_at < now - USED_TOKEN_LIFETIME)
                                 .execution_options(synchronize_session=False)).rowcount
    log.info("cleanup: %s idempotency keys, %s used tokens removed", keys, tokens)
    return {"idempotency_keys": int(keys or 0), "used_tokens": int(tokens or 0)}
