"""Herald installed in Intercom: access tokens, regional API hosts, and notes on conversations.

Everything here talks to Intercom's REST API (reference §5, §6) or to the store about an Intercom
installation. Canvas Kit requests themselves are handled by the web layer; it calls these functions.
Tokens are sealed before they reach the database and never appear in logs or error messages.
"""

from __future__ import annotations

import html
import logging
import threading
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlencode

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain import phone
from ..domain import settings as workspace_settings
from ..domain.purposes import PURPOSES
from ..domain.channels import CHANNEL_LABELS, CHANNELS
from ..domain.status import label as status_label
from ..store.models import Installation, Message, Workspace, Writeback
from .context import Context
from .send import message_view

log = logging.getLogger(__name__)

HOST = "intercom"
API_VERSION = "2.14"  # pinned: the payload shapes Herald reads follow the app's API version
APP_ORIGIN = "https://app.intercom.com"
US_API = "https://api.intercom.io"
REGIONAL_API = {"eu": "https://api.eu.intercom.io", "au": "https://api.au.intercom.io"}
TIMEOUT = (3.05, 5.0)  # connect, read: a sidebar request must answer in a few seconds


class IntercomError(Exception):
    """Intercom's API refused or could not be reached; the message never contains a token."""

    def __init__(self, message: str, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


# --------------------------------------------------------------------------- hosts and URLs


def api_base(region: str | None, default: str) -> str:
    """The API host for a workspace region ("eu", "AU", …); the configured default for US or unknown."""
    return REGIONAL_API.get((region or "").strip().lower(), default.rstrip("/"))


def authorize_url(client_id: str, state: str, redirect_uri: str) -> str:
    """Where an installing admin is sent to grant Herald access (reference §5.2 step 3)."""
    return f"{APP_ORIGIN}/oauth?" + urlencode({"client_id": client_id, "state": state,
                                                "redirect_uri": redirect_uri})


def install_redirect(success: bool, error_message: str = "") -> str:
    """Intercom's App Store landing page after an install attempt (reference §5.2 step 7)."""
    query = {"install_success": "true" if success else "false"}
    if not success:
        query["error_message"] = error_message or "Herald could not be installed."
    return f"{APP_ORIGIN}/appstore/redirect?" + urlencode(query)


# --------------------------------------------------------------------------- HTTP

_local = threading.local()


def _http() -> requests.Session:
    """One pooled session per thread: a note per send should not pay a new TLS handshake."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _headers(token: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "Intercom-Version": API_VERSION}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _error_from(response: requests.Response, what: str) -> IntercomError:
    """Intercom's error list in words: `{"type":"error.list","errors":[{"code","message"}]}`."""
    code, message = "", ""
    try:
        body = response.json()
        first = (body.get("errors") or [{}])[0] if isinstance(body, dict) else {}
        code, message = str(first.get("code") or ""), str(first.get("message") or "")
    except ValueError:
        pass
    detail = f"{code}: {message}" if code and message else (code or message or response.reason or "")
    return IntercomError(f"Intercom answered {response.status_code} to {what}" + (f" ({detail})" if detail else ""),
                         status=response.status_code, code=code)


def _call(method: str, url: str, what: str, token: str | None, **kwargs: Any) -> dict[str, Any]:
    try:
        response = _http().request(method, url, headers={**_headers(token), **kwargs.pop("headers", {})},
                                   timeout=TIMEOUT, **kwargs)
    except requests.RequestException as error:
        raise IntercomError(f"Intercom could not be reached for {what} ({type(error).__name__})") from None
    if response.status_code >= 400:
        raise _error_from(response, what)
    try:
        body = response.json()
    except ValueError:
        body = {}
    return body if isinstance(body, dict) else {}


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
        body = _call("GET", f"{base}/contacts/{contact_id}", "a contact lookup", token)
    except IntercomError as error:
        log.warning("contact lookup in Intercom failed: %s", error)
        return None
    value = body.get("formatted_phone") or body.get("phone")
    return str(value) if value else None


# --------------------------------------------------------------------------- install and uninstall


@dataclass(frozen=True)
class Installed:
    workspace_name: str
    intercom_workspace_id: str
    created_workspace: bool


def exchange_code(ctx: Context, code: str) -> str:
    """Trade an OAuth code for an access token at /auth/eagle/token (reference §5.2 step 5)."""
    config = ctx.config
    body = _call("POST", f"{config.intercom_api_base}/auth/eagle/token", "the OAuth token exchange", None,
                 data={"code": code, "client_id": config.intercom_client_id,
                       "client_secret": config.intercom_client_secret})
    token = body.get("access_token") or body.get("token")
    if not token:
        raise IntercomError("Intercom's token exchange answered without a token")
    return str(token)


def identify(ctx: Context, token: str, base: str | None = None) -> dict[str, Any]:
    """GET /me: the admin who installed and the app (workspace) the token belongs to."""
    return _call("GET", f"{(base or ctx.config.intercom_api_base).rstrip('/')}/me", "GET /me", token)


def _free_name(session: Session, wanted: str, fallback: str) -> str:
    name = (wanted or "").strip()[:120] or fallback
    if session.scalar(select(Workspace.id).where(Workspace.name == name)) is None:
        return name
    return f"{name[:100]} ({fallback})"[:120]


def complete_install(ctx: Context, code: str) -> Installed:
    """Exchange the code, ask Intercom which workspace the token is for, and keep the token sealed there.

    A workspace Herald does not know yet is created and linked, so the sidebar answers at once;
    an operator then adds its senders.
    """
    token = exchange_code(ctx, code)
    me = identify(ctx, token)
    app_info = me.get("app") or {}
    workspace_id = str(app_info.get("id_code") or "").strip()
    if not workspace_id:
        raise IntercomError("Intercom's /me did not name the workspace this token belongs to")
    base = api_base(app_info.get("region"), ctx.config.intercom_api_base)
    now = ctx.now()
    with ctx.store.session() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.intercom_workspace_id == workspace_id))
        created = workspace is None
        if workspace is None:
            workspace = Workspace(name=_free_name(session, str(app_info.get("name") or ""), workspace_id),
                                  intercom_workspace_id=workspace_id, settings={"max_sms_segments": 10},
                                  created_at=now)
            session.add(workspace)
            session.flush()
        installation = session.scalar(select(Installation).where(Installation.host == HOST,
                                                                 Installation.external_id == workspace_id))
        if installation is None:
            installation = Installation(host=HOST, external_id=workspace_id, created_at=now)
            session.add(installation)
        installation.workspace_id = workspace.id
        installation.access_token_sealed = ctx.store.seal(token)
        installation.api_base = base
        installation.installed_by = str(me.get("email") or me.get("id") or "")[:255] or None
        installation.updated_at = now
        log.info("Intercom workspace %s installed Herald (workspace %s)", workspace_id, workspace.name)
        return Installed(workspace.name, workspace_id, created)


def uninstall(ctx: Context, intercom_workspace_id: str, signed: bool) -> bool:
    """Forget the workspace's token; returns True when one was removed.

    Signed or not, the notice is acted on only when Intercom itself no longer accepts the token: the
    Canvas Kit signature has no timestamp and names no endpoint, so any signed panel request replayed
    here would otherwise remove a working installation.
    """
    with ctx.store.session() as session:
        installation = session.scalar(select(Installation).where(Installation.host == HOST,
                                                                 Installation.external_id == intercom_workspace_id))
        if installation is None:
            return False
        token = ctx.store.unseal(installation.access_token_sealed) if installation.access_token_sealed else None
        if token:
            try:
                identify(ctx, token, installation.api_base)
                log.info("uninstall notice for %s (signed: %s) ignored: the token still works",
                         intercom_workspace_id, signed)
                return False
            except IntercomError as error:
                if error.status not in (401, 403):
                    return False  # Intercom unreachable: keep the token, the notice is unconfirmed
        session.delete(installation)
        log.info("Intercom workspace %s uninstalled Herald; its token was removed", intercom_workspace_id)
        return True


# --------------------------------------------------------------------------- notes


def note_body(view: Mapping[str, Any]) -> str:
    """The note's HTML: channel, number, text and status, every value escaped (notes accept some HTML)."""
    e = html.escape
    channel = e(view.get("channel_label") or CHANNEL_LABELS.get(str(view.get("channel")), str(view.get("channel"))))
    to = e(phone.display(view["to"]) if view.get("to") else "")
    sender = f" from {e(phone.display(view['from']) if str(view['from']).startswith('+') else view['from'])}" \
        if view.get("from") else ""
    text = "<br>".join(e(line) for line in str(view.get("text") or "").splitlines())
    details = [f"Status: {e(status_label(str(view.get('status') or '')))}"]
    if view.get("template"):
        details.insert(0, f"Template {e(view['template'])} ({e(view.get('language') or '')})")
    purpose = PURPOSES.get(str(view.get("purpose") or ""))
    if purpose:
        details.append(f"Purpose: {e(purpose.label)}")
    if view.get("id"):
        details.append(f"Herald id {e(view['id'])}")
    if view.get("error_message"):
        details.append(e(view["error_message"]))
    status = str(view.get("status") or "")
    if status == "failed":
        headline = f"⚠️ <b>{channel}</b> message to <b>{to}</b>{sender} was not sent by Herald"
    elif status == "unknown":
        headline = f"⚠️ <b>{channel}</b> message to <b>{to}</b>{sender}: Herald does not know whether it went out"
    else:
        headline = f"📤 <b>{channel}</b> message sent with Herald to <b>{to}</b>{sender}"
    return f"<p>{headline}</p><p>“{text}”</p><p>{' · '.join(details)}</p>"


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
    base = api_base(target.get("region"), installed_base or ctx.config.intercom_api_base)
    admin_id = str(target.get("admin_id") or "")
    conversation_id = str(target.get("conversation_id") or "")
    if getattr(row, "interrupted", False) and _already_noted(base, token, target, message.public_id):
        return  # the attempt that was cut off had written it
    if conversation_id:
        if not admin_id:
            raise IntercomError("the note has no admin to author it")
        _call("POST", f"{base}/conversations/{conversation_id}/reply", "the conversation note", token,
              json={"message_type": "note", "type": "admin", "admin_id": admin_id, "body": body})
    elif target.get("contact_id"):
        payload: dict[str, Any] = {"body": body}
        if admin_id:
            payload["admin_id"] = admin_id
        _call("POST", f"{base}/contacts/{target['contact_id']}/notes", "the contact note", token, json=payload)
    else:
        raise IntercomError("the send names neither a conversation nor a contact to note it on")


def _already_noted(base: str, token: str, target: Mapping[str, Any], public_id: str) -> bool:
    """Does the conversation (or contact) already carry the note naming this message? Every note says
    "Herald id msg_…", so after an interrupted attempt Herald looks before it writes again."""
    conversation_id = str(target.get("conversation_id") or "")
    if conversation_id:
        found = _call("GET", f"{base}/conversations/{conversation_id}", "the conversation", token)
        parts = (found.get("conversation_parts") or {}).get("conversation_parts") or []
        bodies = [str(p.get("body") or "") for p in parts if isinstance(p, dict) and p.get("part_type") == "note"]
    elif target.get("contact_id"):
        found = _call("GET", f"{base}/contacts/{target['contact_id']}/notes", "the contact's notes", token)
        bodies = [str(n.get("body") or "") for n in found.get("data") or [] if isinstance(n, dict)]
    else:
        return False
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
