"""What a provider's webhook says, in Herald's terms: customers' messages, delivery statuses and
template reviews.

Each provider module turns its own payload into a :class:`WebhookBatch` with pure functions, so the
parsing is tested without a server; the webhook service then applies the batch to the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping

# What the store can hold: provider message ids up to 160 characters, error codes up to 32.
MAX_ID = 160
MAX_CODE = 32
MAX_WORDS = 2000
_E164 = re.compile(r"\+[1-9]\d{1,14}")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean(value: str) -> str:
    """Text as the store can keep it: NUL characters removed, unpaired surrogates replaced by U+FFFD.

    A customer's message arrives however their phone or the provider wrote it; neither character can
    be stored (PostgreSQL refuses NUL, UTF-8 has no surrogates), and refusing the delivery would lose it.
    """
    if not _UNSTORABLE.search(value):
        return value
    return _UNSTORABLE.sub(lambda m: "" if m.group(0) == "\x00" else "\ufffd", value)


def _clean_fields(event: Any, limits: Mapping[str, int] = {}) -> None:
    """Every text field of a frozen event cleaned (see :func:`clean`), the free-text ones cut to size."""
    for item in fields(event):
        value = getattr(event, item.name)
        if isinstance(value, str):
            value = clean(value)[: limits.get(item.name, len(value))]
        elif isinstance(value, frozenset):
            value = frozenset(clean(v) for v in value)
        else:
            continue
        object.__setattr__(event, item.name, value)


@dataclass(frozen=True)
class InboundEvent:
    """A message a customer sent to one of our senders."""

    channel: str                    # whatsapp, sms or viber
    ours: frozenset[str]            # keys naming our side (see :func:`number_key`, :func:`id_key`)
    customer: str                   # the customer's number, E.164
    text: str
    provider_message_id: str
    received_at: datetime | None = None  # when the customer sent it, if the provider says
    account: str | None = None      # the provider account the event belongs to, when it names one

    def __post_init__(self) -> None:
        _clean_fields(self)


@dataclass(frozen=True)
class StatusEvent:
    """A delivery status for a message we sent."""

    provider_message_id: str
    status: str                     # Herald's status word: accepted, sent, delivered, read or failed
    provider_status: str            # the provider's own word, for the log
    occurred_at: datetime | None = None
    error_code: str | None = None
    error_message: str | None = None
    reference: str | None = None    # our message id, when the provider echoes it back
    account: str | None = None

    def __post_init__(self) -> None:
        _clean_fields(self, {"error_code": MAX_CODE, "error_message": MAX_WORDS})


@dataclass(frozen=True)
class TemplateEvent:
    """The channel changed a template's review or quality status (approved, paused, disabled…)."""

    account: str                    # the business account that owns the template (a WABA id)
    name: str
    language: str                   # as the provider wrote it: ``en_US`` or ``en-US``
    event: str                      # the provider's word for what happened, upper case
    provider_template_id: str | None = None
    reason: str | None = None
    occurred_at: datetime | None = None

    def __post_init__(self) -> None:
        _clean_fields(self, {"reason": MAX_WORDS})


@dataclass
class WebhookBatch:
    """Everything one webhook delivery carried; ``skipped`` notes what Herald does not act on."""

    inbound: list[InboundEvent] = field(default_factory=list)
    statuses: list[StatusEvent] = field(default_factory=list)
    templates: list[TemplateEvent] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def objects(self, value: Any, what: str) -> Iterator[Mapping[str, Any]]:
        """The objects of a list in the payload; a missing list is empty, and a value of the wrong
        JSON type (a number where a list belongs, a string among objects) is noted and passed over."""
        if value is None:
            return
        if not isinstance(value, list):
            self.skipped.append(f"{what} is not a list")
            return
        for item in value:
            if isinstance(item, Mapping):
                yield item
            else:
                self.skipped.append(f"an item of {what} is not an object")


def unfit(event: InboundEvent | StatusEvent | TemplateEvent) -> str | None:
    """Why the store cannot take this event as it is, or None. An id is never cut short: a shortened
    id could name another message."""
    if isinstance(event, (InboundEvent, StatusEvent)) and not 0 < len(event.provider_message_id) <= MAX_ID:
        return f"message id is empty or longer than {MAX_ID} characters"
    if isinstance(event, InboundEvent) and event.customer and not _E164.fullmatch(event.customer):
        return "the customer's number is not a phone number"
    return None


def scalar(value: Any) -> str:
    """A value the payload should hold as text (ids and numbers often come as strings) as text;
    "" for an object, a list, a boolean or nothing, which are never an id or a word."""
    if isinstance(value, bool) or value is None or isinstance(value, (Mapping, list)):
        return ""
    return str(value)


def short(value: object, limit: int = 64) -> str:
    """A payload value quoted in a note, never longer than ``limit``."""
    text = clean(value if isinstance(value, str) else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def digits(value: str) -> str:
    """Only the digits of a number: providers write it with or without +, spaces or a prefix."""
    return "".join(ch for ch in value if ch.isdigit())


def number_key(value: str) -> str:
    return f"number:{digits(value)}"


def id_key(value: str) -> str:
    return f"id:{value.strip()}"


def e164(value: str) -> str:
    """A provider's number (``16505551234``, ``+1 650…``, ``whatsapp:+1…``) as ``+16505551234``."""
    only = digits(value)
    return f"+{only}" if only else ""


def from_unix(value: object) -> datetime | None:
    """Unix seconds as sent by Meta (a string) or anyone else (a number); None if unreadable."""
    try:
        return datetime.fromtimestamp(int(str(value).strip()), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def from_iso(value: object) -> datetime | None:
    """An ISO-8601 time (``2025-05-01T14:00:00.000Z``); None if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
