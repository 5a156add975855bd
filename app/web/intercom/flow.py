"""From a verified Canvas Kit request to the next canvas: which step, which service call.

The steps are home → compose (channel, content) → write (number, sender, values, purpose, preview)
→ send → sent, with confirm in between when the policy asks for it. Beside them, marketing consent:
home (or a send refused for want of consent) → consent → consent recorded → back to the message.
Everything a later step needs travels in ``stored_data`` (reference §3.1), which comes back inside
Intercom's signed body.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from ...domain import phone
from ...domain.decision import ALLOWED, CONFIRM, REFUSED, Decision
from ...domain.policy import MarketingConsent
from ...domain.purposes import MARKETING, PURPOSES, SERVICE
from ...domain.refusals import Reason, Refused
from ...domain.channels import CHANNEL_LABELS
from ...domain.templates import MARKETING_CATEGORIES
from ...services import intercom as intercom_service
from ...services.consent import consent_state, record_consent
from ...services.context import Context
from ...services.panel import compose_options, contact_overview, normalise_or_none
from ...services.send import SendRequest, SendResult, send
from . import canvases
from .canvases import ECHO, NO_PURPOSE
from .payload import CanvasRequest

FORM_LIFETIME = timedelta(hours=12)  # a captured send request cannot be replayed later than this
Workspace = intercom_service.LinkedWorkspace


@dataclass
class Form:
    """The write step's values, whichever canvas they were last seen on."""

    channel: str
    content: str  # "free" or "tpl:<template id>"
    to: str
    sender: str = ""
    text: str = ""
    params: dict[str, str] = field(default_factory=dict)
    purpose: str = ""
    purpose_kind: str = ""

    def draft(self) -> dict[str, Any]:
        return {"to": self.to, "sender": self.sender, "text": self.text, "params": dict(self.params),
                "purpose": self.purpose, "purpose_kind": self.purpose_kind}


# --------------------------------------------------------------------------- entry points


def _ready_workspace(ctx: Context, req: CanvasRequest, install_url: str) -> tuple[Any, dict[str, Any] | None]:
    """The linked workspace, or the canvas that says how to finish set-up instead."""
    workspace = intercom_service.linked_workspace(ctx, req.workspace_id)
    if workspace is None:
        return None, canvases.setup_needed(req.workspace_id, install_url)
    if not workspace.has_senders:
        return None, canvases.no_senders(workspace.name)
    return workspace, None


def initialize(ctx: Context, req: CanvasRequest, install_url: str) -> dict[str, Any]:
    workspace, setup = _ready_workspace(ctx, req, install_url)
    if setup is not None:
        return setup
    return _home(ctx, workspace, req, {})


def submit(ctx: Context, req: CanvasRequest, install_url: str) -> dict[str, Any]:
    workspace, setup = _ready_workspace(ctx, req, install_url)
    if setup is not None:
        return setup
    component = req.component_id
    if component.startswith("content:"):
        return _open_write(ctx, workspace, req, component[len("content:"):])
    handler = STEPS.get(component, _back_home)
    return handler(ctx, workspace, req)


# --------------------------------------------------------------------------- home


def _contact_number(ctx: Context, workspace: Workspace, req: CanvasRequest) -> tuple[str | None, str | None]:
    """The contact's number in E.164 (or None) and Intercom's raw value when it is not a number."""
    raw = req.contact.phone
    if raw is None and not req.contact.phone_given:
        raw = intercom_service.fetch_contact_phone(ctx, workspace.id, req.contact.id, req.region)
    number = normalise_or_none(raw, workspace.region)
    return number, (raw if raw and number is None else None)


def _home(ctx: Context, workspace: Workspace, req: CanvasRequest, stored: Mapping[str, Any], *,
          number: str | None = None, typed: str = "", error: str = "") -> dict[str, Any]:
    intercom_number = None
    if number is None and not typed and not error:
        number = stored.get("phone") or None
        if number is None:
            number, intercom_number = _contact_number(ctx, workspace, req)
    overview = contact_overview(ctx, workspace.id, number, req.contact.id or None, limit=canvases.RECENT)
    view = canvases.HomeView(contact_name=req.contact.name, overview=overview, typed_number=typed,
                             intercom_number=intercom_number, error=error,
                             stored={"v": 1, "step": "home", "contact_id": req.contact.id, "phone": number})
    return canvases.home(view)


def _back_home(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    return _home(ctx, workspace, req, req.stored)


def _typed_number(req: CanvasRequest, region: str | None) -> tuple[str | None, str]:
    """The number the agent typed on the first canvas, or the reason it is not one."""
    typed = req.value("phone")
    try:
        return phone.normalise(typed, default_region=region, field="phone"), ""
    except Refused as refused:
        return None, refused.reasons[0].message


def _set_number(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    number, error = _typed_number(req, workspace.region)
    if number is None:
        return _home(ctx, workspace, req, req.stored, typed=req.value("phone"), error=error)
    return _home(ctx, workspace, req, req.stored, number=number)


# --------------------------------------------------------------------------- compose


def _compose(ctx: Context, workspace: Workspace, req: CanvasRequest, number: str, channel: str | None,
             error: str = "") -> dict[str, Any]:
    channel = channel if channel in workspace.channels else workspace.channels[0]
    options = compose_options(ctx, workspace.id, channel, number, req.contact.prefill(), workspace.languages)
    view = canvases.ComposeView(
        number=number, channel=channel, channels=[(c, CHANNEL_LABELS[c]) for c in workspace.channels],
        options=options, error=error,
        stored={"v": 1, "step": "compose", "contact_id": req.contact.id, "phone": number, "channel": channel})
    return canvases.compose(view)


def _start_compose(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    number = req.stored.get("phone")
    if not number:
        if not req.value("phone"):
            return _home(ctx, workspace, req, req.stored, error="Enter the customer's phone number first.")
        number, error = _typed_number(req, workspace.region)
        if number is None:
            return _home(ctx, workspace, req, req.stored, typed=req.value("phone"), error=error)
    return _compose(ctx, workspace, req, number, req.stored.get("channel"))


def _change_channel(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    number = req.stored.get("phone")
    if not number:
        return _back_home(ctx, workspace, req)
    return _compose(ctx, workspace, req, number, req.value("channel") or req.stored.get("channel"))


def _back_compose(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    number = normalise_or_none(req.value("to"), workspace.region) or req.stored.get("phone")
    if not number:
        return _back_home(ctx, workspace, req)
    return _compose(ctx, workspace, req, number, req.stored.get("channel"))


# --------------------------------------------------------------------------- write


@dataclass(frozen=True)
class _Choices:
    options: Mapping[str, Any]
    template: Mapping[str, Any] | None


def _choices(ctx: Context, workspace: Workspace, req: CanvasRequest, channel: str, content: str,
             number: str | None) -> _Choices | None:
    """The compose options on ``channel`` and the chosen template; None when the template is gone."""
    options = compose_options(ctx, workspace.id, channel, number, req.contact.prefill(), workspace.languages)
    if content == "free":
        return _Choices(options, None)
    wanted = content.removeprefix("tpl:")
    template = next((t for t in options["templates"] if str(t["id"]) == wanted), None)
    return _Choices(options, template) if template is not None else None


def _kind_of(purpose: str, template: Mapping[str, Any] | None) -> str:
    if purpose in PURPOSES:
        return PURPOSES[purpose].kind
    category = str((template or {}).get("category") or "").upper()
    return MARKETING if category in MARKETING_CATEGORIES else SERVICE


_GREETING = re.compile(r"(?:^|[\s,.!¡¿])(hi|hello|hey|dear|hola|bonjour|olá|ola|hallo|ciao)[\s,]*$", re.IGNORECASE)


def prefill(template: Mapping[str, Any], contact: Mapping[str, str]) -> dict[str, str]:
    """Values from the contact: the panel's by placeholder name, and "Hi {{1}}" read as the first name."""
    values = {}
    for slot in template["slots"]:
        value = slot["prefill"]
        key = str(slot["id"])
        if not value and key.isdigit():
            before = str(template.get("body") or "").split("{{%s}}" % key, 1)[0]
            if before != template.get("body") and _GREETING.search(before):
                value = contact.get("first_name", "")
        values[key] = value
    return values


def _open_write(ctx: Context, workspace: Workspace, req: CanvasRequest, content: str) -> dict[str, Any]:
    """A message was chosen on the compose canvas: a fresh form with its own idempotency key."""
    number = req.stored.get("phone")
    channel = req.value("channel") or req.stored.get("channel") or workspace.channels[0]
    if not number or channel not in workspace.channels:
        return _back_home(ctx, workspace, req)
    choices = _choices(ctx, workspace, req, channel, content, number)
    if choices is None:
        return _compose(ctx, workspace, req, number, channel,
                        error="That template can no longer be used; choose another.")
    template = choices.template
    purpose = (template or {}).get("default_purpose") or ""
    form = Form(channel=channel, content=content, to=phone.display(number),
                sender=str(choices.options["senders"][0]["id"]) if choices.options["senders"] else "",
                params=prefill(template, req.contact.prefill()) if template else {},
                purpose=purpose, purpose_kind=_kind_of(purpose, template))
    stored = {"v": 1, "step": "write", "contact_id": req.contact.id, "phone": number, "channel": channel,
              "content": content, "key": secrets.token_urlsafe(12), "issued": int(ctx.now().timestamp())}
    return _write(ctx, workspace, req, form, stored, choices)


def _form_from_inputs(req: CanvasRequest, template: Mapping[str, Any] | None) -> Form:
    stored = req.stored
    purpose = req.value("purpose")
    purpose = "" if purpose == NO_PURPOSE else purpose
    kind = req.value("purpose_kind") or _kind_of(purpose, template)
    # An input the agent emptied may arrive as "" or not at all: both mean empty, never the prefill.
    params = {slot["id"]: req.raw_value(f"param:{slot['id']}") for slot in (template or {}).get("slots", [])}
    return Form(channel=str(stored.get("channel") or ""), content=str(stored.get("content") or "free"),
                to=req.value("to"),
                sender=req.value("sender") or str(stored.get("sender") or ""),
                text=req.raw_value("message"), params=params, purpose=purpose, purpose_kind=kind)


def _form_from_draft(stored: Mapping[str, Any]) -> Form:
    draft = stored.get("draft") if isinstance(stored.get("draft"), dict) else {}
    return Form(channel=str(stored.get("channel") or ""), content=str(stored.get("content") or "free"),
                to=str(draft.get("to") or stored.get("phone") or ""), sender=str(draft.get("sender") or ""),
                text=str(draft.get("text") or ""),
                params={str(k): str(v) for k, v in (draft.get("params") or {}).items()},
                purpose=str(draft.get("purpose") or ""), purpose_kind=str(draft.get("purpose_kind") or ""))


def _request(workspace: Workspace, req: CanvasRequest, form: Form, template: Mapping[str, Any] | None,
             stored: Mapping[str, Any], *, dry_run: bool, confirmed: bool = False) -> SendRequest:
    """The engine's request for this form: who asked, from where, and where to write the note."""
    context = {"intercom_workspace_id": workspace.intercom_workspace_id, "conversation_id": req.conversation_id,
               "admin_id": req.admin_id}
    writeback = None
    if not dry_run and (req.conversation_id or req.contact.id):
        writeback = {"host": "intercom", **context, "contact_id": req.contact.id, "region": req.region}
    anchor = req.conversation_id or req.contact.id or "contact"
    return SendRequest(
        workspace=workspace.id, channel=form.channel, to=form.to,
        text=None if template else form.text,
        template=template["name"] if template else None, language=template["language"] if template else None,
        params=dict(form.params) if template else {}, sender=form.sender or None,
        purpose=form.purpose or None, origin="agent", surface="intercom", requested_by=req.requested_by,
        idempotency_key=None if dry_run else f"intercom:{anchor}:{stored.get('key')}"[:255],
        dry_run=dry_run, confirmed=confirmed, contact_ref=req.contact.id or None, context=context,
        writeback=writeback)


def _write(ctx: Context, workspace: Workspace, req: CanvasRequest, form: Form, stored: Mapping[str, Any],
           choices: _Choices, *, reasons: tuple[Reason, ...] = (), heading: str = "", notice: str = "",
           show_problems: bool = False) -> dict[str, Any]:
    """The write canvas, its preview from a dry run of exactly what Send would send."""
    template = choices.template
    preview, sms = "", None
    try:
        dry = send(ctx, _request(workspace, req, form, template, stored, dry_run=True))
        preview = dry.decision.text
        sms = dry.decision.sms.as_dict() if dry.decision.sms else None
        if show_problems and not reasons:
            if dry.decision.outcome == REFUSED:
                reasons = dry.decision.reasons
            elif dry.decision.outcome == CONFIRM:
                notice = notice or "Herald will ask you to confirm this message before it is sent."
    except Refused as refused:
        if show_problems and not reasons:
            reasons = refused.reasons
    options = choices.options
    view = canvases.WriteView(
        channel_label=options["label"], window_note=options["free_text_note"], to=form.to,
        senders=[(str(s["id"]), phone.display(s["from"]) if s["from"].startswith("+") else s["from"])
                 for s in options["senders"]],
        sender=form.sender, template=template, params=form.params, text_value=form.text,
        purposes=options["purposes"], purpose=form.purpose, purpose_kind=form.purpose_kind,
        preview=preview, sms=sms, stored={**stored, "step": "write"}, reasons=reasons, heading=heading,
        notice=notice)
    return canvases.write(view)


def _current(ctx: Context, workspace: Workspace, req: CanvasRequest) -> tuple[Form, _Choices] | dict[str, Any]:
    """The form on screen and its options, or the canvas to show when it cannot be resumed."""
    stored = req.stored
    channel = str(stored.get("channel") or "")
    if channel not in workspace.channels or not stored.get("key"):
        return _back_home(ctx, workspace, req)
    number = normalise_or_none(req.value("to"), workspace.region) or stored.get("phone")
    choices = _choices(ctx, workspace, req, channel, str(stored.get("content") or "free"), number)
    if choices is None:
        return _compose(ctx, workspace, req, str(stored.get("phone") or ""), channel,
                        error="That template can no longer be used; choose another.")
    form = _form_from_draft(stored) if stored.get("step") == "confirm" else _form_from_inputs(req, choices.template)
    return form, choices


def _rerender(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    current = _current(ctx, workspace, req)
    if isinstance(current, dict):
        return current
    form, choices = current
    return _write(ctx, workspace, req, form, req.stored, choices,
                  show_problems=req.component_id == "update_preview")


def _back_write(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    current = _current(ctx, workspace, req)
    if isinstance(current, dict):
        return current
    form, choices = current
    stored = {k: v for k, v in req.stored.items() if k != "draft"}
    return _write(ctx, workspace, req, form, stored, choices)


# --------------------------------------------------------------------------- send


def _opened_at(stored: Mapping[str, Any]) -> datetime | None:
    issued = stored.get("issued")
    if not isinstance(issued, (int, float)):
        return None
    return datetime.fromtimestamp(issued, tz=timezone.utc)


def _send(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    current = _current(ctx, workspace, req)
    if isinstance(current, dict):
        return current
    form, choices = current
    return _attempt(ctx, workspace, req, form, choices, req.stored, confirmed=False)


def _confirm_send(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    current = _current(ctx, workspace, req)
    if isinstance(current, dict):
        return current
    form, choices = current
    stored = {k: v for k, v in req.stored.items() if k != "draft"}
    answer = req.value("confirm_answer")
    if answer == "no":
        return _write(ctx, workspace, req, form, stored, choices,
                      notice="Not sent: you did not confirm it. Change the message or go back.")
    if answer != "yes":
        return _attempt(ctx, workspace, req, form, choices, stored, confirmed=False,
                        confirm_error="Answer the questions above before sending.")
    return _attempt(ctx, workspace, req, form, choices, stored, confirmed=True)


def _channel_problems(ctx: Context, workspace: Workspace, req: CanvasRequest, form: Form, choices: _Choices,
                      stored: Mapping[str, Any]) -> tuple[Reason, ...]:
    """What else is wrong with the form, so the agent fixes everything in one go (the policy needs a purpose)."""
    try:
        dry = send(ctx, _request(workspace, req, form, choices.template, stored, dry_run=True))
    except Refused as refused:
        return refused.reasons
    return dry.decision.reasons if dry.decision.outcome == REFUSED and dry.decision.policy is None else ()


def refusal_heading(decision: Decision) -> str:
    """A line above the reasons when the proactive policy, not a channel rule, said no."""
    if decision.policy is not None and decision.policy.outcome == "refuse":
        return "Not sent: Herald's proactive-message policy does not allow this message."
    return ""


def _attempt(ctx: Context, workspace: Workspace, req: CanvasRequest, form: Form, choices: _Choices,
             stored: Mapping[str, Any], *, confirmed: bool, confirm_error: str = "") -> dict[str, Any]:
    """Send through the engine and show what it decided, keeping every value the agent gave."""
    opened = _opened_at(stored)
    if opened is None or ctx.now() - opened > FORM_LIFETIME:
        return canvases.expired(opened or ctx.now(), stored)

    def again(reasons: tuple[Reason, ...], heading: str = "", fresh_key: bool = False) -> dict[str, Any]:
        state = {**stored, "key": secrets.token_urlsafe(12), "issued": int(ctx.now().timestamp())} \
            if fresh_key else stored
        return _write(ctx, workspace, req, form, state, choices, reasons=reasons, heading=heading)

    if not form.purpose and not confirm_error:
        return again((Reason("purpose_missing", "Choose why you are sending this message.", "purpose"),
                      *_channel_problems(ctx, workspace, req, form, choices, stored)))
    dry_run = bool(confirm_error)
    try:
        result = send(ctx, _request(workspace, req, form, choices.template, stored, dry_run=dry_run,
                                    confirmed=confirmed))
    except Refused as refused:
        return again(refused.reasons)
    decision = result.decision
    if decision.outcome == REFUSED:
        return again(decision.reasons, refusal_heading(decision))
    if decision.outcome == CONFIRM:
        view = canvases.ConfirmView(
            channel_label=CHANNEL_LABELS[form.channel], to=decision.recipient, preview=decision.text,
            reasons=decision.reasons, questions=decision.policy.questions if decision.policy else (),
            error=confirm_error, stored={**stored, "step": "confirm", "draft": form.draft()})
        return canvases.confirm(view)
    if decision.outcome == ALLOWED and result.message is None:  # the dry run of an unanswered confirmation
        return again(())
    return _after_send(ctx, req, form, stored, result, again)


def _after_send(ctx: Context, req: CanvasRequest, form: Form, stored: Mapping[str, Any], result: SendResult,
                again: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    message = result.message
    assert message is not None
    if message["status"] == "failed":
        reason = Reason(message.get("error_code") or "provider_error",
                        message.get("error_message") or "The provider did not accept the message.", "")
        return again((reason,), "Not sent: the provider did not accept the message.", fresh_key=True)
    view = canvases.SentView(message=message, note=intercom_service.note_state(ctx, message["id"]),
                             replayed=result.replayed,
                             stored={"v": 1, "step": "sent", "contact_id": req.contact.id,
                                     "phone": stored.get("phone"), "channel": form.channel,
                                     "message": message["id"]})
    return canvases.sent(view)


def _refresh_status(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    message = intercom_service.sent_message(ctx, workspace.id, str(req.stored.get("message") or ""))
    if message is None:
        return _back_home(ctx, workspace, req)
    view = canvases.SentView(message=message, note=intercom_service.note_state(ctx, message["id"]),
                             stored=dict(req.stored), completed=False)
    return canvases.sent(view)


# --------------------------------------------------------------------------- marketing consent

CONSENT_SOURCE = "intercom"
NO_NUMBER_FOR_CONSENT = "Enter the customer's phone number first: marketing consent is recorded for a number."


def fingerprint(record: MarketingConsent | None) -> str:
    """Which record a canvas showed, so a stale or replayed click cannot overwrite a newer record."""
    if record is None:
        return ""
    return hashlib.sha256(json.dumps(record.as_dict(), sort_keys=True).encode()).hexdigest()[:16]


def _resume_of(stored: Mapping[str, Any]) -> dict[str, Any] | None:
    """The refused message waiting behind the consent canvases, if any."""
    resume = stored.get("resume")
    return resume if isinstance(resume, dict) else None


def _consent(ctx: Context, workspace: Workspace, req: CanvasRequest, number: str, *,
             resume: Mapping[str, Any] | None = None, channel: str = "", note: str = "",
             errors: tuple[str, ...] = (), failed: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The consent canvas for ``number``, read fresh; it remembers which records it showed."""
    state = consent_state(ctx, workspace.id, number)
    current = {c: state.channels.get(c) for c in workspace.channels}
    latest_seen: set[str] = set()
    earlier = []
    for record in state.history:  # newest first: the first per channel is its current record
        if record.channel not in current:
            continue
        if record.channel in latest_seen:
            earlier.append(record)
        latest_seen.add(record.channel)
    stored: dict[str, Any] = {"v": 1, "step": "consent", "contact_id": req.contact.id,
                              "phone": req.stored.get("phone") or number, "recipient": state.recipient,
                              "seen": {c: fingerprint(r) for c, r in current.items()}}
    if resume:
        stored["resume"] = dict(resume)
    view = canvases.ConsentView(
        number=state.recipient, channels=[(c, CHANNEL_LABELS[c]) for c in workspace.channels], current=current,
        earlier=earlier, stored=stored, channel=channel if channel in workspace.channels else "", note=note,
        errors=errors, failed=failed, back_label="Back to your message" if resume else "Back")
    return canvases.consent(view)


def _open_consent(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    """From the first canvas: the panel's number, or the one the agent typed there."""
    number = req.stored.get("phone")
    if not number:
        if not req.value("phone"):
            return _home(ctx, workspace, req, req.stored, error=NO_NUMBER_FOR_CONSENT)
        number, error = _typed_number(req, workspace.region)
        if number is None:
            return _home(ctx, workspace, req, req.stored, typed=req.value("phone"), error=error)
    return _consent(ctx, workspace, req, number)


def _clipped_draft(form: Form) -> dict[str, Any]:
    """The form's values as they travel in stored_data: no longer than the write canvas echoes them."""
    draft = form.draft()
    draft["to"] = str(draft["to"])[:100]
    draft["text"] = str(draft["text"])[:ECHO]
    draft["params"] = {k: str(v)[:ECHO] for k, v in draft["params"].items()}
    return draft


def _consent_for_send(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    """From a send refused for want of consent: that number and channel, the message kept to return to."""
    current = _current(ctx, workspace, req)
    if isinstance(current, dict):
        return current
    form, choices = current
    number = normalise_or_none(form.to, workspace.region) or req.stored.get("phone")
    if not number:
        return _write(ctx, workspace, req, form, req.stored, choices,
                      reasons=(Reason("to_missing", NO_NUMBER_FOR_CONSENT, "to"),))
    resume = {**{k: v for k, v in req.stored.items() if k != "draft"}, "step": "write",
              "draft": _clipped_draft(form)}
    return _consent(ctx, workspace, req, number, resume=resume, channel=form.channel)


def _recorded_by(req: CanvasRequest) -> str:
    """The clicking teammate as sends name them, within what a consent record holds."""
    who = req.requested_by
    if len(who) <= 255:
        return who
    return f"Intercom admin {req.admin_id}" if req.admin_id else req.admin_email[:255]


def _record(ctx: Context, workspace: Workspace, req: CanvasRequest, granted: bool) -> dict[str, Any]:
    """Record a grant or a withdrawal, unless the input is wrong or the canvas is out of date."""
    stored = req.stored
    resume = _resume_of(stored)
    number = str(stored.get("recipient") or "")
    if not number:
        return _home(ctx, workspace, req, stored, error=NO_NUMBER_FOR_CONSENT)
    note = req.raw_value("consent_note").strip()
    if len(workspace.channels) == 1:
        channel = workspace.channels[0]
    else:
        channel = req.value("consent_channel")

    def again(*errors: str, failed: frozenset[str] = frozenset()) -> dict[str, Any]:
        return _consent(ctx, workspace, req, number, resume=resume, channel=channel, note=note, errors=errors,
                        failed=failed)

    if channel not in workspace.channels:
        return again("Choose the channel the customer gave or withdrew consent on.",
                     failed=frozenset({"consent_channel"}))
    if not (req.admin_id or req.admin_email):
        return again("Herald cannot tell which teammate is recording this: Intercom did not say. "
                     "Reopen the conversation and try again.")
    recorded_by = _recorded_by(req)
    label = CHANNEL_LABELS[channel]
    latest = consent_state(ctx, workspace.id, number).channels.get(channel)
    seen = stored.get("seen") if isinstance(stored.get("seen"), dict) else {}
    if fingerprint(latest) != str(seen.get(channel) or ""):  # recorded since this canvas was shown
        if latest is not None and (latest.granted, latest.note, latest.recorded_by, latest.source) == \
                (granted, note, recorded_by, CONSENT_SOURCE):
            return _consent_done(req, latest, label, resume, replayed=True)
        return again(f"Nothing was recorded: marketing consent on {label} changed after this canvas was shown. "
                     "It now reads as below; record again if it is still needed.")
    try:
        record = record_consent(ctx, workspace.id, number, channel, granted, CONSENT_SOURCE, recorded_by, note)
    except Refused as refused:
        fields = {"note": "consent_note", "channel": "consent_channel"}
        return again(*(r.message for r in refused.reasons),
                     failed=frozenset(fields[r.field] for r in refused.reasons if r.field in fields))
    return _consent_done(req, record, label, resume)


def _consent_done(req: CanvasRequest, record: MarketingConsent, label: str, resume: Mapping[str, Any] | None,
                  *, replayed: bool = False) -> dict[str, Any]:
    stored: dict[str, Any] = {"v": 1, "step": "consent_recorded", "contact_id": req.contact.id,
                              "phone": req.stored.get("phone") or record.recipient, "recipient": record.recipient,
                              "channel": record.channel}
    if resume:
        stored["resume"] = dict(resume)
    return canvases.consent_recorded(canvases.ConsentRecordedView(
        record=record, channel_label=label, stored=stored, resume=resume is not None, replayed=replayed))


def _grant(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    return _record(ctx, workspace, req, True)


def _withdraw(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    return _record(ctx, workspace, req, False)


def _view_consent(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    """Back to the consent canvas after recording, the waiting message still kept."""
    number = req.stored.get("recipient") or req.stored.get("phone")
    if not number:
        return _back_home(ctx, workspace, req)
    resume = _resume_of(req.stored)
    return _consent(ctx, workspace, req, str(number), resume=resume,
                    channel=str((resume or {}).get("channel") or req.stored.get("channel") or ""))


def _resume_message(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    """The refused message as the agent left it, checked again so what changed shows at once."""
    resume = _resume_of(req.stored)
    if resume is None:
        return _back_home(ctx, workspace, req)
    channel = str(resume.get("channel") or "")
    if channel not in workspace.channels or not resume.get("key"):
        return _back_home(ctx, workspace, req)
    form = _form_from_draft(resume)
    number = normalise_or_none(form.to, workspace.region) or resume.get("phone")
    choices = _choices(ctx, workspace, req, channel, str(resume.get("content") or "free"), number)
    if choices is None:
        return _compose(ctx, workspace, req, str(resume.get("phone") or number or ""), channel,
                        error="That template can no longer be used; choose another.")
    stored = {**{k: v for k, v in resume.items() if k != "draft"}, "step": "write"}
    notice = ""
    if number and consent_state(ctx, workspace.id, number).granted(channel):
        notice = f"Marketing consent on {CHANNEL_LABELS[channel]} is recorded for this number."
    return _write(ctx, workspace, req, form, stored, choices, notice=notice, show_problems=True)


def _consent_back(ctx: Context, workspace: Workspace, req: CanvasRequest) -> dict[str, Any]:
    if _resume_of(req.stored) is not None:
        return _resume_message(ctx, workspace, req)
    return _back_home(ctx, workspace, req)


Step = Callable[[Context, Workspace, CanvasRequest], dict[str, Any]]
STEPS: dict[str, Step] = {
    "home": _back_home,
    "phone": _set_number,
    "compose": _start_compose,
    "channel": _change_channel,
    "back_compose": _back_compose,
    "purpose_kind": _rerender,
    "update_preview": _rerender,
    "send": _send,
    "confirm_send": _confirm_send,
    "back_write": _back_write,
    "refresh_status": _refresh_status,
    "consent": _open_consent,
    "consent_for_send": _consent_for_send,
    "consent_grant": _grant,
    "consent_withdraw": _withdraw,
    "consent_view": _view_consent,
    "consent_resume": _resume_message,
    "consent_back": _consent_back,
}
