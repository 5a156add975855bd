"""HubSpot: installing Herald in a portal, reading the contact, compose links, the card's data, and
recording each send on the contact's timeline.

Protocol facts and their sources are in reference/hubspot.md (§4.1 OAuth, §4.2 communications,
§4.3 notes, §4.5 contacts, §3.3 the compose modal). Every HubSpot call goes to
``config.hubspot_api_base`` with a timeout well inside the 15 s ``hubspot.fetch`` budget.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import re
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping
from urllib.parse import quote, urlencode

import jwt
import requests
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, object_session

from ..domain import phone
from ..domain import status as st
from ..domain.refusals import Refused
from ..domain.channels import CHANNEL_LABELS
from ..store.models import Installation, Message, UsedToken, Workspace
from . import panel
from .context import Context
from .demo import CUSTOMERS, DEMO_HUBSPOT_PORTAL
from .workspaces import create_workspace, workspace_for_host

log = logging.getLogger(__name__)

HOST = "hubspot"
AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
TOKEN_PATH = "/oauth/2026-03/token"
INTROSPECT_PATH = "/oauth/2026-03/token/introspect"
LEGACY_TOKEN_INFO_PATH = "/oauth/v1/access-tokens/{token}"  # hub id fallback until 2027-02-16
SCOPES = ("oauth", "crm.objects.contacts.read", "crm.objects.contacts.write")
REFRESH_MARGIN = timedelta(minutes=5)  # refresh well before HubSpot's 30-minute expiry
DEFAULT_EXPIRES_IN = 1800
HTTP_TIMEOUT = (3.05, 8.0)
CONTACT_PROPERTIES = ("firstname", "lastname", "email", "phone", "mobilephone", "hs_whatsapp_phone_number")
CONTACT_CACHE_SECONDS = 60.0
COMPOSE_TTL = timedelta(minutes=15)
CLASSIC_COMPOSE_TTL = timedelta(minutes=30)  # a classic card's link is minted when the record is viewed
OAUTH_STATE_TTL = timedelta(minutes=15)
COMPOSE_AUDIENCE = "herald:hubspot-compose"
OAUTH_AUDIENCE = "herald:hubspot-oauth"
COMMUNICATION_TO_CONTACT = 81
NOTE_TO_CONTACT = 202
CHANNEL_TYPES = {"whatsapp": "WHATS_APP", "sms": "SMS"}  # Viber has none: it is logged as a note
_RECORD_ID = re.compile(r"[0-9]{1,20}")

_http = requests.Session()


class HubSpotError(Exception):
    """Something a person must be told, with the HTTP status a surface answers with."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AccessRevoked(HubSpotError):
    """HubSpot no longer accepts the portal's refresh token: the app was uninstalled or access revoked."""


# --------------------------------------------------------------------------- portals and set-up


@dataclass(frozen=True)
class Portal:
    """A HubSpot portal as Herald knows it: its workspace and whether it can be served."""

    portal_id: str
    workspace_id: int
    workspace_name: str
    demo: bool
    installed: bool
    has_senders: bool
    region: str | None


def valid_record_id(value: str | None) -> bool:
    """HubSpot portal and record ids are numbers; anything else never reaches a URL."""
    return bool(value) and bool(_RECORD_ID.fullmatch(value or ""))


def is_demo_portal(ctx: Context, portal_id: str) -> bool:
    """The embedded default answers for the demo portal from its own directory, offline."""
    return bool(ctx.config.demo) and portal_id == DEMO_HUBSPOT_PORTAL


def resolve_portal(ctx: Context, portal_id: str) -> Portal | None:
    """The portal's workspace and set-up state in two indexed queries (the card is on every record view)."""
    with ctx.store.session() as session:
        workspace = session.scalar(select(Workspace).options(joinedload(Workspace.senders))
                                   .where(Workspace.hubspot_portal_id == str(portal_id)))
        if workspace is None:
            return None
        installation = session.scalar(select(Installation.id).where(Installation.host == HOST,
                                                                    Installation.external_id == str(portal_id)))
        installed = installation is not None
        numbers = [s.from_number for s in workspace.senders if s.from_number.startswith("+")]
        return Portal(portal_id=portal_id, workspace_id=workspace.id, workspace_name=workspace.name,
                      demo=is_demo_portal(ctx, portal_id), installed=installed,
                      has_senders=bool(workspace.senders),
                      region=phone.region_of(numbers[0]) if numbers else None)


def install_url(ctx: Context) -> str:
    return f"{_base(ctx)}/hubspot/oauth/start"


def setup_message(ctx: Context, portal_id: str, portal: Portal | None) -> str:
    """What is still missing before this portal can use Herald, in words; empty when nothing is."""
    if portal is None:
        return (f"Herald is not connected to this HubSpot account ({portal_id}) yet. A HubSpot super admin "
                f"connects it by opening {install_url(ctx)} and approving access.")
    if not portal.demo and not portal.installed:
        return (f"Herald's workspace “{portal.workspace_name}” is linked to this HubSpot account, but access "
                f"to HubSpot has not been approved yet. A HubSpot super admin opens {install_url(ctx)} to "
                "finish set-up.")
    if not portal.has_senders:
        return (f"Herald is connected, but its workspace “{portal.workspace_name}” has no WhatsApp, SMS or "
                f"Viber sender yet. A Herald operator adds one with `flask --app app sender add "
                f"{portal.workspace_name} …`.")
    return ""


# --------------------------------------------------------------------------- contacts


@dataclass(frozen=True)
class Contact:
    """A HubSpot contact as the card and the compose page need it."""

    id: str
    first_name: str
    last_name: str
    email: str
    phone: str | None  # E.164, or None when HubSpot has no usable number
    raw_phone: str = ""

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.email or f"Contact {self.id}"

    def prefill(self) -> dict[str, str]:
        """The values templates' placeholders may be pre-filled from."""
        return {"name": self.name, "first_name": self.first_name, "last_name": self.last_name,
                "email": self.email, "phone": self.phone or ""}


# The demo portal's contacts: ids a playground visitor can type, each one of the demo customers.
DEMO_CONTACTS: dict[str, tuple[str, str, str, str | None]] = {
    "101": ("Asha", "Patel", "asha.patel@example.com", CUSTOMERS["open_window"]),
    "102": ("Bruno", "Costa", "bruno.costa@example.com", CUSTOMERS["opted_out"]),
    "103": ("Chloé", "Martin", "chloe.martin@example.com", CUSTOMERS["undeliverable"]),
    "104": ("Dmitri", "Ivanov", "dmitri.ivanov@example.com", CUSTOMERS["new"]),
    "105": ("Emeka", "Okafor", "emeka.okafor@example.com", None),
}
DEMO_NOTES = {
    "101": "wrote on WhatsApp and Viber two hours ago",
    "102": "replied STOP to SMS",
    "103": "the sandbox cannot deliver to this number",
    "104": "never wrote in",
    "105": "no phone number",
}


def demo_contact(contact_id: str) -> Contact:
    if contact_id not in DEMO_CONTACTS:
        raise HubSpotError(f"The demo account has no contact {contact_id}; its contacts are "
                           f"{', '.join(DEMO_CONTACTS)}.", 404)
    first, last, email, number = DEMO_CONTACTS[contact_id]
    return Contact(contact_id, first, last, email, number, number or "")


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


def contact_from_properties(contact_id: str, properties: Mapping[str, Any], region: str | None) -> Contact:
    """Pure: a CRM answer's properties → Contact. Mobile first: WhatsApp and SMS reach mobiles."""
    def prop(name: str) -> str:
        value = properties.get(name)
        return str(value).strip() if value is not None else ""

    number, raw = None, ""
    for name in ("mobilephone", "hs_whatsapp_phone_number", "phone"):
        raw = prop(name)
        number = panel.normalise_or_none(raw, region)
        if number:
            break
    raw = raw if number else (prop("mobilephone") or prop("phone") or prop("hs_whatsapp_phone_number"))
    return Contact(contact_id, prop("firstname"), prop("lastname"), prop("email"), number, raw)


def fetch_contact(ctx: Context, portal: Portal, contact_id: str, fresh: bool = True) -> Contact:
    """The contact from HubSpot's CRM (or the demo directory); ``fresh=False`` accepts a minute-old copy."""
    if not valid_record_id(contact_id):
        raise HubSpotError("A HubSpot contact id is a number.", 400)
    if portal.demo:
        return demo_contact(contact_id)
    cache = _cache(ctx)
    if not fresh:
        cached = cache.get(portal.portal_id, contact_id)
        if cached is not None:
            return cached
    query = urlencode({"properties": ",".join(CONTACT_PROPERTIES)})
    response = _authorized(ctx, portal.portal_id, "GET", f"/crm/v3/objects/contacts/{contact_id}?{query}")
    if response.status_code == 404:
        raise HubSpotError(f"HubSpot has no contact {contact_id} in this account.", 404)
    if response.status_code == 403:
        raise HubSpotError("HubSpot did not let Herald read this contact: reinstall Herald so it may read "
                           "contacts.", 502)
    if not response.ok:
        raise HubSpotError(f"HubSpot could not return this contact (HTTP {response.status_code}); try again "
                           "in a moment.", 502)
    properties = (_json(response).get("properties") or {})
    contact = contact_from_properties(contact_id, properties, portal.region)
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


@dataclass(frozen=True)
class ComposeGrant:
    """What a compose link allows: one send, to one contact of one portal, on behalf of one user."""

    portal_id: str
    contact_id: str
    user_id: str
    user_email: str
    jti: str
    expires_at: datetime

    @property
    def requested_by(self) -> str:
        if self.user_email:
            return self.user_email
        return f"hubspot-user:{self.user_id}" if self.user_id else f"hubspot-portal:{self.portal_id}"


class ComposeLinkError(Exception):
    """A compose link that cannot be used, with the sentence the page shows."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def issue_compose_token(ctx: Context, portal_id: str, contact_id: str, user_id: str = "", user_email: str = "",
                        ttl: timedelta = COMPOSE_TTL) -> str:
    """A signed, short-lived token naming the portal, the contact and the HubSpot user."""
    now = ctx.now()
    claims = {"aud": COMPOSE_AUDIENCE, "portal": str(portal_id), "contact": str(contact_id),
              "uid": str(user_id or ""), "email": str(user_email or ""), "iat": int(now.timestamp()),
              "exp": int((now + ttl).timestamp()), "jti": "hsc_" + secrets.token_urlsafe(18)}
    return jwt.encode(claims, _token_key(ctx), algorithm="HS256")


def _token_key(ctx: Context) -> bytes:
    """A key for HubSpot links and states alone, derived from SECRET_KEY (no other token verifies here)."""
    return hmac.new(str(ctx.config.secret_key).encode(), b"herald/hubspot/tokens", hashlib.sha256).digest()


def compose_url(ctx: Context, token: str) -> str:
    return f"{_base(ctx)}/hubspot/compose?token={quote(token, safe='')}"


def read_compose_token(ctx: Context, token: str | None, check_used: bool = True) -> ComposeGrant:
    """The grant a compose token carries, or :class:`ComposeLinkError` saying why it cannot be used."""
    claims = _decode(ctx, token, COMPOSE_AUDIENCE, ("portal", "contact", "jti", "exp"))
    if claims is None:
        raise ComposeLinkError("This link is not a valid Herald compose link. Close this window and open it "
                               "again from the contact card.", "invalid")
    expires_at = datetime.fromtimestamp(int(claims["exp"]), timezone.utc)
    if ctx.now() >= expires_at:
        raise ComposeLinkError("This compose window has expired. Close it and choose Send message on the "
                               "contact card again.", "expired")
    grant = ComposeGrant(str(claims["portal"]), str(claims["contact"]), str(claims.get("uid") or ""),
                         str(claims.get("email") or ""), str(claims["jti"]), expires_at)
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


def _decode(ctx: Context, token: str | None, audience: str, required: tuple[str, ...]) -> dict[str, Any] | None:
    if not token or len(token) > 4096:
        return None
    try:
        # Times are checked against Herald's clock, not PyJWT's, so they follow the injected clock.
        return jwt.decode(token, _token_key(ctx), algorithms=["HS256"], audience=audience,
                          options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                   "require": list(required)})
    except jwt.PyJWTError:
        return None


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
    writeback = None if portal.demo else {"host": HOST, "portal_id": grant.portal_id,
                                          "contact_id": grant.contact_id}
    return ComposeTarget(portal, contact, writeback)


# --------------------------------------------------------------------------- OAuth install


def issue_oauth_state(ctx: Context) -> tuple[str, str]:
    """A one-time state for the authorize redirect, and the nonce the installer's browser keeps."""
    nonce = secrets.token_urlsafe(24)
    now = ctx.now()
    state = jwt.encode({"aud": OAUTH_AUDIENCE, "nonce": nonce, "iat": int(now.timestamp()),
                        "exp": int((now + OAUTH_STATE_TTL).timestamp()),
                        "jti": "hso_" + secrets.token_urlsafe(18)}, _token_key(ctx), algorithm="HS256")
    return state, nonce


def check_oauth_state(ctx: Context, state: str, nonce: str | None) -> None:
    """The state must be ours, fresh, unspent and started in this browser; spends it."""
    claims = _decode(ctx, state, OAUTH_AUDIENCE, ("nonce", "jti", "exp"))
    if claims is None:
        raise HubSpotError("This install link is not one Herald issued. Start again from "
                           f"{install_url(ctx)}.", 400)
    if ctx.now().timestamp() >= int(claims["exp"]):
        raise HubSpotError(f"This install link expired. Start again from {install_url(ctx)}.", 400)
    if not nonce or not secrets.compare_digest(str(claims["nonce"]), nonce):
        raise HubSpotError("This install was started in another browser. Start again from "
                           f"{install_url(ctx)} in this one.", 400)
    if not consume(ctx, str(claims["jti"])):
        raise HubSpotError(f"This install link was already used. Start again from {install_url(ctx)}.", 400)


def redirect_uri(ctx: Context) -> str:
    return f"{_base(ctx)}/hubspot/oauth/callback"


def authorize_url(ctx: Context, state: str) -> str:
    query = urlencode({"client_id": ctx.config.hubspot_client_id, "redirect_uri": redirect_uri(ctx),
                       "scope": " ".join(SCOPES), "state": state}, quote_via=quote)
    return f"{AUTHORIZE_URL}?{query}"


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int
    hub_id: str | None
    user: str | None
    scopes: str


def parse_token_answer(body: Mapping[str, Any]) -> TokenSet:
    """Pure: HubSpot's token answer, snake_case (v3, 2026-03) or camelCase (older references)."""
    def pick(*names: str) -> Any:
        for name in names:
            if body.get(name) not in (None, ""):
                return body[name]
        return None

    access = pick("access_token", "accessToken")
    if not access:
        raise HubSpotError("HubSpot's answer carried no access token.", 502)
    scopes = pick("scope", "scopes") or ""
    hub = pick("hub_id", "hubId")
    user = pick("user", "user_email", "user_id", "userId")
    return TokenSet(access_token=str(access), refresh_token=str(pick("refresh_token", "refreshToken") or ""),
                    expires_in=int(pick("expires_in", "expiresIn") or DEFAULT_EXPIRES_IN),
                    hub_id=str(hub) if hub is not None else None, user=str(user) if user is not None else None,
                    scopes=" ".join(scopes) if isinstance(scopes, list) else str(scopes))


def _token_request(ctx: Context, fields: Mapping[str, str]) -> TokenSet:
    data = {**fields, "client_id": ctx.config.hubspot_client_id, "client_secret": ctx.config.hubspot_client_secret}
    try:
        response = _http.post(_api_url(ctx, TOKEN_PATH), data=data, timeout=HTTP_TIMEOUT,
                              headers={"Accept": "application/json"})
    except requests.RequestException:
        raise HubSpotError("HubSpot's sign-in service did not answer; try again in a moment.", 504) from None
    body = _json(response)
    if not response.ok:
        error = str(body.get("error") or body.get("status") or "")
        if error in ("invalid_grant", "BAD_REFRESH_TOKEN", "BAD_AUTH_CODE"):
            if fields.get("grant_type") == "refresh_token":
                raise AccessRevoked(f"HubSpot no longer accepts Herald's access to this account (the app may "
                                    f"have been uninstalled). A super admin reinstalls it at {install_url(ctx)}.",
                                    409)
            raise HubSpotError(f"HubSpot did not accept this sign-in code (it may have been used already). "
                               f"Start again from {install_url(ctx)}.", 400)
        raise HubSpotError(f"HubSpot refused to issue a token (HTTP {response.status_code}"
                           f"{': ' + error if error else ''}).", 502)
    return parse_token_answer(body)


def _hub_id(ctx: Context, tokens: TokenSet) -> tuple[str, str | None]:
    """The account the tokens belong to: from the token answer, else introspection, else v1 token info."""
    if tokens.hub_id:
        return tokens.hub_id, tokens.user
    for method, path, kwargs in (
        ("POST", INTROSPECT_PATH, {"data": {"token": tokens.access_token, "token_type_hint": "access_token",
                                            "client_id": ctx.config.hubspot_client_id,
                                            "client_secret": ctx.config.hubspot_client_secret}}),
        ("GET", LEGACY_TOKEN_INFO_PATH.format(token=quote(tokens.access_token, safe="")), {}),
    ):
        try:
            response = _http.request(method, _api_url(ctx, path), timeout=HTTP_TIMEOUT,
                                     headers={"Accept": "application/json"}, **kwargs)
        except requests.RequestException:
            continue
        body = _json(response)
        hub = body.get("hub_id") or body.get("hubId")
        if response.ok and hub:
            return str(hub), (str(body.get("user") or body.get("user_id") or "") or None)
    raise HubSpotError("HubSpot did not say which account Herald was installed in; try installing again.", 502)


@dataclass(frozen=True)
class Installed:
    portal_id: str
    workspace_name: str
    workspace_created: bool


def complete_install(ctx: Context, code: str) -> Installed:
    """Exchange the authorization code, learn the hub id, and bind the tokens to its workspace.

    A portal an operator already linked (``workspace create … --hubspot-portal-id``) keeps its workspace;
    any other gets a new, empty workspace of its own, which needs senders before it can send.
    """
    if not code or len(code) > 512:
        raise HubSpotError(f"HubSpot sent no sign-in code. Start again from {install_url(ctx)}.", 400)
    tokens = _token_request(ctx, {"grant_type": "authorization_code", "code": code,
                                  "redirect_uri": redirect_uri(ctx)})
    portal_id, user = _hub_id(ctx, tokens)
    created = False
    with ctx.store.session() as session:
        workspace = workspace_for_host(session, HOST, portal_id)
    if workspace is None:
        name = f"hubspot-{portal_id}"
        try:
            workspace = create_workspace(ctx, name, hubspot_portal_id=portal_id)
            created = True
        except Refused:
            with ctx.store.session() as session:  # a concurrent install created it first
                workspace = workspace_for_host(session, HOST, portal_id)
            if workspace is None:
                raise HubSpotError(f"Herald could not create a workspace for HubSpot account {portal_id}: a "
                                   f"workspace named “{name}” already exists. A Herald operator links it with "
                                   "the portal id and you install again.", 409) from None
    now = ctx.now()
    with ctx.store.session() as session:
        row = _installation(session, portal_id)
        if row is None:
            row = Installation(workspace_id=workspace.id, host=HOST, external_id=portal_id, created_at=now)
            session.add(row)
        row.workspace_id = workspace.id
        _store_tokens(ctx, row, tokens, now)
        row.installed_by = (user or "")[:255] or None
        row.api_base = ctx.config.hubspot_api_base
    log.info("HubSpot portal %s installed for workspace %s", portal_id, workspace.name)
    return Installed(portal_id, workspace.name, created)


def save_installation(ctx: Context, portal_id: str, tokens: TokenSet) -> None:
    """Record tokens for a portal whose workspace already exists (operators' scripts, tests)."""
    now = ctx.now()
    with ctx.store.session() as session:
        workspace = workspace_for_host(session, HOST, portal_id)
        if workspace is None:
            raise HubSpotError(f"No workspace is linked to HubSpot account {portal_id}.", 404)
        row = _installation(session, portal_id) or Installation(workspace_id=workspace.id, host=HOST,
                                                                 external_id=portal_id, created_at=now)
        session.add(row)
        _store_tokens(ctx, row, tokens, now)


def _store_tokens(ctx: Context, row: Installation, tokens: TokenSet, now: datetime) -> None:
    row.access_token_sealed = ctx.store.seal(tokens.access_token)
    if tokens.refresh_token:  # a refresh answer may omit it; the old one stays valid
        row.refresh_token_sealed = ctx.store.seal(tokens.refresh_token)
    row.expires_at = now + timedelta(seconds=max(tokens.expires_in, 60))
    if tokens.scopes:
        row.scopes = tokens.scopes
    row.updated_at = now


def _installation(session: Session, portal_id: str) -> Installation | None:
    return session.scalar(select(Installation).where(Installation.host == HOST,
                                                     Installation.external_id == str(portal_id)))


def needs_refresh(expires_at: datetime | None, now: datetime) -> bool:
    """Pure: refresh when the token is gone, expired or about to be."""
    return expires_at is None or now >= expires_at - REFRESH_MARGIN


def access_token(ctx: Context, session: Session, portal_id: str, force_refresh: bool = False) -> str:
    """A usable access token for the portal, refreshed in ``session`` when close to expiry."""
    row = _installation(session, portal_id)
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
    tokens = _token_request(ctx, {"grant_type": "refresh_token", "refresh_token": refresh})
    _store_tokens(ctx, row, tokens, now)
    session.flush()
    return tokens.access_token


def _authorized(ctx: Context, portal_id: str, method: str, path: str, session: Session | None = None,
                **kwargs: Any) -> requests.Response:
    """Call HubSpot's API as the portal; an answer of 401 renews the token once and tries again."""
    def call(token: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            return _http.request(method, _api_url(ctx, path), headers=headers, timeout=HTTP_TIMEOUT, **kwargs)
        except requests.RequestException:
            raise HubSpotError("HubSpot did not answer in time; try again in a moment.", 504) from None

    def run(s: Session) -> requests.Response:
        response = call(access_token(ctx, s, portal_id))
        if response.status_code == 401:
            response = call(access_token(ctx, s, portal_id, force_refresh=True))
        return response

    if session is not None:
        return run(session)
    with ctx.store.session() as own:
        return run(own)


# --------------------------------------------------------------------------- write-back


def communication_payload(channel: str, text: str, when: datetime, contact_id: str) -> dict[str, Any]:
    """Pure: a Communication (WhatsApp or SMS) logged on the contact (reference §4.2)."""
    return {
        "properties": {"hs_communication_channel_type": CHANNEL_TYPES[channel],
                       "hs_communication_logged_from": "CRM", "hs_communication_body": html.escape(text),
                       "hs_timestamp": _iso_z(when)},
        "associations": [{"to": {"id": str(contact_id)},
                          "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                     "associationTypeId": COMMUNICATION_TO_CONTACT}]}],
    }


def note_payload(channel: str, text: str, when: datetime, contact_id: str, recipient: str,
                 status_label: str) -> dict[str, Any]:
    """Pure: a note for channels HubSpot's Communications cannot name (Viber); its body is HTML."""
    body = (f"<p><strong>{html.escape(CHANNEL_LABELS.get(channel, channel))} message</strong> sent with Herald "
            f"to {html.escape(phone.display(recipient))} ({html.escape(status_label)})</p>"
            f"<p>{html.escape(text).replace(chr(10), '<br>')}</p>")
    return {
        "properties": {"hs_timestamp": _iso_z(when), "hs_note_body": body[:65536]},
        "associations": [{"to": {"id": str(contact_id)},
                          "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                     "associationTypeId": NOTE_TO_CONTACT}]}],
    }


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
    if message.channel in CHANNEL_TYPES:
        kind, payload = "communications", communication_payload(message.channel, message.text,
                                                                 message.created_at, contact_id)
    else:
        kind, payload = "notes", note_payload(message.channel, message.text, message.created_at, contact_id,
                                              message.recipient, st.label(message.status).lower())
    response = _authorized(ctx, portal_id, "POST", f"/crm/v3/objects/{kind}", session=session, json=payload)
    if not response.ok:
        detail = str(_json(response).get("message") or "")[:300]
        raise HubSpotError(f"HubSpot answered HTTP {response.status_code} when recording {message.public_id} "
                           f"as {kind[:-1]}{': ' + detail if detail else ''}")
    row.target = {**target, "hubspot_object_type": kind, "hubspot_object_id": str(_json(response).get("id", ""))}


# --------------------------------------------------------------------------- HTTP and formats


def _base(ctx: Context) -> str:
    return str(ctx.config.public_base_url).rstrip("/")


def _api_url(ctx: Context, path: str) -> str:
    return str(ctx.config.hubspot_api_base).rstrip("/") + path


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _iso_z(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
