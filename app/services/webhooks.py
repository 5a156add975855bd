"""Provider webhooks applied to the store: which sender a delivery is for, what customers wrote,
and how our messages fared.

The web layer verifies each delivery against the candidates' secrets first and hands over only the
senders whose secret verified it; nothing here trusts a payload on its own. Events for senders or
messages Herald does not know are acknowledged and logged, never refused, so a provider does not
retry them for days. Redelivered events are applied once, and statuses never move a message
backwards (see :mod:`app.services.statuses`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Iterator, Mapping, Sequence

import hashlib
import hmac
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import DataError, IntegrityError

from ..providers import twilio, vonage, whatsapp_cloud
from ..providers.events import (
    InboundEvent,
    StatusEvent,
    TemplateEvent,
    WebhookBatch,
    digits,
    id_key,
    number_key,
    unfit,
)
from ..domain import templates
from ..store.models import Message, Sender, Template, UsedToken
from . import events
from .context import Context
from .recipients import record_inbound
from .statuses import StatusUpdate, record_status
from .workspaces import sender_credentials

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """A sender a webhook delivery may be for, with the secrets that verify it (never printed)."""

    sender_id: int
    workspace_id: int
    channel: str
    provider: str
    from_number: str
    options: Mapping[str, str]
    credentials: Mapping[str, str] = field(repr=False)

    def secret(self, name: str) -> str:
        return str(self.credentials.get(name) or "")


@dataclass
class Outcome:
    """What one delivery changed, for the log and the provider's 200 answer."""

    inbound_recorded: int = 0
    inbound_duplicate: int = 0
    inbound_unmatched: int = 0
    statuses_applied: int = 0
    statuses_duplicate: int = 0
    statuses_unknown: int = 0
    templates_updated: int = 0
    templates_unknown: int = 0
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def candidates(ctx: Context, provider: str, secret: str | None = None) -> list[Candidate]:
    """Every sender on ``provider`` (that has the secret named ``secret``, when given)."""
    with ctx.store.session() as session:
        rows = list(session.scalars(select(Sender).where(Sender.provider == provider).order_by(Sender.id)))
        found = [Candidate(r.id, r.workspace_id, r.channel, r.provider, r.from_number, dict(r.options or {}),
                           sender_credentials(ctx, r)) for r in rows]
    return [c for c in found if secret is None or c.secret(secret).strip()]


# The path segment of each provider's webhook URL (``/webhooks/<route>`` and ``/webhooks/<route>/<sender id>``).
ROUTES = {"whatsapp_cloud": "whatsapp", "twilio": "twilio", "vonage": "vonage"}
# Sender ids are database integers: a longer number in a URL names no sender (and is never queried).
LARGEST_ID = 2**31 - 1


def webhook_url(public_base_url: str, provider: str, sender_id: int) -> str:
    """The sender's own webhook URL, verified with its secret alone; "" for a provider with no webhooks."""
    route = ROUTES.get(provider)
    return f"{public_base_url.rstrip('/')}/webhooks/{route}/{sender_id}" if route else ""


def addressed(ctx: Context, provider: str, sender_id: int, secret: str) -> tuple[Candidate | None, list[Candidate]]:
    """The sender a per-sender webhook URL names (None unless it is on ``provider`` and has the secret
    named ``secret``), and the other senders of its workspace on that provider that hold the very same
    secret (one Meta app, Twilio account or Vonage application serves several numbers).

    One workspace's senders are read, whatever the number of tenants, so one delivery costs the same
    for one tenant or ten thousand.
    """
    if not 0 < sender_id <= LARGEST_ID:
        return None, []
    with ctx.store.session() as session:
        row = session.get(Sender, sender_id)
        if row is None or row.provider != provider:
            return None, []
        rows = list(session.scalars(select(Sender).where(Sender.workspace_id == row.workspace_id,
                                                         Sender.provider == provider).order_by(Sender.id)))
        found = [Candidate(r.id, r.workspace_id, r.channel, r.provider, r.from_number, dict(r.options or {}),
                           sender_credentials(ctx, r)) for r in rows]
    target = next((c for c in found if c.sender_id == sender_id), None)
    if target is None or not target.secret(secret).strip():
        return None, []
    key = target.secret(secret).encode()
    sharing = [c for c in found if c is not target and hmac.compare_digest(c.secret(secret).encode(), key)]
    return target, sharing


def sender_keys(candidate: Candidate) -> frozenset[str]:
    """The names a provider uses for this sender's side of a conversation.

    A WhatsApp Cloud sender is its ``phone_number_id``; without that option, its display number.
    Other senders are their number, or their id (a Viber service id).
    """
    if candidate.provider == "whatsapp_cloud":
        phone_number_id = str(candidate.options.get("phone_number_id") or "").strip()
        return frozenset({f"pnid:{phone_number_id}"} if phone_number_id else {number_key(candidate.from_number)})
    keys = {id_key(candidate.from_number)}
    if digits(candidate.from_number):
        keys.add(number_key(candidate.from_number))
    return frozenset(keys)


def matches(candidate: Candidate, event: InboundEvent) -> bool:
    """Is this customer message addressed to this sender (same channel, same number or id, same account)?"""
    if candidate.channel != event.channel or not sender_keys(candidate) & event.ours:
        return False
    account = str(candidate.options.get("account_sid") or "").strip()
    return not (event.account and account and event.account != account)


def receive_whatsapp(ctx: Context, senders: Sequence[Candidate], payload: Mapping[str, Any]) -> Outcome:
    """A verified WhatsApp Cloud API delivery (JSON)."""
    return apply(ctx, senders, whatsapp_cloud.parse_webhook(payload))


def receive_twilio(ctx: Context, senders: Sequence[Candidate], fields: Mapping[str, str],
                   query: Mapping[str, str]) -> Outcome:
    """A verified Twilio delivery: its form fields and the query of the URL it called."""
    return apply(ctx, senders, twilio.parse_webhook(fields, query))


def receive_vonage(ctx: Context, senders: Sequence[Candidate], payload: Mapping[str, Any]) -> Outcome:
    """A verified Vonage Messages API delivery (JSON)."""
    return apply(ctx, senders, vonage.parse_webhook(payload))


@contextmanager
def token_spent(ctx: Context, scheme: str, token_id: str) -> Iterator[None]:
    """Spend a signed token for the delivery handled inside the block: a token already spent raises
    :class:`Replayed`; if the block fails, the token is given back, so the provider's retry of this
    very token gets through."""
    spend_token(ctx, scheme, token_id)
    try:
        yield
    except BaseException:
        release_token(ctx, scheme, token_id)
        raise


class Replayed(Exception):
    """A signed token Herald has already accepted, presented again."""


# Longer than any token can be accepted for: its iat must lie within 5 minutes either side of now.
TOKEN_MEMORY = timedelta(minutes=15)


def _token_key(scheme: str, token_id: str) -> str:
    """The ``used_tokens`` key: the scheme, then a digest of the id (ids are the provider's, of any length)."""
    return f"{scheme}:{hashlib.sha256(token_id.encode('utf-8', 'surrogatepass')).hexdigest()}"[:64]


def spend_token(ctx: Context, scheme: str, token_id: str) -> None:
    """Record a signed token as used, or raise :class:`Replayed` when it already was. The primary key
    decides between two copies racing in: exactly one is spent."""
    now = ctx.now()
    with ctx.store.session() as session:
        session.execute(delete(UsedToken).where(UsedToken.jti.like(f"{scheme}:%"),
                                                UsedToken.used_at < now - TOKEN_MEMORY))
    try:
        with ctx.store.session() as session:
            session.add(UsedToken(jti=_token_key(scheme, token_id), used_at=now))
    except IntegrityError:
        raise Replayed(token_id) from None


def release_token(ctx: Context, scheme: str, token_id: str) -> None:
    with ctx.store.session() as session:
        session.execute(delete(UsedToken).where(UsedToken.jti == _token_key(scheme, token_id)))

def apply(ctx: Context, senders: Sequence[Candidate], batch: WebhookBatch) -> Outcome:
    """Record the batch's customer messages and statuses for the verified ``senders`` only.

    Each item is applied on its own: one the store cannot take (an id too long for it, a value the
    database refuses) is noted in ``skipped`` and the rest of the batch still goes in, so a provider
    never retries a whole batch for days over one bad item. A fault (the database unreachable) is
    not an item's fault: it propagates, the delivery fails, and the provider's retry brings it back.
    """
    outcome = Outcome(skipped=list(batch.skipped))
    for note in batch.skipped:
        log.info("webhook item not acted on: %s", note)
    steps = ([(_inbound, event) for event in batch.inbound] + [(_status, event) for event in batch.statuses]
             + [(_template, event) for event in batch.templates])
    for step, event in steps:
        problem = unfit(event)
        if problem is None:
            try:
                step(ctx, senders, event, outcome)
                continue
            except DataError as error:
                problem = f"the database refused it ({type(error.orig).__name__})"
        note = f"{type(event).__name__} skipped: {problem}"
        outcome.skipped.append(note)
        log.warning("webhook item not applied: %s", note)
    return outcome


def _template(ctx: Context, senders: Sequence[Candidate], event: TemplateEvent, outcome: Outcome) -> None:
    """A template's new review or quality status, for the workspaces whose verified senders use that
    business account (their ``waba_id`` option): a paused or disabled template stops being offered."""
    status = templates.status_after_event(event.event)
    if status is None:
        note = f"template {event.name} ({event.language}): {event.event}"
        if event.event == "UNARCHIVED":
            note += "; run a template sync to read its status"
        outcome.skipped.append(note)
        log.info("template event not acted on: %s", note)
        return
    workspace_ids = {c.workspace_id for c in senders
                     if c.provider == "whatsapp_cloud" and str(c.options.get("waba_id") or "").strip() == event.account}
    languages = {event.language, event.language.replace("-", "_")}
    matched = applied = 0
    if workspace_ids:
        named = (Template.name == event.name) & Template.language.in_(languages)
        if event.provider_template_id:
            named = named | (Template.provider_template_id == event.provider_template_id)
        stamp = _moment(event.occurred_at, ctx.now())
        with ctx.store.session() as session:
            rows = session.scalars(select(Template).where(Template.workspace_id.in_(workspace_ids),
                                                          Template.channel == "whatsapp", named))
            for row in rows:
                matched += 1
                if _older(event.occurred_at, row.updated_at):
                    # Meta retries deliveries for days: a late event must not undo a newer change.
                    outcome.skipped.append(f"template {event.name} ({event.language}): {event.event} is older "
                                           "than its last change")
                    continue
                if row.status != status:
                    log.info("template %s (%s) of workspace %s: %s -> %s (%s)", row.name, row.language,
                             row.workspace_id, row.status, status, event.reason or event.event)
                # Stamped even when the status stays: it is now known as of this event.
                row.status, row.updated_at = status, stamp
                applied += 1
        ctx.workspaces.invalidate()
    outcome.templates_updated += applied
    if not matched:
        outcome.templates_unknown += 1
        log.info("template event %s for %s (%s) on account %s matches no stored template; acknowledged",
                 event.event, event.name, event.language, event.account)


def _older(reported: datetime | None, changed_at: datetime | None) -> bool:
    """Did the provider's event happen before our last change? It reports whole seconds, so an
    event in the same second as the change counts as the later one."""
    return reported is not None and changed_at is not None and reported < changed_at.replace(microsecond=0)


def _moment(reported: datetime | None, now: datetime) -> datetime:
    """When it happened: the provider's time, but never in our future."""
    return now if reported is None or reported > now else reported

def _inbound(ctx: Context, senders: Sequence[Candidate], event: InboundEvent, outcome: Outcome) -> None:
    matched = [c for c in senders if matches(c, event)]
    if not matched or not event.customer:
        outcome.inbound_unmatched += 1
        log.info("inbound %s message %s is for no known sender; acknowledged", event.channel,
                 event.provider_message_id)
        return
    received_at = _moment(event.received_at, ctx.now())
    with ctx.store.session() as session:
        for candidate in matched:
            sender = session.get(Sender, candidate.sender_id)
            if sender is None:
                continue
            if record_inbound(session, sender, event.customer, event.text, event.provider_message_id, received_at):
                outcome.inbound_recorded += 1
                events.received(ctx, session, sender, event.customer, event.text, event.provider_message_id,
                                received_at)
            else:
                outcome.inbound_duplicate += 1

def _status(ctx: Context, senders: Sequence[Candidate], event: StatusEvent, outcome: Outcome) -> None:
    sender_ids = [c.sender_id for c in senders]
    if not _find_message(ctx, sender_ids, event):
        outcome.statuses_unknown += 1
        log.info("status %s for unknown message %s; acknowledged", event.provider_status, event.provider_message_id)
        return
    result = record_status(ctx, StatusUpdate(event.provider_message_id, event.status,
                                             _moment(event.occurred_at, ctx.now()), error_code=event.error_code,
                                             error_message=event.error_message, sender_ids=tuple(sender_ids)))
    if result == "applied":
        outcome.statuses_applied += 1
    elif result == "duplicate":
        outcome.statuses_duplicate += 1
    else:
        outcome.statuses_unknown += 1

def _find_message(ctx: Context, sender_ids: Sequence[int], event: StatusEvent) -> bool:
    """Is the status about one of these senders' messages? A message whose send timed out has no
    provider id yet: the reference the provider echoes (our message id) finds it, and it adopts the id.
    """
    if not sender_ids:
        return False
    with ctx.store.session() as session:
        found = session.scalar(select(Message.id).where(Message.provider_message_id == event.provider_message_id,
                                                        Message.sender_id.in_(sender_ids)))
        if found is not None:
            return True
        if not event.reference:
            return False
        message = session.scalar(select(Message).where(Message.public_id == event.reference,
                                                       Message.sender_id.in_(sender_ids)))
        if message is None or message.provider_message_id not in (None, event.provider_message_id):
            return False
        taken = session.scalar(select(Message.id).where(Message.provider_message_id == event.provider_message_id))
        if taken is not None:  # the id belongs to another message: never take it over
            log.warning("status for %s names provider id %s, which another message has; ignored",
                        message.public_id, event.provider_message_id)
            return False
        message.provider_message_id = event.provider_message_id
        message.updated_at = ctx.now()
        log.info("message %s adopted provider id %s from its status webhook", message.public_id,
                 event.provider_message_id)
        return True
