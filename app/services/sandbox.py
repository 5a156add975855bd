"""Playing the customer's side of the sandbox: replies that open the window, and delivery receipts."""

from __future__ import annotations

import secrets

from sqlalchemy import select

from ..domain import phone
from ..domain import status as st
from ..domain.refusals import Reason, Refused
from ..store.models import Message
from . import events
from .context import Context
from .recipients import record_inbound
from .send import pick_sender
from .statuses import StatusUpdate, record_status
from .workspaces import workspace_named


def play_reply(ctx: Context, workspace_name: str, channel: str, customer: str, text: str,
               sender: str | None = None) -> str:
    """Record a message from ``customer`` as if the sandbox provider had delivered it to us."""
    with ctx.store.session() as session:
        workspace = workspace_named(session, workspace_name)
        chosen = pick_sender(workspace, channel, sender)
        if chosen.provider != "sandbox":
            raise Refused(Reason("not_sandbox", "Only sandbox senders can play customer replies.", "sender"))
        recipient = phone.normalise(customer)
        provider_id = f"sbx_in_{secrets.token_hex(8)}"
        if record_inbound(session, chosen, recipient, text, provider_id, ctx.now()):
            events.received(ctx, session, chosen, recipient, text, provider_id, ctx.now())
        return recipient


def play_statuses(ctx: Context, message_public_id: str, until: str = st.READ) -> str:
    """Move a sandbox message through sent → delivered → read (or to ``until``) as receipts would."""
    with ctx.store.session() as session:
        message = session.scalar(select(Message).where(Message.public_id == message_public_id))
        if message is None or message.sender.provider != "sandbox" or not message.provider_message_id:
            raise Refused(Reason("message_unknown", "No sandbox message with that id was accepted.", "message"))
        provider_id = message.provider_message_id
    for step in (st.SENT, st.DELIVERED, st.READ):
        record_status(ctx, StatusUpdate(provider_id, step, ctx.now()))
        if step == until:
            break
    with ctx.store.session() as session:
        return session.scalar(select(Message.status).where(Message.public_id == message_public_id)) or ""
