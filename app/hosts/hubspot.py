"""HubSpot's REST API as Herald uses it: OAuth code exchange and refresh, which account a token
belongs to, reading a contact, and logging communications and notes on its timeline.

Knows HubSpot's API and nothing of panels or the store: callers pass tokens in and keep them.
Facts and sources are in reference/hubspot.md (§4.1 OAuth, §4.2 communications, §4.3 notes, §4.5
contacts). Every call goes through the pooled :class:`app.httpclient.HttpClient` with a timeout
well inside the 15 s ``hubspot.fetch`` budget; reads are retried, a POST never is.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Mapping
from urllib.parse import quote, urlencode

from ..domain import phone
from ..domain.refusals import Refused
from ..domain.channels import CHANNEL_LABELS
from ..httpclient import HttpClient, Reply, TransportError

NAME = "hubspot"
AUTHORIZE_URL = "https://app.hubspot.com/oauth/authorize"
TOKEN_PATH = "/oauth/2026-03/token"
INTROSPECT_PATH = "/oauth/2026-03/token/introspect"
LEGACY_TOKEN_INFO_PATH = "/oauth/v1/access-tokens/{token}"  # hub id fallback until 2027-02-16
SCOPES = ("oauth", "crm.objects.contacts.read", "crm.objects.contacts.write")
DEFAULT_EXPIRES_IN = 1800
HTTP_TIMEOUT = (3.05, 8.0)
CONTACT_PROPERTIES = ("firstname", "lastname", "email", "phone", "mobilephone", "hs_whatsapp_phone_number")
COMMUNICATION_TO_CONTACT = 81
NOTE_TO_CONTACT = 202
CHANNEL_TYPES = {"whatsapp": "WHATS_APP", "sms": "SMS"}  # Viber has none: it is logged as a note
REFUSED_GRANTS = ("invalid_grant", "BAD_REFRESH_TOKEN", "BAD_AUTH_CODE")


class HubSpotError(Exception):
    """Something a person must be told, with the HTTP status a surface answers with."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AccessRevoked(HubSpotError):
    """HubSpot no longer accepts the portal's refresh token: the app was uninstalled or access revoked."""


class GrantRefused(HubSpotError):
    """HubSpot's token endpoint refused the code or refresh token (``invalid_grant`` and its kin)."""


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


def authorize_url(client_id: str, redirect_uri: str, state: str) -> str:
    """Where an installing super admin is sent to grant Herald access (reference §4.1)."""
    query = urlencode({"client_id": client_id, "redirect_uri": redirect_uri, "scope": " ".join(SCOPES),
                       "state": state}, quote_via=quote)
    return f"{AUTHORIZE_URL}?{query}"


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


def _e164_or_none(raw: str, region: str | None) -> str | None:
    if not raw:
        return None
    try:
        return phone.normalise(raw, default_region=region)
    except Refused:
        return None


def contact_from_properties(contact_id: str, properties: Mapping[str, Any], region: str | None) -> Contact:
    """Pure: a CRM answer's properties → Contact. Mobile first: WhatsApp and SMS reach mobiles."""
    def prop(name: str) -> str:
        value = properties.get(name)
        return str(value).strip() if value is not None else ""

    number, raw = None, ""
    for name in ("mobilephone", "hs_whatsapp_phone_number", "phone"):
        raw = prop(name)
        number = _e164_or_none(raw, region)
        if number:
            break
    raw = raw if number else (prop("mobilephone") or prop("phone") or prop("hs_whatsapp_phone_number"))
    return Contact(contact_id, prop("firstname"), prop("lastname"), prop("email"), number, raw)


# --------------------------------------------------------------------------- timeline payloads


def iso_z(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def communication_payload(channel: str, text: str, when: datetime, contact_id: str) -> dict[str, Any]:
    """Pure: a Communication (WhatsApp or SMS) logged on the contact (reference §4.2)."""
    return {
        "properties": {"hs_communication_channel_type": CHANNEL_TYPES[channel],
                       "hs_communication_logged_from": "CRM", "hs_communication_body": html.escape(text),
                       "hs_timestamp": iso_z(when)},
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
        "properties": {"hs_timestamp": iso_z(when), "hs_note_body": body[:65536]},
        "associations": [{"to": {"id": str(contact_id)},
                          "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                     "associationTypeId": NOTE_TO_CONTACT}]}],
    }


def timeline_entry(channel: str, text: str, when: datetime, contact_id: str, recipient: str,
                   status_label: str) -> tuple[str, dict[str, Any]]:
    """Pure: which CRM object records a send (a communication, or a note for Viber) and its payload."""
    if channel in CHANNEL_TYPES:
        return "communications", communication_payload(channel, text, when, contact_id)
    return "notes", note_payload(channel, text, when, contact_id, recipient, status_label)


# --------------------------------------------------------------------------- the client

TokenSource = Callable[[bool], str]  # force_refresh -> a usable access token


class HubSpotClient:
    """HubSpot's API at ``api_base`` for one app (client id and secret), over one pooled client."""

    records_timeline = True  # sends are logged on the contact's timeline
    needs_install = True  # a portal is served once a super admin installed Herald there
    demo = False

    def __init__(self, api_base: str, client_id: str, client_secret: str, http: HttpClient | None = None) -> None:
        self.api_base = str(api_base).rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = http or HttpClient("HubSpot", HTTP_TIMEOUT, get_attempts=2, backoff_seconds=0.1)

    def _url(self, path: str) -> str:
        return self.api_base + path

    # ------------------------------------------------------------------ OAuth

    def _token(self, fields: Mapping[str, str]) -> TokenSet:
        data = {**fields, "client_id": self.client_id, "client_secret": self.client_secret}
        try:
            reply = self.http.post_once(self._url(TOKEN_PATH), data=data, headers={"Accept": "application/json"})
        except TransportError:
            raise HubSpotError("HubSpot's sign-in service did not answer; try again in a moment.", 504) from None
        body = reply.json_object()
        if not reply.ok:
            error = str(body.get("error") or body.get("status") or "")
            if error in REFUSED_GRANTS:
                raise GrantRefused(f"HubSpot refused the grant ({error}).", 400)
            raise HubSpotError(f"HubSpot refused to issue a token (HTTP {reply.status}"
                               f"{': ' + error if error else ''}).", 502)
        return parse_token_answer(body)

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        """Trade an authorization code for tokens; :class:`GrantRefused` when HubSpot will not."""
        return self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})

    def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens from a refresh token (the answer may omit a new refresh token)."""
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def account_of(self, tokens: TokenSet) -> tuple[str, str | None] | None:
        """The account (hub id) and user the tokens belong to: from the token answer, else
        introspection, else v1 token info; None when HubSpot does not say."""
        if tokens.hub_id:
            return tokens.hub_id, tokens.user
        accept = {"Accept": "application/json"}
        attempts: tuple[Callable[[], Reply], ...] = (
            lambda: self.http.post_once(self._url(INTROSPECT_PATH), headers=accept,
                                        data={"token": tokens.access_token, "token_type_hint": "access_token",
                                              "client_id": self.client_id, "client_secret": self.client_secret}),
            lambda: self.http.get(self._url(LEGACY_TOKEN_INFO_PATH.format(token=quote(tokens.access_token,
                                                                                       safe=""))), headers=accept),
        )
        for attempt in attempts:
            try:
                reply = attempt()
            except TransportError:
                continue
            body = reply.json_object()
            hub = body.get("hub_id") or body.get("hubId")
            if reply.ok and hub:
                return str(hub), (str(body.get("user") or body.get("user_id") or "") or None)
        return None

    # ------------------------------------------------------------------ CRM, as one portal

    def _authorized(self, token: TokenSource, call: Callable[[dict[str, str]], Reply]) -> Reply:
        """Call as the portal; an answer of 401 renews the token once and tries again."""
        def run(force: bool) -> Reply:
            headers = {"Authorization": f"Bearer {token(force)}", "Accept": "application/json"}
            try:
                return call(headers)
            except TransportError:
                raise HubSpotError("HubSpot did not answer in time; try again in a moment.", 504) from None

        reply = run(False)
        return run(True) if reply.status == 401 else reply

    def contact(self, token: TokenSource, contact_id: str, region: str | None) -> Contact:
        """The contact with the properties Herald reads, or :class:`HubSpotError` saying why not."""
        query = urlencode({"properties": ",".join(CONTACT_PROPERTIES)})
        url = self._url(f"/crm/v3/objects/contacts/{contact_id}?{query}")
        reply = self._authorized(token, lambda headers: self.http.get(url, headers=headers))
        if reply.status == 404:
            raise HubSpotError(f"HubSpot has no contact {contact_id} in this account.", 404)
        if reply.status == 403:
            raise HubSpotError("HubSpot did not let Herald read this contact: reinstall Herald so it may read "
                               "contacts.", 502)
        if not reply.ok:
            raise HubSpotError(f"HubSpot could not return this contact (HTTP {reply.status}); try again "
                               "in a moment.", 502)
        return contact_from_properties(contact_id, reply.json_object().get("properties") or {}, region)

    def create_object(self, token: TokenSource, kind: str, payload: Mapping[str, Any], what: str) -> str:
        """POST one CRM object ("communications", "notes"), once; its id, or :class:`HubSpotError`."""
        url = self._url(f"/crm/v3/objects/{kind}")
        reply = self._authorized(token, lambda headers: self.http.post_once(url, json=dict(payload),
                                                                            headers=headers))
        if not reply.ok:
            detail = str(reply.json_object().get("message") or "")[:300]
            raise HubSpotError(f"HubSpot answered HTTP {reply.status} when recording {what} "
                               f"as {kind[:-1]}{': ' + detail if detail else ''}")
        return str(reply.json_object().get("id", ""))
