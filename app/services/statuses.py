"""Delivery statuses from providers: applied once, never moving a message backwards."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError

from ..domain import status as st
from ..store.models import Message, MessageEvent
from . import events
from .context import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StatusUpdate:
    provider_message_id: str
    status: str
    occurred_at: datetime
    error_code: str | None = None
    error_message: str | None = None
    dedupe_key: str | None = None  # defaults to message + provider id + status + error code
    sender_ids: tuple[int, ...] | None = None  # the senders whose secret verified the event; None: any


def record_status(ctx: Context, update: StatusUpdate) -> str:
    """Apply one status event. Returns "applied", "duplicate" or "unknown_message".

    A webhook's event only reaches the messages of the senders whose secret verified it: one tenant
    cannot move another's messages by naming their provider ids.
    """
    with ctx.store.session() as session:
        query = select(Message).where(Message.provider_message_id == update.provider_message_id)
        if update.sender_ids is not None:
            query = query.where(Message.sender_id.in_(update.sender_ids))
        message = session.scalar(query)
        if message is None:
            log.info("status %s for unknown provider message %s acknowledged", update.status,
                     update.provider_message_id)
            return "unknown_message"
        dedupe = update.dedupe_key or \
            f"{message.id}:{update.provider_message_id}:{update.status}:{update.error_code or ''}"
        try:
            with session.begin_nested():
                session.add(MessageEvent(message_id=message.id, status=update.status, dedupe_key=dedupe[:255],
                                         error_code=update.error_code, error_message=update.error_message,
                                         occurred_at=update.occurred_at, recorded_at=ctx.now()))
        except IntegrityError:
            return "duplicate"
        # One statement decides and moves: another report for this message applied at the same moment
        # (another worker, another thread) cannot be overwritten by an earlier status.
        changes: dict[str, object] = {"status": update.status, "updated_at": ctx.now()}
        if update.status == st.FAILED:
            changes.update(error_code=update.error_code, error_message=update.error_message)
        previous = message.status
        moved = session.execute(sql_update(Message)
                                .where(Message.id == message.id, Message.status.in_(st.moves_from(update.status)))
                                .values(**changes).execution_options(synchronize_session=False)).rowcount
        if moved:
            session.refresh(message)
            events.status_changed(ctx, session, message.workspace_id, events.summary(message, ctx.now()), previous,
                                  ctx.now())
        return "applied"
