"""Meta's webhook deliveries (providers.md §1.7) read into customer messages, statuses and
template reviews."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from ..errors import lookup
from ..events import (
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
from .codes import ERRORS, LABEL, STATUSES


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
