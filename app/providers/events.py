"""What a provider's webhook says, in Herald's terms: customers' messages, delivery statuses and
template reviews.

Each provider module turns its own payload into a :class:`WebhookBatch` with pure functions, so the
parsing is tested without a server; the webhook service then applies the batch to the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone


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


@dataclass
class WebhookBatch:
    """Everything one webhook delivery carried; ``skipped`` notes what Herald does not act on."""

    inbound: list[InboundEvent] = field(default_factory=list)
    statuses: list[StatusEvent] = field(default_factory=list)
    templates: list[TemplateEvent] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


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
