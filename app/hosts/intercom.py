"""Intercom's REST API as Herald uses it: the OAuth code exchange, ``GET /me``, a contact's phone,
and internal notes on conversations and contacts (reference §5, §6).

Knows Intercom's API and nothing of panels or the store: callers pass tokens and API hosts in.
Every call goes through the pooled :class:`app.httpclient.HttpClient` with the version header
pinned; reads are retried, a POST never is. Tokens never appear in an error's message.
"""

from __future__ import annotations

import html
from typing import Any, Mapping
from urllib.parse import urlencode

from ..domain import phone
from ..domain.purposes import PURPOSES
from ..domain.channels import CHANNEL_LABELS
from ..domain.status import label as status_label
from ..httpclient import HttpClient, Reply, TransportError

NAME = "intercom"
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


# --------------------------------------------------------------------------- the client


def _headers(token: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "Intercom-Version": API_VERSION}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _error_from(reply: Reply, what: str) -> IntercomError:
    """Intercom's error list in words: `{"type":"error.list","errors":[{"code","message"}]}`."""
    body = reply.json_object()
    errors = body.get("errors") or [{}]
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code, message = str(first.get("code") or ""), str(first.get("message") or "")
    detail = f"{code}: {message}" if code and message else (code or message or reply.reason or "")
    return IntercomError(f"Intercom answered {reply.status} to {what}" + (f" ({detail})" if detail else ""),
                         status=reply.status, code=code)


class IntercomClient:
    """Intercom's API for one app (client id and secret); ``default_base`` is the US (or configured) host."""

    def __init__(self, default_base: str, client_id: str, client_secret: str,
                 http: HttpClient | None = None) -> None:
        self.default_base = str(default_base).rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = http or HttpClient("Intercom", TIMEOUT, get_attempts=2, backoff_seconds=0.1)

    def _call(self, method: str, url: str, what: str, token: str | None, **kwargs: Any) -> dict[str, Any]:
        try:
            if method == "GET":
                reply = self.http.get(url, headers=_headers(token))
            else:
                reply = self.http.post_once(url, headers=_headers(token), **kwargs)
        except TransportError as error:
            raise IntercomError(f"Intercom could not be reached for {what} "
                                f"({type(error.error).__name__})") from None
        if reply.status >= 400:
            raise _error_from(reply, what)
        return reply.json_object()

    def exchange_code(self, code: str) -> str:
        """Trade an OAuth code for an access token at /auth/eagle/token (reference §5.2 step 5)."""
        body = self._call("POST", f"{self.default_base}/auth/eagle/token", "the OAuth token exchange", None,
                          data={"code": code, "client_id": self.client_id, "client_secret": self.client_secret})
        token = body.get("access_token") or body.get("token")
        if not token:
            raise IntercomError("Intercom's token exchange answered without a token")
        return str(token)

    def me(self, token: str, base: str | None = None) -> dict[str, Any]:
        """GET /me: the admin who installed and the app (workspace) the token belongs to."""
        return self._call("GET", f"{(base or self.default_base).rstrip('/')}/me", "GET /me", token)

    def contact_phone(self, base: str, token: str, contact_id: str) -> str | None:
        """The contact's phone from GET /contacts/{id}; :class:`IntercomError` when Intercom will not say."""
        body = self._call("GET", f"{base}/contacts/{contact_id}", "a contact lookup", token)
        value = body.get("formatted_phone") or body.get("phone")
        return str(value) if value else None

    def note_conversation(self, base: str, token: str, conversation_id: str, admin_id: str, body: str) -> None:
        """An internal note on a conversation, authored by ``admin_id``."""
        self._call("POST", f"{base}/conversations/{conversation_id}/reply", "the conversation note", token,
                   json={"message_type": "note", "type": "admin", "admin_id": admin_id, "body": body})

    def note_contact(self, base: str, token: str, contact_id: str, body: str, admin_id: str = "") -> None:
        """A note on a contact (when the send names no conversation)."""
        payload: dict[str, Any] = {"body": body}
        if admin_id:
            payload["admin_id"] = admin_id
        self._call("POST", f"{base}/contacts/{contact_id}/notes", "the contact note", token, json=payload)

    def note_bodies(self, base: str, token: str, conversation_id: str = "", contact_id: str = "") -> list[str]:
        """The bodies of the notes already on a conversation (or else a contact)."""
        if conversation_id:
            found = self._call("GET", f"{base}/conversations/{conversation_id}", "the conversation", token)
            parts = (found.get("conversation_parts") or {}).get("conversation_parts") or []
            return [str(p.get("body") or "") for p in parts if isinstance(p, dict) and p.get("part_type") == "note"]
        if contact_id:
            found = self._call("GET", f"{base}/contacts/{contact_id}/notes", "the contact's notes", token)
            return [str(n.get("body") or "") for n in found.get("data") or [] if isinstance(n, dict)]
        return []
