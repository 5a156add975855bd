"""Twilio Programmable Messaging: SMS, and WhatsApp through Twilio with Content templates.
Protocol facts and their sources: reference/providers.md §2.

A sender needs the option ``account_sid`` and the secret ``auth_token``; with the option
``messaging_service_sid`` Twilio picks the number from the service's pool instead of ``From``.
WhatsApp templates go as Content templates: the option ``content_sid.<template>`` (or
``content_sid.<template>.<language>``) names the ``HX…`` template Twilio approved.
"""

from __future__ import annotations

import json
from typing import Any, Mapping
from urllib.parse import urlencode

from ..domain import status as st
from ..domain.templates import ParamValue
from .base import Accepted, ErrorInfo, Outbound, ProviderError
from .errors import (
    ACCOUNT,
    AUTH,
    BLOCKED,
    CONFIG,
    OPTED_OUT,
    PROVIDER_UNAVAILABLE,
    RATE_LIMITED,
    RECIPIENT_INVALID,
    TEMPLATE,
    UNDELIVERABLE,
    WINDOW_CLOSED,
    ErrorRow,
    TypedProviderError,
    lookup,
    not_configured,
)
from .events import InboundEvent, StatusEvent, WebhookBatch, e164, number_key, short
from .http import HttpProvider, Reply, server_error_unknown, unreadable_answer

LABEL = "Twilio"
DEFAULT_BASE = "https://api.twilio.com"
WHATSAPP_PREFIX = "whatsapp:"
REFERENCE_PARAM = "ref"  # our message id, carried in the StatusCallback URL Twilio signs

# Twilio's error codes (providers.md §2.6), in one table.
ERRORS: dict[str, ErrorInfo] = {
    "20003": ErrorRow("Twilio did not accept this sender's credentials.",
                      "Check the sender's account_sid and auth_token.", kind=AUTH),
    "20429": ErrorRow("Twilio is receiving too many requests from this account at once; it did not take the "
                      "message.", "Retry in a moment.", retryable=True, kind=RATE_LIMITED),
    "21211": ErrorRow("Twilio says this is not a valid phone number.", "Check the customer's number.",
                      kind=RECIPIENT_INVALID),
    "21408": ErrorRow("This Twilio account may not send to the customer's country or region.",
                      "Enable the region in Twilio's Messaging Geo Permissions, or use another channel.",
                      kind=CONFIG),
    "21606": ErrorRow("The sending number cannot send messages.", "Choose a message-capable Twilio number.",
                      kind=CONFIG),
    "21608": ErrorRow("A Twilio trial account can only send to verified numbers.",
                      "Verify the number in Twilio or upgrade the account.", kind=CONFIG),
    "21610": ErrorRow("The customer replied STOP to this number, so Twilio blocks messages to them.",
                      "Send nothing more until they text START.", kind=OPTED_OUT),
    "21612": ErrorRow("Twilio cannot route a message between these two numbers.",
                      "Send from another number or use another channel.", kind=UNDELIVERABLE),
    "21614": ErrorRow("The customer's number cannot receive SMS (it may be a landline).",
                      "Use another channel.", kind=UNDELIVERABLE),
    "21635": ErrorRow("The customer's number is a landline.", "Use another channel.", kind=UNDELIVERABLE),
    "21654": ErrorRow("Template variables were sent without a Content template.",
                      "Set the sender's content_sid option for this template.", kind=TEMPLATE),
    "30001": ErrorRow("Twilio's queue for this sender overflowed.", "Retry later.", retryable=True,
                      kind=RATE_LIMITED),
    "30002": ErrorRow("The Twilio account is suspended.", "Check the account in Twilio's console.", kind=ACCOUNT),
    "30003": ErrorRow("The customer's phone is unreachable (switched off or out of coverage).",
                      "Try again in a few hours, or use another channel.", retryable=True, kind=UNDELIVERABLE),
    "30004": ErrorRow("The message was blocked (by the customer, their carrier, or an opt-out).",
                      "Do not resend to this number on SMS.", kind=BLOCKED),
    "30005": ErrorRow("The customer's number is unknown or no longer in service.", "Check the number.",
                      kind=RECIPIENT_INVALID),
    "30006": ErrorRow("The number is a landline or its carrier is unreachable.", "Use another channel.",
                      kind=UNDELIVERABLE),
    "30007": ErrorRow("The carrier filtered the message as possible spam.",
                      "Review the wording and the sender's registration (A2P 10DLC or toll-free verification).",
                      kind=BLOCKED),
    "30008": ErrorRow("The carrier could not deliver the message for an unknown reason.",
                      "Try once more later, then use another channel.", retryable=True, kind=UNDELIVERABLE),
    "30036": ErrorRow("The message waited too long in Twilio's queue and expired.",
                      "Send fewer messages at once.", retryable=True, kind=RATE_LIMITED),
    "30610": ErrorRow("Local regulation (such as quiet hours) blocked the message.", "Send it later.",
                      retryable=True, kind=BLOCKED),
    "63016": ErrorRow("The 24-hour WhatsApp window is closed, so free text cannot be sent.",
                      "Send an approved template instead.", kind=WINDOW_CLOSED),
    "63014": ErrorRow("The customer blocked messages from this WhatsApp number.",
                      "Do not resend on WhatsApp.", kind=BLOCKED),
    "63018": ErrorRow("WhatsApp's rate limit for this sender was reached.", "Retry later.", retryable=True,
                      kind=RATE_LIMITED),
}

STATUSES = {"queued": st.ACCEPTED, "accepted": st.ACCEPTED, "scheduled": st.ACCEPTED, "sending": st.ACCEPTED,
            "sent": st.SENT, "partially_delivered": st.SENT, "delivered": st.DELIVERED, "read": st.READ,
            "undelivered": st.FAILED, "failed": st.FAILED, "canceled": st.FAILED}
INBOUND_STATUSES = frozenset({"received", "receiving"})


def content_sid(outbound: Outbound) -> str:
    """The ``HX…`` Content template for the outbound template, by language first."""
    spec = outbound.template
    if spec is None:
        return ""
    for key in (f"content_sid.{spec.name}.{spec.language}", f"content_sid.{spec.name}"):
        value = outbound.options.get(key) or outbound.credentials.get(key)
        if value:
            return str(value).strip()
    return ""


def content_variables(params: Mapping[str, ParamValue]) -> str:
    """``{"1": "Asha"}`` as the JSON string Twilio wants; slot prefixes (``header.``) are dropped."""
    values: dict[str, str] = {}
    for slot, value in params.items():
        key = slot.split(".", 1)[1] if "." in slot else slot
        values[key] = value if isinstance(value, str) else value.text()
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def status_callback(outbound: Outbound) -> str:
    """Our webhook URL with our message id in its query, so a send whose answer was lost is found."""
    if not outbound.status_callback:
        return ""
    if not outbound.reference:
        return outbound.status_callback
    joiner = "&" if "?" in outbound.status_callback else "?"
    return f"{outbound.status_callback}{joiner}{urlencode({REFERENCE_PARAM: outbound.reference})}"


def message_form(outbound: Outbound) -> dict[str, str]:
    """The Messages resource form (providers.md §2.1): To, From or MessagingServiceSid, Body or
    ContentSid + ContentVariables, StatusCallback."""
    whatsapp = outbound.channel == "whatsapp"
    prefix = WHATSAPP_PREFIX if whatsapp else ""
    form: dict[str, str] = {"To": prefix + outbound.to}
    service = str(outbound.options.get("messaging_service_sid", "")).strip()
    if service:
        form["MessagingServiceSid"] = service
    else:
        form["From"] = prefix + outbound.sender
    template_sid = content_sid(outbound)
    if template_sid:
        form["ContentSid"] = template_sid
        if outbound.params:
            form["ContentVariables"] = content_variables(outbound.params)
    elif outbound.template is not None and whatsapp:
        raise TypedProviderError(
            "content_template_missing",
            f"Twilio sends WhatsApp templates as Content templates, and none is set for "
            f"“{outbound.template.name}”.", kind=TEMPLATE,
            action=f"Add the sender option content_sid.{outbound.template.name}=HX… (from Twilio's Content "
                   "Template Builder).")
    else:
        form["Body"] = outbound.text
    callback = status_callback(outbound)
    if callback:
        form["StatusCallback"] = callback
    return form


def twilio_error(body: Any) -> tuple[str, str] | None:
    """``(code, message)`` from Twilio's error body (providers.md §2.2)."""
    if isinstance(body, Mapping) and body.get("code") is not None:
        return str(body["code"]), str(body.get("message") or "")
    return None


# --------------------------------------------------------------------------- webhooks


def parse_webhook(params: Mapping[str, str], query: Mapping[str, str] | None = None) -> WebhookBatch:
    """An inbound message (providers.md §2.4) or a status callback (§2.3), from its form fields.

    ``query`` is the webhook URL's query: our message id rides there (see :func:`status_callback`).
    """
    batch = WebhookBatch()
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid") or ""
    word = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
    account = params.get("AccountSid") or None
    inbound = word in INBOUND_STATUSES or (not params.get("MessageStatus") and
                                           ("Body" in params or "NumMedia" in params))
    if not sid:
        batch.skipped.append("no MessageSid")
        return batch
    if inbound:
        sender = params.get("From", "")
        channel = "whatsapp" if sender.lower().startswith(WHATSAPP_PREFIX) else "sms"
        ours = {number_key(params.get("To", ""))}
        batch.inbound.append(InboundEvent(channel=channel, ours=frozenset(ours), customer=e164(sender),
                                          text=params.get("Body", ""), provider_message_id=sid, account=account))
        return batch
    ours_status = STATUSES.get(word)
    if ours_status is None:
        batch.skipped.append(f"status {short(word or '?')}")
        return batch
    code = (params.get("ErrorCode") or "").strip() or None
    message = lookup(ERRORS, code, params.get("ErrorMessage", ""), LABEL).sentence() if code else None
    reference = (query or {}).get(REFERENCE_PARAM) or None
    batch.statuses.append(StatusEvent(provider_message_id=sid, status=ours_status, provider_status=word,
                                      error_code=code, error_message=message, reference=reference,
                                      account=account))
    return batch


# --------------------------------------------------------------------------- the adapter


class TwilioProvider(HttpProvider):
    name = "twilio"
    channels = ("sms", "whatsapp")
    error_table = ERRORS
    label = LABEL
    default_base = DEFAULT_BASE
    base_setting = "twilio_api_base"

    def send_text(self, outbound: Outbound) -> Accepted:
        return self._post(outbound)

    def send_template(self, outbound: Outbound) -> Accepted:
        return self._post(outbound)

    def _post(self, outbound: Outbound) -> Accepted:
        account = str(outbound.options.get("account_sid", "")).strip()
        token = str(outbound.credentials.get("auth_token", "")).strip()
        missing = [n for n, v in (("account_sid", account), ("auth_token", token)) if not v]
        if missing:
            raise not_configured(LABEL, missing)
        form = message_form(outbound)
        reply = self.http.post_once(f"{self.api_base}/2010-04-01/Accounts/{account}/Messages.json", data=form,
                                    auth=(account, token))
        if reply.ok and isinstance(reply.body, Mapping) and reply.body.get("sid"):
            detail = {k: reply.body[k] for k in ("status", "num_segments") if reply.body.get(k) is not None}
            return Accepted(str(reply.body["sid"]), detail=detail)
        raise self._refusal(reply)

    def _refusal(self, reply: Reply) -> ProviderError:
        parsed = twilio_error(reply.body)
        if parsed is not None:
            return self.map_error(*parsed)
        if reply.ok:
            return unreadable_answer(LABEL, reply.status)
        if reply.status >= 500:
            return server_error_unknown(LABEL, reply.status)
        return TypedProviderError(f"http_{reply.status}", f"Twilio refused the request (HTTP {reply.status}).",
                                  kind=PROVIDER_UNAVAILABLE if reply.status == 429 else CONFIG,
                                  retryable=reply.status == 429,
                                  action="Check the sender's account_sid and auth_token.",
                                  provider_message=reply.text[:300])
