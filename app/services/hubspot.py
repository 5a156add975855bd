"""HubSpot for the card and the compose page: which portal a request is for and whether it is set
up, the contact, compose links, and recording each send on the contact's timeline.

HubSpot's API itself is :mod:`app.hosts.hubspot` (the demo portal is played by
:mod:`app.hosts.demo`); installing is :mod:`app.services.installs`; the tokens are
:mod:`app.security.tokens`. This module keeps what needs the store: installations' sealed tokens
and their refresh, spent compose links, and the write-back's bookkeeping.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping
from urllib.parse import quote

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, object_session

from ..domain import phone
from ..domain import status as st
from ..hosts.demo import DEMO_CONTACTS, DEMO_NOTES  # noqa: F401  (the playground lists them)
from ..hosts.hubspot import (  # noqa: F401  (the names surfaces and tests use)
    CHANNEL_TYPES,
    AccessRevoked,
    Contact,
    GrantRefused,
    HubSpotClient,
    HubSpotError,
    TokenSet,
    communication_payload,
    contact_from_properties,
    note_payload,
    parse_token_answer,
    timeline_entry,
)
from ..security.tokens import (  # noqa: F401
    CLASSIC_COMPOSE_TTL,
    COMPOSE_TTL,
    OAUTH_STATE_TTL,
    ComposeGrant,
    ComposeLinkError,
    HubSpotTokens,
)
from ..store.models import Installation, Message, UsedToken, Workspace
from . import panel
from .context import Context
from .hostclients import host_clients

log = logging.getLogger(__name__)

HOST = "hubspot"
REFRESH_MARGIN = timedelta(minutes=5)  # refresh well before HubSpot's 30-minute expiry
CONTACT_CACHE_SECONDS = 60.0
_RECORD_ID = re.compile(r"[0-9]{1,20}")


# --------------------------------------------------------------------------- portals and set-up


@dataclass(frozen=True)
class Portal:
    """A HubSpot portal as Herald knows it: its workspace and whether it can be served."""

    portal_id: str
    workspace_id: int
    workspace_name: str
    demo: bool  # played by the demo host: the compose page says its sends go to the sandbox
    installed: bool
    has_senders: bool
    region: str | None


def valid_record_id(value: str | None) -> bool:
    """HubSpot portal and record ids are numbers; anything else never reaches a URL."""
    return bool(value) and bool(_RECORD_ID.fullmatch(value or ""))


def resolve_portal(ctx: Context, portal_id: str) -> Portal | None:
    """The portal's workspace and set-up state in two indexed queries (the card is on every record view)."""
    host = host_clients(ctx).hubspot_for(portal_id)
    with ctx.store.session() as session:
        workspace = session.scalar(select(Workspace).options(joinedload(Workspace.senders))
                                   .where(Workspace.hubspot_portal_id == str(portal_id)))
        if workspace is None:
            return None
        installation = session.scalar(select(Installation.id).where(Installation.host == HOST,
                                                                    Installation.external_id == str(portal_id)))
        installed = installation is not None or not host.needs_install
        numbers = [s.from_number for s in workspace.senders if s.from_number.startswith("+")]
        return Portal(portal_id=portal_id, workspace_id=workspace.id, workspace_name=workspace.name,
                      demo=host.demo, installed=installed, has_senders=bool(workspace.senders),
                      region=phone.region_of(numbers[0]) if numbers else None)


def install_url(ctx: Context) -> str:
    return f"{_base(ctx)}/hubspot/oauth/start"


def setup_message(ctx: Context, portal_id: str, portal: Portal | None) -> str:
    """What is still missing before this portal can use Herald, in words; empty when nothing is."""
    if portal is None:
        return (f"Herald is not connected to this HubSpot account ({portal_id}) yet. A HubSpot super admin "
                f"connects it by opening {install_url(ctx)} and approving access.")
    if not portal.installed:
        return (f"Herald's workspace “{portal.workspace_name}” is linked to this HubSpot account, but access "
                f"to HubSpot has not been approved yet. A HubSpot super admin opens {install_url(ctx)} to "
                "finish set-up.")
    if not portal.has_senders:
        return (f"Herald is connected, but its workspace “{portal.workspace_name}” has no WhatsApp, SMS or "
                f"Viber sender yet. A Herald operator adds one with `flask --app app sender add "
                f"{portal.workspace_name} …`.")
    return ""


# --------------------------------------------------------------------------- contacts


class _ContactCache:
    """A minute's memory of contacts, so the compose page's previews do not each call HubSpot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[str, str], tuple[float, Contact]] = {}

    def get(self, portal_id: str, contact_id: str) -> Contact | None:
        with self._lock:
            item = self._items.get((portal_id, contact_id))
        if item and time.monotonic() - item[0] < CONTACT_CACHE_SECONDS:
            return item[1]
        return None

    def put(self, portal_id: str, contact: Contact) -> None:
        with self._lock:
            if len(self._items) > 5000:
                self._items.clear()
            self._items[(portal_id, contact.id)] = (time.monotonic(), contact)


_caches: "weakref.WeakKeyDictionary[Any, _ContactCache]" = weakref.WeakKeyDictionary()


def _cache(ctx: Context) -> _ContactCache:
    cache = _caches.get(ctx.store)
    if cache is None:
        cache = _caches.setdefault(ctx.store, _ContactCache())
    return cache


class _PortalToken:
    """The portal's access token, read (and refreshed) only when the host asks for it."""

    def __init__(self, ctx: Context, portal_id: str, session: Session | None = None) -> None:
        self.ctx, self.portal_id, self.session = ctx, portal_id, session

    def __call__(self, force_refresh: bool) -> str:
        if self.session is not None:
            return access_token(self.ctx, self.session, self.portal_id, force_refresh)
        with self.ctx.store.session() as own:
            return access_token(self.ctx, own, self.portal_id, force_refresh)


def fetch_contact(ctx: Context, portal: Portal, contact_id: str, fresh: bool = True) -> Contact:
    """The contact from the portal's host; ``fresh=False`` accepts a minute-old copy."""
    if not valid_record_id(contact_id):
        raise HubSpotError("A HubSpot contact id is a number.", 400)
    cache = _cache(ctx)
    if not fresh:
        cached = cache.get(portal.portal_id, contact_id)
        if cached is not None:
            return cached
    host = host_clients(ctx).hubspot_for(portal.portal_id)
    contact = host.contact(_PortalToken(ctx, portal.portal_id), contact_id, portal.region)
    cache.put(portal.portal_id, contact)
    return contact


# --------------------------------------------------------------------------- the card


def card_data(ctx: Context, portal_id: str, contact_id: str) -> dict[str, Any]:
    """What the contact card shows: the contact, set-up state, each channel now, the last messages."""
    if not valid_record_id(portal_id):
        raise HubSpotError("The request names no HubSpot account (portalId).", 400)
    if not valid_record_id(contact_id):
        raise HubSpotError("The request names no HubSpot contact (a numeric contact id).", 400)
    portal = resolve_portal(ctx, portal_id)
    missing = setup_message(ctx, portal_id, portal)
    if missing or portal is None:
        return _setup_needed(contact_id, missing)
    try:
        contact = fetch_contact(ctx, portal, contact_id)
    except AccessRevoked as revoked:
        return _setup_needed(contact_id, revoked.message)
    overview = panel.contact_overview(ctx, portal.workspace_id, contact.phone, contact_ref=contact_id)
    return {
        "contact": {"id": contact_id, "name": contact.name, "phone": contact.phone},
        "setup": {"needed": False, "message": ""},
        "channels": [{k: line[k] for k in ("channel", "label", "state", "summary", "closes_at")}
                     for line in overview["channels"]],
        "messages": [card_message(m) for m in overview["messages"]],
    }


def card_message(view: Mapping[str, Any]) -> dict[str, Any]:
    """A stored message as the card lists it (no more than the card shows)."""
    return {k: view[k] for k in ("id", "channel", "channel_label", "text", "status", "status_label", "created_at")}


def _setup_needed(contact_id: str, message: str) -> dict[str, Any]:
    return {"contact": {"id": contact_id, "name": "", "phone": None}, "setup": {"needed": True, "message": message},
            "channels": [], "messages": []}


# --------------------------------------------------------------------------- compose links


def tokens(ctx: Context) -> HubSpotTokens:
    """HubSpot's compose links and install states, on Herald's clock."""
    return HubSpotTokens(str(ctx.config.secret_key), ctx.now)


def issue_compose_token(ctx: Context, portal_id: str, contact_id: str, user_id: str = "", user_email: str = "",
                        ttl: timedelta = COMPOSE_TTL) -> str:
    """A signed, short-lived token naming the portal, the contact and the HubSpot user."""
    return tokens(ctx).issue_compose(portal_id, contact_id, user_id, user_email, ttl)


def compose_url(ctx: Context, token: str) -> str:
    return f"{_base(ctx)}/hubspot/compose?token={quote(token, safe='')}"


def read_compose_token(ctx: Context, token: str | None, check_used: bool = True) -> ComposeGrant:
    """The grant a compose token carries, or :class:`ComposeLinkError` saying why it cannot be used."""
    grant = tokens(ctx).read_compose(token)
    if check_used and token_used(ctx, grant.jti):
        raise ComposeLinkError("This compose window was already used to send a message. Close it and choose "
                               "Send message on the contact card to write another.", "used")
    return grant


def token_used(ctx: Context, jti: str) -> bool:
    with ctx.store.session() as session:
        return session.get(UsedToken, jti) is not None


def consume(ctx: Context, jti: str) -> bool:
    """Spend a one-time token; False when it was already spent (a second click, a replay)."""
    try:
        with ctx.store.session() as session:
            session.add(UsedToken(jti=jti, used_at=ctx.now()))
    except IntegrityError:
        return False
    return True


def release(ctx: Context, jti: str) -> None:
    """Give a token back when the send it was spent on did not happen."""
    with ctx.store.session() as session:
        session.execute(delete(UsedToken).where(UsedToken.jti == jti))


# --------------------------------------------------------------------------- compose target


@dataclass(frozen=True)
class ComposeTarget:
    """Where a compose link's send goes: the workspace, the contact, and the write-back, if any."""

    portal: Portal
    contact: Contact
    writeback: Mapping[str, Any] | None


def compose_target(ctx: Context, grant: ComposeGrant) -> ComposeTarget:
    """Resolve a grant against the store and HubSpot; :class:`HubSpotError` when it cannot be served."""
    portal = resolve_portal(ctx, grant.portal_id)
    missing = setup_message(ctx, grant.portal_id, portal)
    if missing or portal is None:
        raise HubSpotError(missing, 409)
    contact = fetch_contact(ctx, portal, grant.contact_id, fresh=False)
    records = host_clients(ctx).hubspot_for(grant.portal_id).records_timeline
    writeback = {"host": HOST, "portal_id": grant.portal_id, "contact_id": grant.contact_id} if records else None
    return ComposeTarget(portal, contact, writeback)


# --------------------------------------------------------------------------- installations' tokens


def store_tokens(ctx: Context, row: Installation, tokens_: TokenSet, now: datetime) -> None:
    """Seal a token answer onto the installation (a refresh answer may omit the refresh token)."""
    row.access_token_sealed = ctx.store.seal(tokens_.access_token)
    if tokens_.refresh_token:  # the old one stays valid
        row.refresh_token_sealed = ctx.store.seal(tokens_.refresh_token)
    row.expires_at = now + timedelta(seconds=max(tokens_.expires_in, 60))
    if tokens_.scopes:
        row.scopes = tokens_.scopes
    row.updated_at = now


def installation(session: Session, portal_id: str) -> Installation | None:
    return session.scalar(select(Installation).where(Installation.host == HOST,
                                                     Installation.external_id == str(portal_id)))


def needs_refresh(expires_at: datetime | None, now: datetime) -> bool:
    """Pure: refresh when the token is gone, expired or about to be."""
    return expires_at is None or now >= expires_at - REFRESH_MARGIN


def access_token(ctx: Context, session: Session, portal_id: str, force_refresh: bool = False) -> str:
    """A usable access token for the portal, refreshed in ``session`` when close to expiry."""
    row = installation(session, portal_id)
    if row is None:
        raise HubSpotError(f"Herald is not installed in HubSpot account {portal_id}. A super admin installs it "
                           f"at {install_url(ctx)}.", 409)
    now = ctx.now()
    if not force_refresh and row.access_token_sealed and not needs_refresh(row.expires_at, now):
        return ctx.store.unseal(row.access_token_sealed) or ""
    refresh = ctx.store.unseal(row.refresh_token_sealed)
    if not refresh:
        raise AccessRevoked(f"Herald has no way to renew its HubSpot access for this account. A super admin "
                            f"reinstalls it at {install_url(ctx)}.", 409)
    try:
        fresh = host_clients(ctx).hubspot.refresh(refresh)
    except GrantRefused:
        raise AccessRevoked(f"HubSpot no longer accepts Herald's access to this account (the app may "
                            f"have been uninstalled). A super admin reinstalls it at {install_url(ctx)}.",
                            409) from None
    store_tokens(ctx, row, fresh, now)
    session.flush()
    return fresh.access_token


# --------------------------------------------------------------------------- write-back


def write_communication(ctx: Context, row: Any) -> None:
    """The HubSpot writer: record one accepted send on the contact; raises so the attempt is retried."""
    session = object_session(row)
    if session is None:
        with ctx.store.session() as own:
            _write(ctx, own, own.merge(row))
        return
    _write(ctx, session, row)


def _write(ctx: Context, session: Session, row: Any) -> None:
    target = dict(row.target or {})
    portal_id, contact_id = str(target.get("portal_id") or ""), str(target.get("contact_id") or "")
    if not (valid_record_id(portal_id) and valid_record_id(contact_id)):
        raise HubSpotError("the write-back names no HubSpot portal and contact")
    if target.get("hubspot_object_id"):
        return  # written on an earlier attempt whose bookkeeping did not finish
    message = session.get(Message, row.message_id)
    if message is None:
        raise HubSpotError(f"message {row.message_id} no longer exists")
    if message.status == st.FAILED:
        # HubSpot's timeline is what the customer received; the agent saw the failure on the compose page.
        row.target = {**target, "skipped": "the message was not sent"}
        return
    kind, payload = timeline_entry(message.channel, message.text, message.created_at, contact_id,
                                   message.recipient, st.label(message.status).lower())
    host = host_clients(ctx).hubspot_for(portal_id)
    object_id = host.create_object(_PortalToken(ctx, portal_id, session), kind, payload, message.public_id)
    row.target = {**target, "hubspot_object_type": kind, "hubspot_object_id": object_id}


def _base(ctx: Context) -> str:
    return str(ctx.config.public_base_url).rstrip("/")
