"""Reading sent messages back: one message with its status history, scoped to its workspace."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..store.models import Message
from .context import Context
from .send import message_view


def message_with_history(ctx: Context, workspace_id: int, public_id: str) -> dict[str, Any] | None:
    """The message as surfaces show it plus every status step, or None outside this workspace."""
    with ctx.store.session() as session:
        message = session.scalar(select(Message).where(Message.public_id == public_id,
                                                       Message.workspace_id == workspace_id))
        if message is None:
            return None
        view = message_view(message, message.sender)
        view["history"] = [{"status": e.status, "at": e.occurred_at.isoformat(), "error_code": e.error_code,
                            "error_message": e.error_message} for e in message.events]
        return view
