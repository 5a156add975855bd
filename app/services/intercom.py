"""Herald installed in Intercom: the linked workspace, its access token, the contact's phone, and
notes on conversations.

Intercom's API itself is :mod:`app.hosts.intercom`; installing and uninstalling is
:mod:`app.services.installs`. Tokens are sealed before they reach the database and never appear in
logs or error messages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain import phone
from ..domain import settings as workspace_settings
from ..domain.channels import CHANNELS
from ..hosts.intercom import (  # noqa: F401  (the names surfaces use)
    API_VERSION,
    IntercomClient,
    IntercomError,
    api_base,
    authorize_url,
    install_redirect,
    note_body,
)
from ..store.models import Installation, Message, Workspace, Writeback
from .context import Context
from .hostclients import host_clients
from .send import message_view

log = logging.getLogger(__name__)

HOST = "intercom"


# --------------------------------------------------------------------------- workspaces and tokens


@dataclass(frozen=True)
class LinkedWorkspace:
    """The Herald workspace serving one Intercom workspace, as the sidebar needs it."""

    id: int
    name: str
    intercom_workspace_id: str
    languages: tuple[str, ...]
    channels: tuple[str, ...]  # the channels it has a sender on, in Herald's order
    region: str | None = None  # where its first number is: national numbers are read as from there

    @property
    def has_senders(self) -> bool:
        return bool(self.channels)


def linked_workspace(ctx: Context, intercom_workspace_id: str) -> LinkedWorkspace | None:
    """The Herald workspace linked to ``intercom_workspace_id``, or None when Herald does not know it."""
    if not intercom_workspace_id:
        return None
    with ctx.store.session() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.intercom_workspace_id == intercom_workspace_id))
        if workspace is None:
            return None
        languages = tuple(workspace_settings.value(workspace.settings or {}, "languages"))
        have = {s.channel for s in workspace.senders}
        numbers = [s.from_number for s in workspace.senders if s.from_number.startswith("+")]
        return LinkedWorkspace(workspace.id, workspace.name, intercom_workspace_id, languages,
                               tuple(c for c in CHANNELS if c in have),
                               phone.region_of(numbers[0]) if numbers else None)


def _installation(session: Session, workspace_id: int) -> Installation | None:
    return session.scalar(select(Installation).where(Installation.host == HOST,
                                                     Installation.workspace_id == workspace_id))


def access_token(ctx: Context, session: Session, workspace_id: int) -> tuple[str | None, str | None]:
    """The token for a workspace and the API host it was installed on.

    An OAuth installation wins; otherwise the single-workspace token from INTERCOM_ACCESS_TOKEN.
    """
    installation = _installation(session, workspace_id)
    if installation is not None and installation.access_token_sealed:
        return ctx.store.unseal(installation.access_token_sealed), installation.api_base
    configured = (getattr(ctx.config, "intercom_access_token", "") or "").strip()
    return (configured or None), None


def fetch_contact_phone(ctx: Context, workspace_id: int, contact_id: str, region: str | None) -> str | None:
    """The contact's phone from GET /contacts/{id}, for payloads that left it out; None on any failure."""
    if not contact_id:
        return None
    with ctx.store.session() as session:
        token, installed_base = access_token(ctx, session, workspace_id)
    if not token:
        return None
    base = api_base(region, installed_base or ctx.config.intercom_api_base)
    try:
        return host_clients(ctx).intercom.contact_phone(base, token, contact_id)
    except IntercomError as error:
        log.warning("contact lookup in Intercom failed: %s", error)
        return None


# --------------------------------------------------------------------------- notes


def write_note(ctx: Context, row: Writeback) -> None:
    """Record one send as an internal note on its conversation, authored by the teammate who clicked.

    Registered as ``ctx.writers["intercom"]``; the write-back service calls it after an accepted send
    and again later when it raised. What the note needs is read first, and Intercom is called with
    no database transaction open.
    """
    target = dict(row.target or {})
    with ctx.store.session() as session:
        message = session.get(Message, row.message_id)
        if message is None:
            return
        token, installed_base = access_token(ctx, session, message.workspace_id)
        body = note_body(message_view(message, message.sender))
    if not token:
        raise IntercomError("no Intercom access token for this workspace: install Herald from the Intercom "
                            "App Store or set INTERCOM_ACCESS_TOKEN")
    client = host_clients(ctx).intercom
    base = api_base(target.get("region"), installed_base or ctx.config.intercom_api_base)
    admin_id = str(target.get("admin_id") or "")
    conversation_id = str(target.get("conversation_id") or "")
    if getattr(row, "interrupted", False) and _already_noted(client, base, token, target, message.public_id):
        return  # the attempt that was cut off had written it
    if conversation_id:
        if not admin_id:
            raise IntercomError("the note has no admin to author it")
        client.note_conversation(base, token, conversation_id, admin_id, body)
    elif target.get("contact_id"):
        client.note_contact(base, token, str(target["contact_id"]), body, admin_id)
    else:
        raise IntercomError("the send names neither a conversation nor a contact to note it on")


def _already_noted(client: IntercomClient, base: str, token: str, target: Mapping[str, Any],
                   public_id: str) -> bool:
    """Does the conversation (or contact) already carry the note naming this message? Every note says
    "Herald id msg_…", so after an interrupted attempt Herald looks before it writes again."""
    bodies = client.note_bodies(base, token, conversation_id=str(target.get("conversation_id") or ""),
                                contact_id=str(target.get("contact_id") or ""))
    return any(public_id in body for body in bodies)


def note_state(ctx: Context, message_public_id: str) -> str | None:
    """Where the Intercom note for a message stands: "done", "pending", "failed", or None if none was asked."""
    with ctx.store.session() as session:
        return session.scalar(select(Writeback.status).join(Message, Message.id == Writeback.message_id)
                              .where(Message.public_id == message_public_id, Writeback.host == HOST)
                              .order_by(Writeback.id.desc()).limit(1))


def sent_message(ctx: Context, workspace_id: int, message_public_id: str) -> dict[str, Any] | None:
    """A message this workspace sent, as surfaces show it (for a status refresh)."""
    with ctx.store.session() as session:
        message = session.scalar(select(Message).where(Message.workspace_id == workspace_id,
                                                       Message.public_id == message_public_id))
        return message_view(message, message.sender) if message is not None else None
