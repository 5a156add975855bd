"""WhatsApp Cloud API (Meta Graph): free text and templates, Meta's error codes, its webhooks and
its template list. Protocol facts and their sources: reference/providers.md §1.

A sender needs the options ``phone_number_id`` (the path of ``/messages``) and, for template sync,
``waba_id``; its secrets are ``access_token``, ``app_secret`` (webhook signatures) and
``verify_token`` (the webhook handshake).
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ..base import UNKNOWN, Accepted, Outbound, ProviderError
from ..errors import CONFIG, PROVIDER_UNAVAILABLE, TypedProviderError, not_configured
from ..http import HttpProvider, Reply, server_error_unknown, unreadable_answer
from .codes import DEFAULT_BASE, ERRORS, LABEL, STATUSES, TEMPLATE_FIELDS, _TYPED_NAMED_REFUSALS
from .payloads import (
    _has_typed_named,
    media_parameter,
    template_components,
    template_payload,
    text_payload,
)
from .templates import SyncedTemplate, TemplatePage, next_cursor, parse_template
from .webhooks import inbound_text, parse_webhook

__all__ = [
    "DEFAULT_BASE", "ERRORS", "LABEL", "STATUSES", "TEMPLATE_FIELDS",
    "media_parameter", "template_components", "template_payload", "text_payload",
    "SyncedTemplate", "TemplatePage", "next_cursor", "parse_template",
    "inbound_text", "parse_webhook",
    "graph_error", "accepted_from", "WhatsAppCloudProvider",
]


# --------------------------------------------------------------------------- reading answers


def graph_error(body: Any) -> tuple[str, str] | None:
    """``(code, Meta's words)`` from a Graph error body, preferring ``error_data.details``."""
    if not isinstance(body, Mapping) or not isinstance(body.get("error"), Mapping):
        return None
    error = body["error"]
    code = error.get("code")
    if code is None:
        return None
    data = error.get("error_data") if isinstance(error.get("error_data"), Mapping) else {}
    words = str(data.get("details") or error.get("message") or error.get("error_user_msg") or "")
    return str(code), words


def accepted_from(body: Any) -> Accepted | None:
    """The wamid (and template pacing status) from a send's 200 answer (providers.md §1.4)."""
    if not isinstance(body, Mapping):
        return None
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], Mapping):
        return None
    wamid = messages[0].get("id")
    if not wamid:
        return None
    detail: dict[str, Any] = {}
    if messages[0].get("message_status"):
        detail["message_status"] = messages[0]["message_status"]
    contacts = body.get("contacts")
    if isinstance(contacts, list) and contacts and isinstance(contacts[0], Mapping) and contacts[0].get("wa_id"):
        detail["wa_id"] = contacts[0]["wa_id"]
    return Accepted(str(wamid), detail=detail)


# --------------------------------------------------------------------------- the adapter


class WhatsAppCloudProvider(HttpProvider):
    name = "whatsapp_cloud"
    channels = ("whatsapp",)
    error_table = ERRORS
    label = LABEL
    default_base = DEFAULT_BASE
    base_setting = "whatsapp_api_base"

    def send_text(self, outbound: Outbound) -> Accepted:
        return self._post(outbound, text_payload(outbound))

    def send_template(self, outbound: Outbound) -> Accepted:
        assert outbound.template is not None
        try:
            return self._post(outbound, template_payload(outbound))
        except ProviderError as refused:
            # Meta's definite refusal sent nothing, so one resend cannot put two messages on a phone.
            if refused.code in _TYPED_NAMED_REFUSALS and refused.outcome != UNKNOWN \
                    and _has_typed_named(outbound.template, outbound.params):
                return self._post(outbound, template_payload(outbound, typed_named=False))
            raise

    def _post(self, outbound: Outbound, payload: Mapping[str, Any]) -> Accepted:
        phone_number_id = str(outbound.options.get("phone_number_id", "")).strip()
        token = str(outbound.credentials.get("access_token", "")).strip()
        missing = [n for n, v in (("phone_number_id", phone_number_id), ("access_token", token)) if not v]
        if missing:
            raise not_configured(LABEL, missing)
        reply = self.http.post_once(f"{self.api_base}/{phone_number_id}/messages", json=payload,
                                    headers={"Authorization": f"Bearer {token}"})
        if reply.ok:
            accepted = accepted_from(reply.body)
            if accepted is not None:
                return accepted
            raise unreadable_answer(LABEL, reply.status)
        raise self._refusal(reply)

    def _refusal(self, reply: Reply, sending: bool = True) -> ProviderError:
        parsed = graph_error(reply.body)
        if parsed is not None:
            return self.map_error(*parsed)
        if reply.status >= 500 and sending:
            return server_error_unknown(LABEL, reply.status)
        if reply.status >= 500 or reply.status == 429:
            return TypedProviderError(f"http_{reply.status}", f"Meta is not answering (HTTP {reply.status}).",
                                      kind=PROVIDER_UNAVAILABLE, action="Try again in a few minutes.",
                                      retryable=True)
        return TypedProviderError(f"http_{reply.status}", f"Meta refused the request (HTTP {reply.status}).",
                                  kind=CONFIG, action="Check the sender's phone_number_id and access token.",
                                  provider_message=reply.text[:300])

    def list_templates(self, waba_id: str, access_token: str, limit: int = 100) -> Iterator[TemplatePage]:
        """Page through ``GET /{waba-id}/message_templates``; each page is yielded as it arrives."""
        if not waba_id or not access_token:
            raise not_configured(LABEL, [n for n, v in (("waba_id", waba_id), ("access_token", access_token))
                                         if not v])
        url = f"{self.api_base}/{waba_id}/message_templates"
        params: dict[str, Any] = {"fields": TEMPLATE_FIELDS, "limit": limit}
        headers = {"Authorization": f"Bearer {access_token}"}
        seen: set[str] = set()
        number = 0
        while True:
            reply = self.http.get(url, params=params, headers=headers)
            if not reply.ok or not isinstance(reply.body, Mapping):
                raise self._refusal(reply, sending=False)
            data = [t for t in reply.body.get("data") or [] if isinstance(t, Mapping)]
            number += 1
            yield TemplatePage(number, tuple(t for t in (parse_template(item) for item in data) if t is not None))
            cursor = next_cursor(reply.body, bool(data))
            if not cursor or cursor in seen:
                return
            seen.add(cursor)
            params = {**params, "after": cursor}
