"""WhatsApp Cloud API (Meta Graph): free text and templates, Meta's error codes, its webhooks and
its template list. Protocol facts and their sources: reference/providers.md §1.

A sender needs the options ``phone_number_id`` (the path of ``/messages``) and, for template sync,
``waba_id``; its secrets are ``access_token``, ``app_secret`` (webhook signatures) and
``verify_token`` (the webhook handshake).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator, Mapping
from urllib.parse import parse_qs, urlsplit

from ..domain import status as st
from ..domain.templates import (
    MEDIA_FORMATS,
    Currency,
    DateTimeValue,
    ParamValue,
    TemplateSpec,
    clean_parameter,
    placeholders,
)
from .base import UNKNOWN, Accepted, ErrorInfo, Outbound, ProviderError
from .errors import (
    ACCOUNT,
    AUTH,
    CONFIG,
    CONTENT,
    MARKETING_LIMIT,
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
from .events import (
    InboundEvent,
    StatusEvent,
    TemplateEvent,
    WebhookBatch,
    e164,
    from_unix,
    number_key,
    scalar,
    short,
)
from .http import HttpProvider, Reply, server_error_unknown, unreadable_answer

LABEL = "WhatsApp"
DEFAULT_BASE = "https://graph.facebook.com/v23.0"
TEMPLATE_FIELDS = "id,name,language,status,category,components,parameter_format,quality_score,rejected_reason"

_TRY_LATER = "Wait a little and send it again."

# Meta's error codes (providers.md §1.5), in one table: what happened, and what to do next.
ERRORS: dict[str, ErrorInfo] = {
    "0": ErrorRow("Meta no longer accepts this sender's access token.",
                  "Reconnect WhatsApp: give the sender a new access token.", kind=AUTH),
    "3": ErrorRow("The Meta app behind this sender lacks the permission to send.",
                  "Check the app's WhatsApp permissions in Meta's developer settings.", kind=CONFIG),
    "4": ErrorRow("The Meta app made too many API calls.", _TRY_LATER, retryable=True, kind=RATE_LIMITED),
    "10": ErrorRow("Meta denied the permission this send needs.",
                   "Check the access token's permissions (whatsapp_business_messaging).", kind=CONFIG),
    "100": ErrorRow("Meta refused a parameter of the request.",
                    "Check the sender's settings and the message; sending it again will not help.", kind=CONFIG),
    "190": ErrorRow("The WhatsApp access token has expired.",
                    "Reconnect WhatsApp: give the sender a new access token (a system-user token does not "
                    "expire).", kind=AUTH),
    "368": ErrorRow("Meta has temporarily blocked this business from messaging for policy violations.",
                    "Stop sending and check the account's status in WhatsApp Manager.", kind=ACCOUNT),
    "80007": ErrorRow("The WhatsApp Business Account hit its rate limit.", _TRY_LATER, retryable=True,
                      kind=RATE_LIMITED),
    "130429": ErrorRow("This WhatsApp number is sending faster than Meta allows.",
                       "Retry later; Herald did not send it.", retryable=True, kind=RATE_LIMITED),
    "130472": ErrorRow("Meta held this message back because the customer is part of a marketing experiment.",
                       "Do not resend it; this is not a problem with the message.", kind=MARKETING_LIMIT),
    "130497": ErrorRow("This business may not message customers in the recipient's country.",
                       "Use another channel for this customer.", kind=ACCOUNT),
    "131000": ErrorRow("WhatsApp hit an internal error.", _TRY_LATER, retryable=True, kind=PROVIDER_UNAVAILABLE),
    "131005": ErrorRow("Meta denied access to this WhatsApp number.",
                       "Check the access token's permissions.", kind=CONFIG),
    "131008": ErrorRow("A required parameter was missing from the request.",
                       "Check the template's parameters.", kind=TEMPLATE),
    "131009": ErrorRow("A parameter value was not valid.", "Check the number and the template's parameters.",
                       kind=CONFIG),
    "131016": ErrorRow("WhatsApp is temporarily unavailable.", _TRY_LATER, retryable=True,
                       kind=PROVIDER_UNAVAILABLE),
    "131021": ErrorRow("The recipient is this sender's own number.", "Send to the customer's number instead.",
                       kind=RECIPIENT_INVALID),
    "131026": ErrorRow("WhatsApp could not deliver this message: the number may not use WhatsApp, may not "
                       "have accepted WhatsApp's terms, or may run an old version.",
                       "Reach the customer on SMS or Viber instead; do not resend on WhatsApp right away.",
                       kind=UNDELIVERABLE),
    "131030": ErrorRow("The recipient is not on this test number's allowed list.",
                       "Add the number in Meta's developer settings, or send from a production number.",
                       kind=CONFIG),
    "131031": ErrorRow("The WhatsApp Business Account is locked.", "Check the account in WhatsApp Manager.",
                       kind=ACCOUNT),
    "131042": ErrorRow("There is a payment problem on the WhatsApp Business Account.",
                       "Check the payment method in WhatsApp Manager.", kind=ACCOUNT),
    "131047": ErrorRow("More than 24 hours have passed since the customer last wrote, so WhatsApp only "
                       "accepts an approved template.", "Send an approved template instead.", kind=WINDOW_CLOSED),
    "131048": ErrorRow("Meta is limiting this number because of its quality rating (spam rate limit).",
                       "Send fewer messages and check the number's quality in WhatsApp Manager.",
                       retryable=True, kind=RATE_LIMITED),
    "131049": ErrorRow("Meta did not deliver this marketing message to keep the customer's engagement "
                       "healthy (per-customer marketing limit).",
                       "Wait at least 24 hours before trying again; do not resend in a loop.",
                       kind=MARKETING_LIMIT),
    "131050": ErrorRow("The customer has stopped marketing messages from this business.",
                       "Do not send marketing templates to this customer.", kind=OPTED_OUT),
    "131051": ErrorRow("WhatsApp does not support this message type.", "Send text or a template.", kind=CONTENT),
    "131052": ErrorRow("WhatsApp could not download the media.", "Check that the media link is public.",
                       kind=CONTENT),
    "131053": ErrorRow("WhatsApp could not process the media.", "Check the media file's type and size.",
                       kind=CONTENT),
    "131056": ErrorRow("Too many messages went to this customer in a short time.",
                       "Retry later, at least a minute from now.", retryable=True, kind=RATE_LIMITED),
    "131057": ErrorRow("The WhatsApp Business Account is in maintenance.", "Retry in a minute.",
                       retryable=True, kind=PROVIDER_UNAVAILABLE),
    "131063": ErrorRow("Marketing templates are disabled for the Cloud API on this account.",
                       "Send marketing through Meta's Marketing Messages API or choose a utility template.",
                       kind=ACCOUNT),
    "131064": ErrorRow("Meta limited this account's messaging because of template classification violations.",
                       "Review the account's templates in WhatsApp Manager.", kind=ACCOUNT),
    "132000": ErrorRow("The number of template parameters does not match the approved template.",
                       "Fill in exactly the template's placeholders; sync templates if it changed.", kind=TEMPLATE),
    "132001": ErrorRow("This template does not exist in that language, or is not approved.",
                       "Check the template's name and language, or sync templates.", kind=TEMPLATE),
    "132005": ErrorRow("The template is too long once its parameters are filled in.",
                       "Use shorter parameter values.", kind=TEMPLATE),
    "132007": ErrorRow("The template breaks WhatsApp's formatting rules.",
                       "Check the parameter values for forbidden characters.", kind=TEMPLATE),
    "132008": ErrorRow("A template parameter value is not valid.", "Check the parameter values.", kind=TEMPLATE),
    "132012": ErrorRow("A template parameter has the wrong format for the approved template.",
                       "Check which parameters are text, currency or date, and the header media type.",
                       kind=TEMPLATE),
    "132015": ErrorRow("The template is paused because of low quality.", "Choose another template.",
                       kind=TEMPLATE, template_status="PAUSED"),
    "132016": ErrorRow("The template is disabled because of low quality.", "Choose another template.",
                       kind=TEMPLATE, template_status="DISABLED"),
    "135000": ErrorRow("WhatsApp refused the message because of a user error.",
                       "Check the message and its parameters.", kind=CONTENT),
    "470": ErrorRow("More than 24 hours have passed since the customer last wrote, so WhatsApp only accepts "
                    "an approved template.", "Send an approved template instead.", kind=WINDOW_CLOSED),
}

STATUSES = {"sent": st.SENT, "delivered": st.DELIVERED, "read": st.READ, "played": st.READ, "failed": st.FAILED}

# Codes after which a NAMED template send is repeated once with currency and date_time values as text.
_TYPED_NAMED_REFUSALS = frozenset({"100", "131008", "131009", "132000", "132012"})
_URL = re.compile(r"https?://", re.IGNORECASE)


# --------------------------------------------------------------------------- building requests


def text_payload(outbound: Outbound) -> dict[str, Any]:
    """A free-text message; only allowed inside the customer-service window (providers.md §1.2)."""
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": outbound.to, "type": "text",
        "text": {"preview_url": bool(_URL.search(outbound.text)), "body": outbound.text},
    }
    if outbound.reference:
        payload["biz_opaque_callback_data"] = outbound.reference
    return payload


def template_payload(outbound: Outbound, typed_named: bool = True) -> dict[str, Any]:
    """A template message (providers.md §1.3); ``typed_named=False`` sends currency and dates as text."""
    spec = outbound.template
    assert spec is not None
    template: dict[str, Any] = {"name": spec.name, "language": {"code": spec.language}}
    components = template_components(spec, outbound.params, typed_named=typed_named)
    if components:
        template["components"] = components
    payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual",
                               "to": outbound.to, "type": "template", "template": template}
    if outbound.reference:
        payload["biz_opaque_callback_data"] = outbound.reference
    return payload


def template_components(spec: TemplateSpec, params: Mapping[str, ParamValue], *,
                        typed_named: bool = True) -> list[dict[str, Any]]:
    """Header, body and button parameters in Meta's shape, from Herald's slots (``header.media``,
    ``header.<key>``, ``<key>``, ``button<i>.<key>``).

    Positional values go in placeholder order ({{1}}, {{2}} …); named ones carry ``parameter_name``.
    Whether Meta wants ``parameter_name`` on currency and date_time values of a NAMED template is not
    confirmed (providers.md §1.3): they carry it unless ``typed_named`` is False, which sends their
    fallback text as a named text value instead.
    """
    named = spec.parameter_format.upper() == "NAMED"
    components: list[dict[str, Any]] = []
    if spec.header_format.upper() in MEDIA_FORMATS:
        components.append({"type": "header",
                           "parameters": [media_parameter(spec.header_format, _param(params, "header.media"))]})
    elif spec.header_format.upper() == "TEXT":
        keys = placeholders(spec.header_text)
        if keys:
            components.append({"type": "header", "parameters": [
                _value_parameter(k, _param(params, f"header.{k}"), named, typed_named) for k in keys]})
    body_keys = _ordered(placeholders(spec.body), named)
    if body_keys:
        components.append({"type": "body", "parameters": [
            _value_parameter(k, _param(params, k), named, typed_named) for k in body_keys]})
    for index, button in enumerate(spec.buttons):
        kind = button.type.upper()
        if kind == "URL":
            keys = placeholders(button.url)
            if keys:
                components.append({"type": "button", "sub_type": "url", "index": str(index), "parameters": [
                    {"type": "text", "text": _text(_param(params, f"button{index}.{k}"))} for k in keys]})
        elif kind == "OTP" and body_keys:
            # An authentication template repeats the code in its button (providers.md §1.3).
            components.append({"type": "button", "sub_type": "url", "index": str(index), "parameters": [
                {"type": "text", "text": _text(_param(params, body_keys[0]))}]})
    return components


def media_parameter(header_format: str, value: ParamValue) -> dict[str, Any]:
    """A header image, video or document: a public link, or a media id uploaded to Meta."""
    kind = header_format.lower()
    reference = _text(value).strip()
    media: dict[str, Any] = {"link": reference} if _URL.match(reference) else {"id": reference}
    if kind == "document" and "link" in media:
        name = urlsplit(reference).path.rsplit("/", 1)[-1]
        if "." in name:
            media["filename"] = name
    return {"type": kind, kind: media}


def _value_parameter(key: str, value: ParamValue, named: bool, typed_named: bool) -> dict[str, Any]:
    if isinstance(value, Currency) and (typed_named or not named):
        out: dict[str, Any] = {"type": "currency"}
        body: dict[str, Any] = {"currency": {"fallback_value": value.fallback_value, "code": value.code,
                                             "amount_1000": value.amount_1000}}
    elif isinstance(value, DateTimeValue) and (typed_named or not named):
        out, body = {"type": "date_time"}, {"date_time": {"fallback_value": value.fallback_value}}
    else:
        out, body = {"type": "text"}, {"text": _text(value)}
    if named:
        out["parameter_name"] = key
    out.update(body)
    return out


def _ordered(keys: list[str], named: bool) -> list[str]:
    if named or not all(k.isdigit() for k in keys):
        return keys
    return sorted(keys, key=int)


def _param(params: Mapping[str, ParamValue], slot: str) -> ParamValue:
    if slot not in params:
        raise TypedProviderError("template_param_missing", f"The template's “{slot}” value is missing.",
                                 kind=TEMPLATE, action="Fill in every placeholder and send again.")
    return params[slot]


def _text(value: ParamValue) -> str:
    return clean_parameter(value if isinstance(value, str) else value.text())


def _has_typed_named(spec: TemplateSpec, params: Mapping[str, ParamValue]) -> bool:
    return spec.parameter_format.upper() == "NAMED" and any(
        isinstance(v, (Currency, DateTimeValue)) for v in params.values())


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


# --------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class SyncedTemplate:
    """One template as Meta lists it, with the parts Herald renders already picked out."""

    provider_id: str
    name: str
    language: str
    status: str
    category: str
    parameter_format: str
    body: str
    header_format: str
    header_text: str
    footer: str
    buttons: tuple[Mapping[str, str], ...]
    components: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TemplatePage:
    number: int
    templates: tuple[SyncedTemplate, ...]


def parse_template(item: Mapping[str, Any]) -> SyncedTemplate | None:
    """A ``message_templates`` entry (providers.md §1.6) in Herald's terms; None if it has no name."""
    name, language = str(item.get("name") or ""), str(item.get("language") or "")
    if not name or not language:
        return None
    components = [c for c in item.get("components") or [] if isinstance(c, Mapping)]
    body = header_format = header_text = footer = ""
    buttons: list[dict[str, str]] = []
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            header_format = str(component.get("format", "TEXT")).upper()
            header_text = str(component.get("text", "")) if header_format == "TEXT" else ""
        elif kind == "BODY":
            body = str(component.get("text", ""))
        elif kind == "FOOTER":
            footer = str(component.get("text", ""))
        elif kind == "BUTTONS":
            for button in component.get("buttons") or []:
                if isinstance(button, Mapping):
                    buttons.append({"type": str(button.get("type", "")).upper(), "text": str(button.get("text", "")),
                                    "url": str(button.get("url", ""))})
    declared = str(item.get("parameter_format") or "").upper()
    keys = placeholders(body) + placeholders(header_text)
    parameter_format = declared if declared in ("NAMED", "POSITIONAL") else (
        "NAMED" if any(not k.isdigit() for k in keys) else "POSITIONAL")
    return SyncedTemplate(
        provider_id=str(item.get("id") or ""), name=name, language=language,
        status=str(item.get("status") or "").upper(), category=str(item.get("category") or "").upper(),
        parameter_format=parameter_format, body=body, header_format=header_format, header_text=header_text,
        footer=footer, buttons=tuple(buttons), components=tuple(dict(c) for c in components))


def next_cursor(body: Mapping[str, Any], page_had_data: bool) -> str | None:
    """The ``after`` cursor of the next page, or None on the last page.

    Graph puts ``paging.next`` on every page but the last; that it always does so is not confirmed
    (providers.md §1.6), so a page that has data and an ``after`` cursor but no ``next`` is
    followed too, and the empty page that answers it ends the listing.
    """
    paging = body.get("paging") if isinstance(body.get("paging"), Mapping) else {}
    cursors = paging.get("cursors") if isinstance(paging.get("cursors"), Mapping) else {}
    following = paging.get("next")
    if isinstance(following, str) and following:
        after = parse_qs(urlsplit(following).query).get("after", [None])[0]
        return after or cursors.get("after")
    if page_had_data and cursors.get("after"):
        return str(cursors["after"])
    return None


# --------------------------------------------------------------------------- webhooks


def parse_webhook(payload: Mapping[str, Any]) -> WebhookBatch:
    """Every inbound message and status in one delivery (several entries and changes may be batched).

    A part of the wrong JSON type (``"entry": 5``, a list where an object belongs) is noted in
    ``skipped`` and passed over; the rest of the delivery is still read.
    """
    batch = WebhookBatch()
    if not isinstance(payload, Mapping):
        batch.skipped.append("payload is not an object")
        return batch
    for entry in batch.objects(payload.get("entry"), "entry"):
        for change in batch.objects(entry.get("changes"), "changes"):
            field_name = change.get("field")
            value = change.get("value")
            if not isinstance(value, Mapping):
                batch.skipped.append(f"field {short(field_name)}: value is not an object")
                continue
            if field_name == "messages":
                _parse_messages_value(value, batch)
            elif field_name == "message_template_status_update":
                _parse_template_value(scalar(entry.get("id")), from_unix(entry.get("time")), value, batch)
            else:
                batch.skipped.append(f"field {short(field_name or '?')}")
    return batch


def _parse_template_value(account: str, occurred_at: datetime | None, value: Mapping[str, Any],
                          batch: WebhookBatch) -> None:
    """A template's review or quality changed; the entry's id is the WhatsApp Business Account and
    its time is when the change happened."""
    name, language = scalar(value.get("message_template_name")), scalar(value.get("message_template_language"))
    event = scalar(value.get("event")).strip().upper()
    if not account or not name or not language or not event:
        batch.skipped.append("template status without account, name, language or event")
        return
    template_id = scalar(value.get("message_template_id"))
    reason = scalar(value.get("reason"))
    batch.templates.append(TemplateEvent(
        account=account, name=name, language=language, event=event, provider_template_id=template_id or None,
        reason=reason if reason not in ("", "NONE") else None, occurred_at=occurred_at))


def _parse_messages_value(value: Mapping[str, Any], batch: WebhookBatch) -> None:
    metadata = value.get("metadata") if isinstance(value.get("metadata"), Mapping) else {}
    ours = set()
    if scalar(metadata.get("phone_number_id")):
        ours.add(f"pnid:{scalar(metadata['phone_number_id'])}")
    if scalar(metadata.get("display_phone_number")):
        ours.add(number_key(scalar(metadata["display_phone_number"])))
    for message in batch.objects(value.get("messages"), "messages"):
        message_id, sender = scalar(message.get("id")), scalar(message.get("from"))
        if not message_id or not sender:
            batch.skipped.append("message without id or sender")
            continue
        if message.get("type") == "system":  # e.g. the customer changed number: not a customer message
            batch.skipped.append("system message")
            continue
        batch.inbound.append(InboundEvent(
            channel="whatsapp", ours=frozenset(ours), customer=e164(sender), text=inbound_text(message),
            provider_message_id=message_id, received_at=from_unix(message.get("timestamp"))))
    for status in batch.objects(value.get("statuses"), "statuses"):
        event = _status_event(status)
        if event is None:
            batch.skipped.append(f"status {short(status.get('status'))}")
        else:
            batch.statuses.append(event)
    for error in batch.objects(value.get("errors"), "errors"):
        batch.skipped.append(f"system error {short(error.get('code'))}: "
                             f"{short(error.get('title') or error.get('message'), 200)}")


def _status_event(status: Any) -> StatusEvent | None:
    if not isinstance(status, Mapping) or not scalar(status.get("id")):
        return None
    word = scalar(status.get("status"))
    ours = STATUSES.get(word)
    if ours is None:
        return None
    code = message = None
    errors = status.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        first = errors[0]
        data = first.get("error_data") if isinstance(first.get("error_data"), Mapping) else {}
        words = scalar(data.get("details")) or scalar(first.get("message")) or scalar(first.get("title"))
        if scalar(first.get("code")):
            code = scalar(first["code"])
            message = lookup(ERRORS, code, words, LABEL).sentence()
    return StatusEvent(provider_message_id=scalar(status["id"]), status=ours, provider_status=word,
                       occurred_at=from_unix(status.get("timestamp")), error_code=code, error_message=message,
                       reference=scalar(status.get("biz_opaque_callback_data")) or None)


def inbound_text(message: Mapping[str, Any]) -> str:
    """What the customer wrote or tapped, as text; media without a caption is named in brackets."""
    kind = scalar(message.get("type"))
    part = message.get(kind) if isinstance(message.get(kind), Mapping) else {}
    if kind == "text":
        return scalar(part.get("body"))
    if kind == "button":
        return scalar(part.get("text")) or scalar(part.get("payload"))
    if kind == "interactive":
        reply = part.get("button_reply") or part.get("list_reply") or {}
        return scalar(reply.get("title")) if isinstance(reply, Mapping) else ""
    if kind in ("image", "video", "document", "audio", "sticker"):
        return scalar(part.get("caption")) or f"[{kind}]"
    if kind == "reaction":
        return scalar(part.get("emoji")) or "[reaction]"
    return f"[{short(kind or 'message', 40)}]"


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
