"""The one way anything is sent: decide, claim the idempotency key, dispatch, record.

Every surface (Intercom panel, HubSpot compose page, HTTP API, CLI) builds a :class:`SendRequest`
and calls :func:`send`. A refusal changes nothing in the store but its audit record (a
:class:`~app.store.models.PolicyDecision`, so operators see what the rules stopped); an allowed send is claimed together
with its idempotency key in one transaction, so two racing requests with one key produce one
provider call, and a replay returns the first result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Mapping, Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import phone
from ..domain import settings as workspace_settings
from ..domain import status as st
from ..domain.decision import ALLOWED, Decision, Draft, Limits
from ..domain.purposes import ORIGINS, PURPOSES
from ..domain.refusals import Reason, Refused
from ..domain.channels import CHANNEL_LABELS, CHANNELS, decide
from ..domain.templates import (
    APPROVED,
    Currency,
    DateTimeValue,
    ParamValue,
    bind_positional,
    choose,
)
from ..providers.base import UNKNOWN, Outbound, ProviderError
from ..store.locks import hold_until_commit
from ..store.models import (
    IdempotencyKey,
    Message,
    MessageEvent,
    PolicyDecision,
    Sender,
    Template,
    Workspace,
    Writeback,
)
from . import events, metrics
from . import policy as policy_service
from . import recipients
from .context import Context
from .jobs import enqueue
from .snapshots import WorkspaceSnapshot
from .workspaces import sender_credentials, templates_for, to_spec

log = logging.getLogger(__name__)

SURFACES = ("intercom", "hubspot", "api", "cli", "playground")


@dataclass(frozen=True)
class SendRequest:
    """Everything a surface knows about one send, before Herald has checked any of it."""

    workspace: str | int
    channel: str
    to: str
    text: str | None = None
    template: str | None = None
    language: str | None = None
    params: Mapping[str, Any] | Sequence[str] = field(default_factory=dict)
    sender: str | None = None  # a from-number or sender id, when the workspace has several
    purpose: str | None = None
    origin: str = "agent"
    surface: str = "api"
    requested_by: str = ""
    idempotency_key: str | None = None
    dry_run: bool = False
    confirmed: bool = False
    contact_ref: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)
    writeback: Mapping[str, Any] | None = None  # {"host": "intercom"|"hubspot", ...target}


@dataclass(frozen=True)
class SendResult:
    """The decision, and — when something was sent or replayed — the message as stored."""

    decision: Decision
    message: Mapping[str, Any] | None = None
    replayed: bool = False

    @property
    def sent(self) -> bool:
        """The provider took it: neither failed nor of unknown outcome."""
        return self.message is not None and self.message["status"] not in (st.FAILED, st.UNKNOWN)

    def as_dict(self) -> dict[str, Any]:
        return {"decision": self.decision.as_dict(), "message": dict(self.message) if self.message else None,
                "replayed": self.replayed}


def message_view(message: Message, sender: Sender | None = None) -> dict[str, Any]:
    """A stored message as surfaces show it."""
    return {
        "id": message.public_id, "channel": message.channel, "channel_label": CHANNEL_LABELS[message.channel],
        "to": message.recipient, "from": sender.from_number if sender is not None else None, "kind": message.kind,
        "template": message.template_name, "language": message.template_language, "text": message.text,
        "purpose": message.purpose, "origin": message.origin, "surface": message.surface,
        "requested_by": message.requested_by, "status": message.status, "status_label": st.label(message.status),
        "provider_message_id": message.provider_message_id, "error_code": message.error_code,
        "error_message": message.error_message, "sms_encoding": message.sms_encoding,
        "sms_segments": message.sms_segments, "policy_verdict": message.policy_verdict,
        "created_at": message.created_at.isoformat(), "updated_at": message.updated_at.isoformat(),
    }


def pick_sender(workspace: Workspace | WorkspaceSnapshot, channel: str, wanted: str | None) -> Any:
    """The sender for ``channel``: the one asked for, or the workspace's first on that channel."""
    if channel not in CHANNELS:
        raise Refused(Reason("channel_unknown", f"“{channel}” is not a channel Herald sends on; "
                                                f"use {', '.join(CHANNELS)}.", "channel"))
    candidates = [s for s in workspace.senders if s.channel == channel]
    if not candidates:
        raise Refused(Reason("sender_missing", f"This workspace has no {CHANNEL_LABELS[channel]} sender yet; an "
                                               "operator adds one with `flask --app app sender add`.", "channel"))
    if wanted:
        wanted_clean = wanted.strip()
        for sender in candidates:
            if sender.from_number == wanted_clean or str(sender.id) == wanted_clean:
                return sender
        try:
            normalised = phone.normalise(wanted_clean, field="sender")
        except Refused:
            normalised = None
        for sender in candidates:
            if sender.from_number == normalised:
                return sender
        raise Refused(Reason("sender_unknown", f"This workspace does not send {CHANNEL_LABELS[channel]} from "
                                               f"{wanted}.", "sender"))
    return candidates[0]


def _params(raw: Mapping[str, Any] | Sequence[str]) -> dict[str, ParamValue] | list[str]:
    if isinstance(raw, Mapping):
        out: dict[str, ParamValue] = {}
        for key, value in raw.items():
            if isinstance(value, Mapping) and value.get("type") in ("currency", "date_time"):
                out[str(key)] = _typed(str(key), value)
            elif isinstance(value, (Currency, DateTimeValue)):
                out[str(key)] = value
            else:
                out[str(key)] = "" if value is None else str(value)
        return out
    return [str(v) for v in raw]


def _typed(key: str, value: Mapping[str, Any]) -> ParamValue:
    """A typed parameter from its JSON shape; a value that is not what the type needs is refused."""
    fallback = value.get("fallback_value")
    if not isinstance(fallback, str) or not fallback.strip():
        raise Refused(Reason("template_param_invalid", f"“{key}” needs a fallback_value: the text people read.",
                             f"param:{key}"))
    if value.get("type") == "date_time":
        return DateTimeValue(fallback)
    amount, code = value.get("amount_1000"), value.get("code")
    if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(code, str) or \
            not re.fullmatch(r"[A-Z]{3}", code):
        raise Refused(Reason("template_param_invalid", f"“{key}” is a currency: it needs code (ISO 4217, such as "
                                                       "USD) and amount_1000 (a whole number, the amount times "
                                                       "1000).", f"param:{key}"))
    return Currency(fallback, code, amount)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _strings(request: SendRequest) -> list[tuple[str, str]]:
    """Every string of the request with the field it came in, for the check that the store can keep it."""
    found = [(name, getattr(request, name)) for name in ("to", "text", "template", "language", "sender", "purpose",
                                                          "requested_by", "idempotency_key", "contact_ref")]
    params = request.params.items() if isinstance(request.params, Mapping) else enumerate(request.params)
    for key, value in params:
        found.append((f"param:{key}", str(key)))
        if isinstance(value, Mapping):
            found.extend((f"param:{key}", str(v)) for v in value.values() if isinstance(v, str))
        elif isinstance(value, str):
            found.append((f"param:{key}", value))
    return [(name, value) for name, value in found if isinstance(value, str)]


def _request_hash(request: SendRequest, recipient: str, sender: Any) -> str:
    content = {"channel": request.channel, "to": recipient, "sender": sender.id, "text": request.text or "",
               "template": request.template or "", "language": request.language or "",
               "params": request.params if isinstance(request.params, Mapping) else list(request.params),
               "purpose": request.purpose or ""}
    canonical = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _validate(request: SendRequest) -> None:
    reasons = []
    if request.origin not in ORIGINS:
        reasons.append(Reason("origin_invalid", f"Origin must be one of {', '.join(ORIGINS)}.", "origin"))
    if request.purpose and request.purpose not in PURPOSES:
        reasons.append(Reason("purpose_invalid", f"“{request.purpose}” is not a purpose Herald knows; choose one "
                                                 f"of {', '.join(PURPOSES)}.", "purpose"))
    if request.surface not in SURFACES:
        reasons.append(Reason("surface_invalid", f"Surface must be one of {', '.join(SURFACES)}.", "surface"))
    if request.idempotency_key is not None and not (0 < len(request.idempotency_key) <= 255):
        reasons.append(Reason("idempotency_key_invalid", "An idempotency key has 1 to 255 characters.",
                              "idempotency_key"))
    for name, value in _strings(request):
        if _UNSTORABLE.search(value):
            reasons.append(Reason("characters_invalid", f"{name.removeprefix('param:')} contains a NUL character "
                                                        "or an unpaired surrogate, which cannot be sent.", name))
    if reasons:
        raise Refused(*reasons)


@dataclass
class _Prepared:
    decision: Decision
    draft: Draft
    sender_id: int
    workspace_id: int
    template_id: int | None
    outbound: Outbound | None
    request_hash: str
    provider: str
    previous_outbound_at: datetime | None = None  # the person's last business message before this one


def evaluate(ctx: Context, request: SendRequest, now: datetime | None = None) -> _Prepared:
    """Everything up to the decision; reads the store, writes nothing."""
    with ctx.store.session() as session:
        return _evaluate(ctx, session, request, now or ctx.now())


def _evaluate(ctx: Context, session: Session, request: SendRequest, now: datetime, lock: bool = False) -> _Prepared:
    """Resolve workspace, sender, number and template, load the recipient, and ask the domain.

    With ``lock``, sends to this person in this workspace wait for each other from here until the
    claim commits, so the daily cap and Viber's in-a-row count are read after the last claim.
    """
    _validate(request)
    workspace = ctx.workspaces.get(session, request.workspace)
    sender = pick_sender(workspace, request.channel, request.sender)
    region = phone.region_of(sender.from_number) if sender.from_number.startswith("+") else None
    recipient = phone.normalise(request.to, default_region=region)
    template_row, spec, params = None, None, _params(request.params)
    if request.template:
        versions = templates_for(session, workspace.id, request.channel, request.template)
        spec = choose([to_spec(v) for v in versions], request.template, request.language)
        template_row = next(v for v in versions if v.language == spec.language)
        if isinstance(params, list):
            params = bind_positional(spec, params) if spec.parameter_format != "NAMED" or not params else \
                _named_from_pairs(params)
    elif params:
        raise Refused(Reason("params_without_template", "Parameters only go with a template.", "params"))
    if lock:
        hold_until_commit(session, f"send:{workspace.id}:{recipient}")
    state = recipients.load(session, sender.id, recipient)
    draft = Draft(channel=request.channel, recipient=recipient, text=request.text, template=spec,
                  params=params if isinstance(params, dict) else {}, purpose=request.purpose,
                  origin=request.origin, confirmed=request.confirmed)
    settings = workspace.settings or {}
    broken = workspace_settings.problems(settings)
    if broken:
        raise _unavailable(workspace, "; ".join(broken))
    limits = Limits(max_sms_segments=workspace_settings.value(settings, "max_sms_segments"))
    try:
        judge = policy_service.policy_for(session, workspace, sender, recipient, now)
    except Refused as refused:
        if refused.code != "policy_setting_invalid":
            raise
        raise _unavailable(workspace, str(refused)) from None
    decision = decide(draft, state, now, limits, judge)
    outbound = None
    if decision.allowed:
        outbound = Outbound(channel=request.channel, to=recipient, sender=sender.from_number, text=decision.text,
                            template=spec, params=draft.params, options=dict(sender.options or {}),
                            credentials=sender_credentials(ctx, sender),
                            status_callback=_status_callback(ctx, sender))
    return _Prepared(decision, draft, sender.id, workspace.id, template_row.id if template_row else None,
                     outbound, _request_hash(request, recipient, sender), sender.provider, state.last_outbound_at)


# Errors an operator must fix (a sender set up without its credentials, a key that cannot be read,
# credentials the provider no longer accepts): whoever asked to send reads only this.
OPERATOR_CODES = frozenset({"sender_not_configured", "private_key_invalid", "content_template_missing"})
OPERATOR_NOTICE = "Sending is unavailable from this sender right now; an operator has been told."


def for_operator(error: ProviderError) -> bool:
    return error.code in OPERATOR_CODES or error.kind == "auth"


def replace_sentence(error: ProviderError, sentence: str) -> ProviderError:
    """The same error (code, kind, outcome) with words for whoever asked to send."""
    return ProviderError(error.code, sentence, outcome=error.outcome, kind=error.kind,
                         template_status=error.template_status)


def _unavailable(workspace: Any, problem: str) -> Refused:
    """An operator's configuration error, logged for the operator; whoever asked to send is told only
    that sending is unavailable, never the setting behind it."""
    log.error("workspace %s cannot send until an operator fixes its settings "
              "(`flask --app app workspace set` or `workspace unset`): %s", workspace.name, problem)
    return Refused(Reason("sending_unavailable", "Sending is unavailable for this workspace right now; "
                                                 "an operator has been told.", ""))


def _named_from_pairs(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise Refused(Reason("template_params_named", f"This template's placeholders have names: give "
                                                          f"NAME=VALUE, not “{pair}”.", "params"))
        out[key.strip()] = value
    return out


def _status_callback(ctx: Context, sender: Any) -> str:
    """The sender's own webhook URL, so the status is verified with its secret alone."""
    if sender.provider not in ("twilio", "vonage"):
        return ""
    from .webhooks import webhook_url

    return webhook_url(getattr(ctx.config, "public_base_url", ""), sender.provider, sender.id)


def send(ctx: Context, request: SendRequest) -> SendResult:
    """Decide, and unless refused, unconfirmed or a dry run: claim, dispatch and record."""
    now = ctx.now()
    # Deciding and claiming share one transaction: one commit before the provider is called.
    try:
        with ctx.store.session() as session:
            prepared = _evaluate(ctx, session, request, now, lock=not request.dry_run)
            if request.idempotency_key and not request.dry_run:
                # A retry replays what the first request did, even if the rules would now say no.
                earlier = _claimed_key(session, prepared.workspace_id, request.idempotency_key)
                if earlier is not None:
                    metrics.SENDS.labels(request.channel, "replayed").inc()
                    return _replay_key(session, earlier, prepared)
            decision = prepared.decision
            if request.dry_run or decision.outcome != ALLOWED:
                if decision.outcome != ALLOWED and not request.dry_run:
                    metrics.SENDS.labels(request.channel, decision.outcome).inc()
                    log.info("send refused: workspace=%s channel=%s outcome=%s codes=%s", prepared.workspace_id,
                             request.channel, decision.outcome, [r.code for r in decision.reasons])
                    _record_stopped(session, request, prepared, now)
                return SendResult(decision)
            claimed = _claim(session, request, prepared, now)
    except IntegrityError:
        if not request.idempotency_key:
            raise
        return _replay(ctx, request, prepared)
    return SendResult(decision, _dispatch(ctx, claimed, prepared, request))


_INSERT_STOPPED = PolicyDecision.__table__.insert()


def _record_stopped(session: Session, request: SendRequest, prepared: _Prepared, now: datetime) -> None:
    """The audit trail of a send the rules stopped (refused, or waiting for an agent's confirmation).

    A dry run (a preview) is not an attempt and is not recorded; everything else is, from every surface.
    """
    decision = prepared.decision
    template = prepared.draft.template
    verdict = decision.policy
    session.connection().execute(_INSERT_STOPPED, dict(
        workspace_id=prepared.workspace_id, created_at=now, outcome=decision.outcome, channel=request.channel,
        recipient=decision.recipient, kind=decision.kind, template_name=template.name if template else None,
        text=decision.text, purpose=decision.purpose, origin=request.origin, surface=request.surface,
        requested_by=request.requested_by or "", contact_ref=request.contact_ref,
        reason_codes=[r.code for r in decision.reasons], reasons=[r.as_dict() for r in decision.reasons],
        content=dict(verdict.content) if verdict is not None and verdict.content is not None else None))


def new_public_id(now: datetime) -> str:
    """``msg_`` + milliseconds + randomness: unguessable, yet new ids land at the end of the index
    instead of at random pages of it, so a table of millions inserts as fast as a small one."""
    return f"msg_{int(now.timestamp() * 1000):012x}{secrets.token_hex(6)}"


_INSERT_MESSAGE = Message.__table__.insert().returning(Message.__table__.c.id)
_INSERT_EVENT = MessageEvent.__table__.insert()
_INSERT_KEY = IdempotencyKey.__table__.insert()
_INSERT_WRITEBACK = Writeback.__table__.insert().returning(Writeback.__table__.c.id)
# Only an approved template is marked: a status the channel reported meanwhile is newer than this error.
_MARK_TEMPLATE = (Template.__table__.update()
                  .where(Template.__table__.c.id == bindparam("template_id"), Template.__table__.c.status == APPROVED)
                  .values(status=bindparam("status"), updated_at=bindparam("now")))
_MARK_RESULT = (Message.__table__.update()
                .where(Message.__table__.c.id == bindparam("message_id"),
                       Message.__table__.c.status == st.QUEUED))


def _claim(session: Session, request: SendRequest, prepared: _Prepared, now: datetime) -> "_Claimed":
    """Insert the message and its key in the deciding transaction; a lost race raises IntegrityError.

    The hot path speaks Core with prepared statements: it runs for every send.
    """
    decision = prepared.decision
    verdict = decision.policy
    template = prepared.draft.template
    # A confirmation is recorded only where the policy asked for one: a flag on an ordinary send is no audit.
    confirmed = request.confirmed and verdict is not None and verdict.outcome == "confirm"
    row = dict(
        public_id=new_public_id(now), workspace_id=prepared.workspace_id,
        sender_id=prepared.sender_id, channel=request.channel, recipient=decision.recipient,
        kind=decision.kind, template_id=prepared.template_id,
        template_name=template.name if template else None, template_language=template.language if template else None,
        params={k: (v if isinstance(v, str) else v.text()) for k, v in prepared.draft.params.items()},
        text=decision.text, purpose=decision.purpose, origin=request.origin, surface=request.surface,
        requested_by=request.requested_by or "", contact_ref=request.contact_ref, context=dict(request.context),
        sms_encoding=decision.sms.encoding if decision.sms else None,
        sms_segments=decision.sms.segments if decision.sms else None,
        policy_verdict=verdict.outcome if verdict else None,
        policy_reasons=[r.as_dict() for r in verdict.reasons] if verdict else [],
        confirmed_by=(request.requested_by or request.origin) if confirmed else None,
        confirmed_at=now if confirmed else None,
        status=st.QUEUED, provider_message_id=None, error_code=None, error_message=None,
        created_at=now, updated_at=now)
    connection = session.connection()
    message_id = connection.execute(_INSERT_MESSAGE, row).scalar_one()
    if request.idempotency_key:
        connection.execute(_INSERT_KEY, dict(workspace_id=prepared.workspace_id, key=request.idempotency_key,
                                             request_hash=prepared.request_hash, message_id=message_id,
                                             created_at=now))
    connection.execute(_INSERT_EVENT, dict(message_id=message_id, status=st.QUEUED, dedupe_key=None, error_code=None,
                                           error_message=None, occurred_at=now, recorded_at=now))
    writebacks: tuple[int, ...] = ()
    if request.writeback:
        writebacks = (connection.execute(_INSERT_WRITEBACK, dict(
            message_id=message_id, host=str(request.writeback.get("host")), target=dict(request.writeback),
            status="pending", attempts=0, last_error=None, next_attempt_at=now, created_at=now,
            done_at=None)).scalar_one(),)
    # Counted now, while the lock is held, not when the provider answers: a send racing this one
    # must see it. A send that fails is taken off the count again.
    recipients.note_outbound(session, prepared.sender_id, decision.recipient, now)
    return _Claimed(message_id, row["public_id"], now, message_view(Message(id=message_id, **row), None), writebacks)


@dataclass(frozen=True)
class _Claimed:
    id: int
    public_id: str
    at: datetime
    view: dict[str, Any]
    writebacks: tuple[int, ...] = ()


def _claimed_key(session: Session, workspace_id: int, key: str) -> IdempotencyKey | None:
    return session.scalar(select(IdempotencyKey).where(IdempotencyKey.workspace_id == workspace_id,
                                                       IdempotencyKey.key == key))


def _replay_key(session: Session, key: IdempotencyKey, prepared: _Prepared) -> SendResult:
    """The first result under this key; the same key with other content is refused."""
    if key.request_hash != prepared.request_hash:
        raise Refused(Reason("idempotency_key_reused", "This idempotency key was already used for a different "
                                                       "message; use a new key for new content.", "idempotency_key"))
    message = session.get(Message, key.message_id)
    assert message is not None
    return SendResult(prepared.decision, message_view(message, message.sender), replayed=True)


def _replay(ctx: Context, request: SendRequest, prepared: _Prepared) -> SendResult:
    """After losing a race for the key: the winner's result."""
    with ctx.store.session() as session:
        key = _claimed_key(session, prepared.workspace_id, str(request.idempotency_key))
        if key is None:  # the other claim rolled back; nothing was sent under this key
            raise Refused(Reason("idempotency_conflict", "Another request with this idempotency key is still "
                                                         "being processed; try again in a moment.",
                                 "idempotency_key"))
        return _replay_key(session, key, prepared)


def _dispatch(ctx: Context, claimed: _Claimed, prepared: _Prepared, request: SendRequest) -> dict[str, Any]:
    """Hand the message to its provider and record what came back, whatever came back."""
    assert prepared.outbound is not None
    outbound = replace(prepared.outbound, reference=claimed.public_id)
    error: ProviderError | None = None
    accepted = None
    started = time.perf_counter()
    try:
        accepted = ctx.provider(prepared.provider).send(outbound)
    except ProviderError as caught:
        error = caught
    except Exception as caught:  # a provider bug must not leave the message looking queued forever
        log.exception("provider %s raised while sending %s", prepared.provider, claimed.public_id)
        error = ProviderError("internal_error", "Herald could not hand the message to the provider.",
                              action="Check the server log; the message was not confirmed as sent.",
                              outcome=UNKNOWN, provider_message=type(caught).__name__)
    metrics.PROVIDER_LATENCY.labels(prepared.provider).observe(time.perf_counter() - started)
    now = ctx.now()
    if error is not None and for_operator(error):
        # Nothing the sender of the message can fix: the operator reads the details in the log.
        log.error("sender %s (%s) cannot send until an operator fixes it: %s [%s]", prepared.sender_id,
                  prepared.provider, error.sentence(), error.code)
        error = replace_sentence(error, OPERATOR_NOTICE)
    if accepted is not None:
        status = accepted.status if accepted.status in st.LABELS else st.ACCEPTED
        changes = {"status": st.advance(st.QUEUED, status), "provider_message_id": accepted.provider_message_id}
    else:
        assert error is not None
        changes = {"status": st.UNKNOWN if error.outcome == UNKNOWN else st.FAILED, "error_code": error.code,
                   "error_message": error.sentence()}
    with ctx.store.session() as session:
        # A status webhook may already have moved the message on; only a queued message takes our result.
        connection = session.connection()
        marked = connection.execute(
            _MARK_RESULT.values(**{k: bindparam(k) for k in changes}, updated_at=bindparam("now")),
            {**changes, "message_id": claimed.id, "now": now}).rowcount
        connection.execute(_INSERT_EVENT, dict(message_id=claimed.id, status=changes["status"], dedupe_key=None,
                                               error_code=changes.get("error_code"),
                                               error_message=changes.get("error_message"), occurred_at=now,
                                               recorded_at=now))
        if marked:
            events.status_changed(ctx, session, prepared.workspace_id, {
                "id": claimed.public_id, "direction": "outbound", "channel": request.channel,
                "to": prepared.decision.recipient, "status": changes["status"],
                "error_code": changes.get("error_code"), "error_message": changes.get("error_message"),
                "provider_message_id": changes.get("provider_message_id"), "created_at": claimed.at.isoformat(),
                "updated_at": now.isoformat()}, st.QUEUED, now)
        if changes["status"] == st.FAILED:  # it reached nobody: it is not one of the messages in a row
            recipients.unnote_outbound(session, prepared.sender_id, prepared.decision.recipient, claimed.at,
                                       prepared.previous_outbound_at)
        template = prepared.draft.template
        if error is not None and error.template_status and template is not None:
            # The channel paused or disabled the template: stop offering it until it says otherwise.
            connection.execute(_MARK_TEMPLATE, {"template_id": prepared.template_id, "status": error.template_status,
                                                "now": now})
            log.warning("template %s (%s) is now %s at the provider (error %s)", template.name, template.language,
                        error.template_status, error.code)
        if error is not None and error.kind == "opted_out" and request.channel == "sms":
            # The carrier or provider holds an opt-out we had not heard of: honour it from now on.
            recipients.note_opt_out(session, prepared.sender_id, prepared.decision.recipient, now, error.code)
    view = {**claimed.view, **changes, "from": prepared.outbound.sender, "updated_at": now.isoformat(),
            "status_label": st.label(changes["status"])}
    metrics.SENDS.labels(request.channel, "sent" if accepted is not None else changes["status"]).inc()
    # The host hears of failures too, so the agent sees them where they work; a worker writes it.
    for writeback_id in claimed.writebacks:
        enqueue(ctx, "writeback", writeback_id)
    return view
