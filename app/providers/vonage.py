"""Vonage Messages API: Viber Business Messages (``viber_service``), SMS, and WhatsApp.
Protocol facts and their sources: reference/providers.md §3.2.

A sender needs the option ``application_id`` and the secrets ``private_key`` (the application's
PEM key, which signs an RS256 JWT per request) and ``signature_secret`` (signed webhooks).
The option ``viber_ttl`` sets how long Viber keeps trying (seconds).
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, Callable, Mapping

import jwt

from ..domain import status as st
from .base import Accepted, ErrorInfo, Outbound, ProviderError
from .errors import (
    ACCOUNT,
    AUTH,
    BLOCKED,
    CONFIG,
    CONTENT,
    NOT_ON_CHANNEL,
    PROVIDER_UNAVAILABLE,
    RATE_LIMITED,
    RECIPIENT_INVALID,
    SESSION_LIMIT,
    TEMPLATE,
    UNDELIVERABLE,
    ErrorRow,
    TypedProviderError,
    lookup,
    not_configured,
)
from .events import (
    InboundEvent,
    StatusEvent,
    WebhookBatch,
    digits,
    e164,
    from_iso,
    id_key,
    number_key,
    scalar,
    short,
)
from .http import HttpClient, HttpProvider, Reply, server_error_unknown, unreadable_answer
from .whatsapp_cloud import template_components

LABEL = "Vonage"
DEFAULT_BASE = "https://api.nexmo.com"
CHANNELS = {"viber": "viber_service", "sms": "sms", "whatsapp": "whatsapp"}
OUR_CHANNELS = {v: k for k, v in CHANNELS.items()}
JWT_LIFETIME = 300

_NOT_SENT_RETRY = "Retry in a moment."

# Vonage's Messages API codes (developer.vonage.com/api-errors/messages, providers.md §3.2.3), its
# RFC 7807 error names, and the Viber service codes it passes on (providers.md §3.4), in one table.
ERRORS: dict[str, ErrorInfo] = {
    "1000": ErrorRow("Vonage is throttling this account: too many messages at once.", _NOT_SENT_RETRY,
                     retryable=True, kind=RATE_LIMITED),
    "1010": ErrorRow("Vonage says the request is missing a required parameter.",
                     "Check the sender's settings.", kind=CONFIG),
    "1020": ErrorRow("Vonage refused a parameter value.", "Check the sender's settings and the number.",
                     kind=CONFIG),
    "1021": ErrorRow("Vonage refused the message tag.", "Check the sender's settings.", kind=CONFIG),
    "1022": ErrorRow("Vonage did not accept the template or its parameters.",
                     "Check that the template is registered with Vonage for this sender, and its values.",
                     kind=TEMPLATE),
    "1030": ErrorRow("Vonage hit an internal error.", _NOT_SENT_RETRY, retryable=True, kind=PROVIDER_UNAVAILABLE),
    "1040": ErrorRow("Vonage could not process the message, for example because of an unknown number prefix.",
                     "Check the customer's number.", kind=RECIPIENT_INVALID),
    "1050": ErrorRow("The customer's number is barred from receiving messages.", "Use another channel.",
                     kind=BLOCKED),
    "1060": ErrorRow("The Vonage account is barred from sending.", "Contact Vonage support.", kind=ACCOUNT),
    "1070": ErrorRow("The Vonage account has run out of credit.", "Top up the account.", kind=ACCOUNT),
    "1080": ErrorRow("The Vonage account is not enabled for this API.", "Contact Vonage support.", kind=CONFIG),
    "1090": ErrorRow("The message is too long.", "Shorten it.", kind=CONTENT),
    "1100": ErrorRow("Vonage could not submit the message because of a communication failure.",
                     _NOT_SENT_RETRY, retryable=True, kind=PROVIDER_UNAVAILABLE),
    "1120": ErrorRow("Local regulations do not allow this sender id.",
                     "Use a sender id allowed in the customer's country.", kind=CONFIG),
    "1130": ErrorRow("The message's time-to-live was not accepted.", "Check the sender's viber_ttl option "
                                                                      "(30 to 259200 seconds).", kind=CONFIG),
    "1140": ErrorRow("This Vonage account does not have the feature the message needs.",
                     "Ask Vonage to enable it.", kind=CONFIG),
    "1150": ErrorRow("Vonage refused a parameter value.", "Check the sender's settings.", kind=CONFIG),
    "1160": ErrorRow("The customer's number is not on the account's list of allowed destinations.",
                     "Add it in the Vonage dashboard.", kind=CONFIG),
    "low-balance": ErrorRow("The Vonage account balance is too low.", "Top up the account.", kind=ACCOUNT),
    "unauthorized": ErrorRow("Vonage did not accept this sender's credentials.",
                             "Check the sender's application_id and private_key.", kind=AUTH),
    "forbidden": ErrorRow("This Vonage account may not do this.", "Check the account's enabled features.",
                          kind=CONFIG),
    "unprovisioned": ErrorRow("These Vonage credentials have no access to the Messages API.",
                              "Check the application in the Vonage dashboard.", kind=CONFIG),
    "account-suspended": ErrorRow("The Vonage account is suspended.", "Contact Vonage support.", kind=ACCOUNT),
    "jwt-expired": ErrorRow("Vonage found the request's token expired.",
                            "Check the server clock; Herald signs a fresh token for each send.", kind=AUTH),
    "jwt-revoked": ErrorRow("Vonage revoked the application's token.",
                            "Reconnect Vonage: give the sender a new private_key.", kind=AUTH),
    "invalid-params": ErrorRow("Vonage refused a parameter value.", "Check the sender's settings.", kind=CONFIG),
    "SRVC_NOT_VIBER_USER": ErrorRow("This number is not registered on Viber.",
                                    "Reach the customer by SMS instead.", kind=NOT_ON_CHANNEL),
    "SRVC_USER_BLOCKED": ErrorRow("The customer blocked this business on Viber or turned off business "
                                  "messages.", "Do not resend on Viber; use another channel.", kind=BLOCKED),
    "SRVC_WAIT_FOR_USER_RESPONSE": ErrorRow("Viber allows no more business messages in a row until the customer "
                                            "replies.", "Wait for the customer to write back, or use another "
                                                        "channel.", kind=SESSION_LIMIT),
    "SRVC_NO_SUITABLE_DEVICE": ErrorRow("The customer's Viber app cannot receive business messages (too old).",
                                        "Reach the customer by SMS instead.", kind=UNDELIVERABLE),
    "SRVC_BAD_SERVICE_ID": ErrorRow("Viber does not know this sender's service id.",
                                    "Check the sender id with Vonage.", kind=CONFIG),
    "SRVC_UNAUTHORIZED_IP": ErrorRow("Viber refused this sender id for this partner.",
                                     "Check the sender id with Vonage.", kind=CONFIG),
    "SRVC_NOT_PERMITTED": ErrorRow("Viber reported a billing problem for this sender.",
                                   "Contact your Vonage account manager.", kind=ACCOUNT),
    "SRVC_BAD_LABEL": ErrorRow("Viber refused the message category.", "Check the template's category.",
                               kind=CONFIG),
    "SRVC_INVALID_TTL": ErrorRow("Viber refused the message's time-to-live.",
                                 "Set the sender's viber_ttl option between 30 and 1209600 seconds.", kind=CONFIG),
    "SRVC_BAD_DATA": ErrorRow("Viber refused the message content.", "Check the text (at most 1000 characters).",
                              kind=CONTENT),
    "SRVC_BAD_PARAMETERS": ErrorRow("Viber says a required parameter is missing.", "Check the sender's settings.",
                                    kind=CONFIG),
    "SRVC_BAD_MESSAGE_TYPE": ErrorRow("Viber does not support this message type.", "Send text or a template.",
                                      kind=CONTENT),
    "SRVC_TIMEOUT": ErrorRow("Viber timed out.", _NOT_SENT_RETRY, retryable=True, kind=PROVIDER_UNAVAILABLE),
    "SRVC_INTERNAL_FAILURE": ErrorRow("Viber hit an internal error.", _NOT_SENT_RETRY, retryable=True,
                                      kind=PROVIDER_UNAVAILABLE),
}

STATUSES = {"submitted": st.SENT, "delivered": st.DELIVERED, "read": st.READ, "rejected": st.FAILED,
            "undeliverable": st.FAILED}

_SRVC = re.compile(r"\bSRVC_[A-Z_]+\b")
# How Vonage words Viber's refusals is not confirmed (providers.md §3.2.3): the service code may be
# passed on as is, or only described; both are recognised.
_VIBER_PHRASES = (
    (re.compile(r"not\s+(?:a\s+)?viber\s+user|not\s+registered\s+(?:on|with|as\s+a)\s+viber", re.I),
     "SRVC_NOT_VIBER_USER"),
    (re.compile(r"wait(?:ing)?\s+for\s+(?:the\s+)?user(?:'s)?\s+response", re.I), "SRVC_WAIT_FOR_USER_RESPONSE"),
    (re.compile(r"\bblocked\b", re.I), "SRVC_USER_BLOCKED"),
)


# --------------------------------------------------------------------------- building requests


def application_jwt(application_id: str, private_key: str, now: float, lifetime: int = JWT_LIFETIME) -> str:
    """The RS256 token Vonage wants on each request, signed with the application's private key."""
    issued = int(now)
    claims = {"application_id": application_id, "iat": issued, "exp": issued + lifetime,
              "jti": str(uuid.uuid4())}
    return jwt.encode(claims, normalise_pem(private_key), algorithm="RS256")


def normalise_pem(value: str) -> str:
    """A PEM given on one command line with literal ``\\n`` separators, restored."""
    text = value.strip()
    return text.replace("\\n", "\n") if "\\n" in text and "\n" not in text else text


def _address(value: str) -> str:
    """Vonage wants numbers without a leading + (providers.md §3.2.2); Viber service ids as they are."""
    return digits(value) if value.strip().startswith("+") else value.strip()


def message_payload(outbound: Outbound) -> dict[str, Any]:
    """The ``/v1/messages`` body for one send (providers.md §3.2.2).

    A Viber template goes as its rendered text with ``viber_service.type = "template"``: that field is
    the only template setting Vonage documents (its template parameter format is arranged with the
    account manager, providers.md §3.2.2), and Viber matches the text against the approved template.
    A WhatsApp template goes in a ``custom`` message carrying Meta's own template object.
    """
    channel = CHANNELS.get(outbound.channel)
    if channel is None:
        raise TypedProviderError("channel_unsupported", f"Herald does not send {outbound.channel} through Vonage.",
                                 kind=CONFIG)
    payload: dict[str, Any] = {"to": digits(outbound.to), "from": _address(outbound.sender), "channel": channel}
    if outbound.channel == "whatsapp" and outbound.template is not None:
        spec = outbound.template
        template: dict[str, Any] = {"name": spec.name, "language": {"policy": "deterministic", "code": spec.language}}
        components = template_components(spec, outbound.params)
        if components:
            template["components"] = components
        payload.update(message_type="custom", custom={"type": "template", "template": template})
    else:
        payload.update(message_type="text", text=outbound.text)
    if outbound.channel == "viber":
        service: dict[str, Any] = {
            "category": "promotion" if outbound.template is not None and outbound.template.marketing
            else "transaction"}
        ttl = str(outbound.options.get("viber_ttl", "")).strip()
        if ttl.isdigit():
            service["ttl"] = int(ttl)
        service["type"] = "template" if outbound.template is not None else "string"
        payload["viber_service"] = service
    if outbound.reference:
        payload["client_ref"] = outbound.reference
    if outbound.status_callback:
        payload["webhook_url"] = outbound.status_callback
        payload["webhook_version"] = "v1"
    return payload


# --------------------------------------------------------------------------- reading answers


def problem_code(problem: Mapping[str, Any], viber: bool = False) -> tuple[str, str]:
    """``(code, Vonage's words)`` from an RFC 7807 error (or the older ``{code, reason}`` shape).

    A Viber service code named in the words wins over Vonage's generic number (and on a Viber
    message, so do Viber's refusals described in words); otherwise the code is the fragment of
    ``type`` (``…/messages#1022`` → ``1022``, ``…#low-balance`` → ``low-balance``).
    """
    words = str(problem.get("detail") or problem.get("reason") or problem.get("title") or "")
    text = " ".join(str(problem.get(k) or "") for k in ("title", "detail", "reason", "type", "code"))
    found = _SRVC.search(text)
    if found:
        return found.group(0), words
    for pattern, code in _VIBER_PHRASES if viber else ():
        if pattern.search(text):
            return code, words
    kind = str(problem.get("type") or "")
    if "#" in kind and kind.rsplit("#", 1)[1]:
        return kind.rsplit("#", 1)[1], words
    if problem.get("code") is not None:
        return str(problem["code"]), words
    title = str(problem.get("title") or "").strip()
    if title.isdigit():
        return title, words
    return "unknown", words


# --------------------------------------------------------------------------- webhooks


def _party(value: Any) -> str:
    """A ``from``/``to`` given as a string, or as an object with ``number`` or ``id``."""
    if isinstance(value, Mapping):
        return scalar(value.get("number")) or scalar(value.get("id"))
    return scalar(value)


def parse_webhook(payload: Mapping[str, Any]) -> WebhookBatch:
    """A status (providers.md §3.2.3) or an inbound message (§3.2.4): one event per delivery."""
    batch = WebhookBatch()
    if not isinstance(payload, Mapping):
        batch.skipped.append("payload is not an object")
        return batch
    uuid_ = scalar(payload.get("message_uuid"))
    if not uuid_:
        batch.skipped.append("no message_uuid")
        return batch
    if "status" in payload:
        word = scalar(payload.get("status")).lower()
        ours = STATUSES.get(word)
        if ours is None:
            batch.skipped.append(f"status {short(word or '?')}")
            return batch
        code = message = None
        error = payload.get("error")
        if isinstance(error, Mapping) and error:
            code, words = problem_code(error, viber=payload.get("channel") == CHANNELS["viber"])
            message = lookup(ERRORS, code, words, LABEL).sentence()
        batch.statuses.append(StatusEvent(
            provider_message_id=uuid_, status=ours, provider_status=word,
            occurred_at=from_iso(payload.get("timestamp")),
            error_code=code, error_message=message,
            reference=scalar(payload.get("client_ref")) or None))
        return batch
    channel = OUR_CHANNELS.get(scalar(payload.get("channel")))
    customer, to = _party(payload.get("from")), _party(payload.get("to"))
    if channel is None or not customer or not to:
        batch.skipped.append(f"inbound on {short(scalar(payload.get('channel')) or '?')}")
        return batch
    ours = {id_key(to)}
    if digits(to):
        ours.add(number_key(to))
    kind = scalar(payload.get("message_type")) or "text"
    text = scalar(payload.get("text")) if kind == "text" else _media_text(payload, kind)
    batch.inbound.append(InboundEvent(channel=channel, ours=frozenset(ours), customer=e164(customer), text=text,
                                      provider_message_id=uuid_, received_at=from_iso(payload.get("timestamp"))))
    return batch


def _media_text(payload: Mapping[str, Any], kind: str) -> str:
    part = payload.get(kind)
    caption = scalar(part.get("caption")) if isinstance(part, Mapping) else ""
    return caption or f"[{short(kind, 40)}]"


# --------------------------------------------------------------------------- the adapter


class VonageProvider(HttpProvider):
    name = "vonage"
    channels = ("viber", "sms", "whatsapp")
    error_table = ERRORS
    label = LABEL
    default_base = DEFAULT_BASE
    base_setting = "vonage_api_base"

    def __init__(self, api_base: str = DEFAULT_BASE, http: HttpClient | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(api_base, http)
        self._clock = clock

    def send_text(self, outbound: Outbound) -> Accepted:
        return self._post(outbound)

    def send_template(self, outbound: Outbound) -> Accepted:
        return self._post(outbound)

    def _post(self, outbound: Outbound) -> Accepted:
        application = str(outbound.options.get("application_id", "")).strip()
        key = str(outbound.credentials.get("private_key", "")).strip()
        missing = [n for n, v in (("application_id", application), ("private_key", key)) if not v]
        if missing:
            raise not_configured(LABEL, missing)
        payload = message_payload(outbound)
        try:
            token = application_jwt(application, key, self._clock())
        except (ValueError, TypeError, jwt.PyJWTError):
            raise TypedProviderError("private_key_invalid", "The sender's Vonage private key could not be read.",
                                     kind=CONFIG, action="Give the sender the application's PEM private key "
                                                         "again.") from None
        reply = self.http.post_once(f"{self.api_base}/v1/messages", json=payload,
                                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})
        if reply.ok and isinstance(reply.body, Mapping) and reply.body.get("message_uuid"):
            return Accepted(str(reply.body["message_uuid"]))
        raise self._refusal(reply, viber=outbound.channel == "viber")

    def _refusal(self, reply: Reply, viber: bool = False) -> ProviderError:
        if isinstance(reply.body, Mapping) and (reply.body.get("type") or reply.body.get("title")):
            return self.map_error(*problem_code(reply.body, viber=viber))
        if reply.ok:
            return unreadable_answer(LABEL, reply.status)
        if reply.status >= 500:
            return server_error_unknown(LABEL, reply.status)
        if reply.status == 401:
            return self.map_error("unauthorized", reply.text[:300])
        return TypedProviderError(f"http_{reply.status}", f"Vonage refused the request (HTTP {reply.status}).",
                                  kind=CONFIG, action="Check the sender's settings.", provider_message=reply.text[:300])
