"""Each canvas of the Intercom panel from what the services say: read, then build with ``screens``.

The steps (``steps.py``) decide which of these to show; these functions gather what it needs (the
contact overview, the compose options, a dry run of the form) and hand it to the pure builders.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ...domain import phone
from ...domain.decision import ALLOWED, CONFIRM, REFUSED, Decision
from ...domain.refusals import Reason, Refused
from ...domain.channels import CHANNEL_LABELS
from ...services import intercom as intercom_service
from ...services import panel
from ...services.context import Context
from ...services.send import SendResult, send
from . import screens
from .form import Choices, Form, Workspace, send_request
from .payload import CanvasRequest

Canvas = dict[str, Any]
TEMPLATE_GONE = "That template can no longer be used; choose another."


def ready_workspace(ctx: Context, req: CanvasRequest, install_url: str) -> tuple[Any, Canvas | None]:
    """The linked workspace, or the canvas that says how to finish set-up instead."""
    workspace = intercom_service.linked_workspace(ctx, req.workspace_id)
    if workspace is None:
        return None, screens.setup_needed(req.workspace_id, install_url)
    if not workspace.has_senders:
        return None, screens.no_senders(workspace.name)
    return workspace, None


# --------------------------------------------------------------------------- home


def _contact_number(ctx: Context, workspace: Workspace, req: CanvasRequest) -> tuple[str | None, str | None]:
    """The contact's number in E.164 (or None) and Intercom's raw value when it is not a number."""
    raw = req.contact.phone
    if raw is None and not req.contact.phone_given:
        raw = intercom_service.fetch_contact_phone(ctx, workspace.id, req.contact.id, req.region)
    number = panel.normalise_or_none(raw, workspace.region)
    return number, (raw if raw and number is None else None)


def typed_number(req: CanvasRequest, region: str | None) -> tuple[str | None, str]:
    """The number the agent typed on the first canvas, or the reason it is not one."""
    typed = req.value("phone")
    try:
        return phone.normalise(typed, default_region=region, field="phone"), ""
    except Refused as refused:
        return None, refused.reasons[0].message


def home(ctx: Context, workspace: Workspace, req: CanvasRequest, stored: Mapping[str, Any], *,
         number: str | None = None, typed: str = "", error: str = "") -> Canvas:
    intercom_number = None
    if number is None and not typed and not error:
        number = stored.get("phone") or None
        if number is None:
            number, intercom_number = _contact_number(ctx, workspace, req)
    overview = panel.contact_overview(ctx, workspace.id, number, req.contact.id or None, limit=screens.RECENT)
    view = screens.HomeView(contact_name=req.contact.name, overview=overview, typed_number=typed,
                             intercom_number=intercom_number, error=error,
                             stored={"v": 1, "step": "home", "contact_id": req.contact.id, "phone": number})
    return screens.home(view)


def panel_number(ctx: Context, workspace: Workspace, req: CanvasRequest,
                 missing: str) -> tuple[str | None, Canvas | None]:
    """The panel's number, else the one typed on the first canvas; else that canvas saying what is wrong."""
    number = req.stored.get("phone")
    if number:
        return str(number), None
    if not req.value("phone"):
        return None, home(ctx, workspace, req, req.stored, error=missing)
    number, error = typed_number(req, workspace.region)
    if number is None:
        return None, home(ctx, workspace, req, req.stored, typed=req.value("phone"), error=error)
    return number, None


# --------------------------------------------------------------------------- compose


def compose(ctx: Context, workspace: Workspace, req: CanvasRequest, number: str, channel: str | None,
            error: str = "") -> Canvas:
    channel = channel if channel in workspace.channels else workspace.channels[0]
    options = panel.compose_options(ctx, workspace.id, channel, number, req.contact.prefill(), workspace.languages)
    view = screens.ComposeView(
        number=number, channel=channel, channels=[(c, CHANNEL_LABELS[c]) for c in workspace.channels],
        options=options, error=error,
        stored={"v": 1, "step": "compose", "contact_id": req.contact.id, "phone": number, "channel": channel})
    return screens.compose(view)


# --------------------------------------------------------------------------- write


def write(ctx: Context, workspace: Workspace, req: CanvasRequest, form: Form, stored: Mapping[str, Any],
          chosen: Choices, *, reasons: tuple[Reason, ...] = (), heading: str = "", notice: str = "",
          show_problems: bool = False) -> Canvas:
    """The write canvas, its preview from a dry run of exactly what Send would send."""
    template = chosen.template
    preview, sms = "", None
    try:
        dry = send(ctx, send_request(workspace, req, form, template, stored, dry_run=True))
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
    options = chosen.options
    view = screens.WriteView(
        channel_label=options["label"], window_note=options["free_text_note"], to=form.to,
        senders=[(str(s["id"]), phone.display(s["from"]) if s["from"].startswith("+") else s["from"])
                 for s in options["senders"]],
        sender=form.sender, template=template, params=form.params, text_value=form.text,
        purposes=options["purposes"], purpose=form.purpose, purpose_kind=form.purpose_kind,
        preview=preview, sms=sms, stored={**stored, "step": "write"}, reasons=reasons, heading=heading,
        notice=notice)
    return screens.write(view)


# --------------------------------------------------------------------------- send


def _channel_problems(ctx: Context, workspace: Workspace, req: CanvasRequest, form: Form, chosen: Choices,
                      stored: Mapping[str, Any]) -> tuple[Reason, ...]:
    """What else is wrong with the form, so the agent fixes everything in one go (the policy needs a purpose)."""
    try:
        dry = send(ctx, send_request(workspace, req, form, chosen.template, stored, dry_run=True))
    except Refused as refused:
        return refused.reasons
    return dry.decision.reasons if dry.decision.outcome == REFUSED and dry.decision.policy is None else ()


def refusal_heading(decision: Decision) -> str:
    """A line above the reasons when the proactive policy, not a channel rule, said no."""
    if decision.policy is not None and decision.policy.outcome == "refuse":
        return "Not sent: Herald's proactive-message policy does not allow this message."
    return ""


def attempt(ctx: Context, workspace: Workspace, req: CanvasRequest, form: Form, chosen: Choices,
            stored: Mapping[str, Any], *, confirmed: bool, confirm_error: str = "") -> Canvas:
    """Send through the engine and show what it decided, keeping every value the agent gave."""
    opened = panel.form_opened_at(stored.get("issued"))
    if panel.form_expired(opened, ctx.now()):
        return screens.expired(opened or ctx.now(), stored)

    def again(reasons: tuple[Reason, ...], heading: str = "", fresh_key: bool = False) -> Canvas:
        state = {**stored, **panel.issue_form(ctx.now())} if fresh_key else stored
        return write(ctx, workspace, req, form, state, chosen, reasons=reasons, heading=heading)

    if not form.purpose and not confirm_error:
        return again((Reason("purpose_missing", "Choose why you are sending this message.", "purpose"),
                      *_channel_problems(ctx, workspace, req, form, chosen, stored)))
    dry_run = bool(confirm_error)
    try:
        result = send(ctx, send_request(workspace, req, form, chosen.template, stored, dry_run=dry_run,
                                        confirmed=confirmed))
    except Refused as refused:
        return again(refused.reasons)
    decision = result.decision
    if decision.outcome == REFUSED:
        return again(decision.reasons, refusal_heading(decision))
    if decision.outcome == CONFIRM:
        view = screens.ConfirmView(
            channel_label=CHANNEL_LABELS[form.channel], to=decision.recipient, preview=decision.text,
            reasons=decision.reasons, questions=decision.policy.questions if decision.policy else (),
            error=confirm_error, stored={**stored, "step": "confirm", "draft": form.draft()})
        return screens.confirm(view)
    if decision.outcome == ALLOWED and result.message is None:  # the dry run of an unanswered confirmation
        return again(())
    return _after_send(ctx, req, form, stored, result, again)


def _after_send(ctx: Context, req: CanvasRequest, form: Form, stored: Mapping[str, Any], result: SendResult,
                again: Callable[..., Canvas]) -> Canvas:
    message = result.message
    assert message is not None
    if message["status"] == "failed":
        reason = Reason(message.get("error_code") or "provider_error",
                        message.get("error_message") or "The provider did not accept the message.", "")
        return again((reason,), "Not sent: the provider did not accept the message.", fresh_key=True)
    view = screens.SentView(message=message, note=intercom_service.note_state(ctx, message["id"]),
                             replayed=result.replayed,
                             stored={"v": 1, "step": "sent", "contact_id": req.contact.id,
                                     "phone": stored.get("phone"), "channel": form.channel,
                                     "message": message["id"]})
    return screens.sent(view)


def sent(ctx: Context, message: Mapping[str, Any], stored: Mapping[str, Any]) -> Canvas:
    """The sent canvas again, its status read fresh."""
    view = screens.SentView(message=message, note=intercom_service.note_state(ctx, message["id"]),
                             stored=dict(stored), completed=False)
    return screens.sent(view)
