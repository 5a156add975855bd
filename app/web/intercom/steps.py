"""The Intercom panel's steps: which canvases exist and which action leads from one to the next.

Every canvas is answered to ``/intercom/initialize`` (the first) or ``/intercom/submit`` (a click:
its ``component_id`` names the action). ``STEPS`` below is the whole flow, one row per action:
the canvases that offer it, the short function that runs it, and the canvases it may answer with.
The main line is home → compose → write → (confirm) → sent; beside it, marketing consent:
home (or a send refused for want of consent) → consent → consent_recorded → back to the message.
Everything a later step needs travels in ``stored_data`` (reference §3.1), which comes back inside
Intercom's signed body. An action Herald does not know, or state it cannot resume, goes home.

Besides these, any step may answer ``setup_needed`` or ``no_senders`` (the workspace is not ready),
and the route answers ``problem`` when a step fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ...domain import phone
from ...domain.refusals import Reason
from ...domain.channels import CHANNEL_LABELS
from ...services import intercom as intercom_service
from ...services import panel
from ...services.consent import consent_state
from ...services.context import Context
from . import consent, form, render
from .form import Choices, Form, Workspace
from .payload import CanvasRequest
from .render import TEMPLATE_GONE, Canvas

Run = Callable[[Context, Workspace, CanvasRequest], Canvas]


@dataclass(frozen=True)
class Step:
    action: str  # the component_id Intercom submits ("content:" is a prefix: content:free, content:tpl:<id>)
    offered_on: tuple[str, ...]  # the canvases with a component that submits it
    run: Run
    leads_to: tuple[str, ...]  # the canvases it may answer with


# --------------------------------------------------------------------------- entry points


def initialize(ctx: Context, req: CanvasRequest, install_url: str) -> Canvas:
    workspace, setup = render.ready_workspace(ctx, req, install_url)
    if setup is not None:
        return setup
    return render.home(ctx, workspace, req, {})


def submit(ctx: Context, req: CanvasRequest, install_url: str) -> Canvas:
    workspace, setup = render.ready_workspace(ctx, req, install_url)
    if setup is not None:
        return setup
    return step_for(req.component_id).run(ctx, workspace, req)


def step_for(action: str) -> Step:
    """The step a click runs; an unknown action goes home."""
    if action.startswith(CONTENT):
        return BY_ACTION[CONTENT]
    return BY_ACTION.get(action, BY_ACTION["home"])


# --------------------------------------------------------------------------- home and compose


def back_home(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    return render.home(ctx, workspace, req, req.stored)


def set_number(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    number, error = render.typed_number(req, workspace.region)
    if number is None:
        return render.home(ctx, workspace, req, req.stored, typed=req.value("phone"), error=error)
    return render.home(ctx, workspace, req, req.stored, number=number)


def start_compose(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    number, problem = render.panel_number(ctx, workspace, req, "Enter the customer's phone number first.")
    if number is None:
        return problem or back_home(ctx, workspace, req)
    return render.compose(ctx, workspace, req, number, req.stored.get("channel"))


def change_channel(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    number = req.stored.get("phone")
    if not number:
        return back_home(ctx, workspace, req)
    return render.compose(ctx, workspace, req, number, req.value("channel") or req.stored.get("channel"))


def back_compose(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    number = panel.normalise_or_none(req.value("to"), workspace.region) or req.stored.get("phone")
    if not number:
        return back_home(ctx, workspace, req)
    return render.compose(ctx, workspace, req, number, req.stored.get("channel"))


# --------------------------------------------------------------------------- write and send


def open_write(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    """A message was chosen on the compose canvas: a fresh form with its own idempotency key."""
    content = req.component_id[len(CONTENT):]
    number = req.stored.get("phone")
    channel = req.value("channel") or req.stored.get("channel") or workspace.channels[0]
    if not number or channel not in workspace.channels:
        return back_home(ctx, workspace, req)
    chosen = form.choices(ctx, workspace, req, channel, content, number)
    if chosen is None:
        return render.compose(ctx, workspace, req, number, channel, error=TEMPLATE_GONE)
    stored = {"v": 1, "step": "write", "contact_id": req.contact.id, "phone": number, "channel": channel,
              "content": content, **panel.issue_form(ctx.now())}
    fresh = form.fresh(channel, content, phone.display(number), chosen)
    return render.write(ctx, workspace, req, fresh, stored, chosen)


def _current(ctx: Context, workspace: Workspace, req: CanvasRequest) -> tuple[Form, Choices] | Canvas:
    """The form on screen and its options, or the canvas to show when it cannot be resumed."""
    stored = req.stored
    channel = str(stored.get("channel") or "")
    if channel not in workspace.channels or not stored.get("key"):
        return back_home(ctx, workspace, req)
    number = panel.normalise_or_none(req.value("to"), workspace.region) or stored.get("phone")
    chosen = form.choices(ctx, workspace, req, channel, str(stored.get("content") or "free"), number)
    if chosen is None:
        return render.compose(ctx, workspace, req, str(stored.get("phone") or ""), channel, error=TEMPLATE_GONE)
    shown = form.from_draft(stored) if stored.get("step") == "confirm" else form.from_inputs(req, chosen.template)
    return shown, chosen


def _without_draft(stored: Any) -> dict[str, Any]:
    return {k: v for k, v in stored.items() if k != "draft"}


def rerender(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    current = _current(ctx, workspace, req)
    if isinstance(current, dict):
        return current
    shown, chosen = current
    return render.write(ctx, workspace, req, shown, req.stored, chosen,
                        show_problems=req.component_id == "update_preview")


def back_write(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    current = _current(ctx, workspace, req)
    if isinstance(current, dict):
        return current
    shown, chosen = current
    return render.write(ctx, workspace, req, shown, _without_draft(req.stored), chosen)


def send(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    current = _current(ctx, workspace, req)
    if isinstance(current, dict):
        return current
    shown, chosen = current
    return render.attempt(ctx, workspace, req, shown, chosen, req.stored, confirmed=False)


def confirm_send(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    current = _current(ctx, workspace, req)
    if isinstance(current, dict):
        return current
    shown, chosen = current
    stored = _without_draft(req.stored)
    answer = req.value("confirm_answer")
    if answer == "no":
        return render.write(ctx, workspace, req, shown, stored, chosen,
                            notice="Not sent: you did not confirm it. Change the message or go back.")
    if answer != "yes":
        return render.attempt(ctx, workspace, req, shown, chosen, stored, confirmed=False,
                              confirm_error="Answer the questions above before sending.")
    return render.attempt(ctx, workspace, req, shown, chosen, stored, confirmed=True)


def refresh_status(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    message = intercom_service.sent_message(ctx, workspace.id, str(req.stored.get("message") or ""))
    if message is None:
        return back_home(ctx, workspace, req)
    return render.sent(ctx, message, req.stored)


# --------------------------------------------------------------------------- marketing consent


def open_consent(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    """From the first canvas: the panel's number, or the one the agent typed there."""
    number, problem = render.panel_number(ctx, workspace, req, consent.NO_NUMBER_FOR_CONSENT)
    if number is None:
        return problem or back_home(ctx, workspace, req)
    return consent.consent(ctx, workspace, req, number)


def consent_for_send(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    """From a send refused for want of consent: that number and channel, the message kept to return to."""
    current = _current(ctx, workspace, req)
    if isinstance(current, dict):
        return current
    shown, chosen = current
    number = panel.normalise_or_none(shown.to, workspace.region) or req.stored.get("phone")
    if not number:
        return render.write(ctx, workspace, req, shown, req.stored, chosen,
                            reasons=(Reason("to_missing", consent.NO_NUMBER_FOR_CONSENT, "to"),))
    resume = {**_without_draft(req.stored), "step": "write", "draft": shown.clipped_draft()}
    return consent.consent(ctx, workspace, req, number, resume=resume, channel=shown.channel)


def grant(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    return consent.record(ctx, workspace, req, True)


def withdraw(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    return consent.record(ctx, workspace, req, False)


def view_consent(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    """Back to the consent canvas after recording, the waiting message still kept."""
    number = req.stored.get("recipient") or req.stored.get("phone")
    if not number:
        return back_home(ctx, workspace, req)
    resume = consent.resume_of(req.stored)
    return consent.consent(ctx, workspace, req, str(number), resume=resume,
                           channel=str((resume or {}).get("channel") or req.stored.get("channel") or ""))


def resume_message(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    """The refused message as the agent left it, checked again so what changed shows at once."""
    resume = consent.resume_of(req.stored)
    channel = str((resume or {}).get("channel") or "")
    if resume is None or channel not in workspace.channels or not resume.get("key"):
        return back_home(ctx, workspace, req)
    kept = form.from_draft(resume)
    number = panel.normalise_or_none(kept.to, workspace.region) or resume.get("phone")
    chosen = form.choices(ctx, workspace, req, channel, str(resume.get("content") or "free"), number)
    if chosen is None:
        return render.compose(ctx, workspace, req, str(resume.get("phone") or number or ""), channel,
                              error=TEMPLATE_GONE)
    notice = ""
    if number and consent_state(ctx, workspace.id, number).granted(channel):
        notice = f"Marketing consent on {CHANNEL_LABELS[channel]} is recorded for this number."
    return render.write(ctx, workspace, req, kept, {**_without_draft(resume), "step": "write"}, chosen,
                        notice=notice, show_problems=True)


def consent_back(ctx: Context, workspace: Workspace, req: CanvasRequest) -> Canvas:
    if consent.resume_of(req.stored) is not None:
        return resume_message(ctx, workspace, req)
    return back_home(ctx, workspace, req)


# --------------------------------------------------------------------------- the flow

CONTENT = "content:"
WRITE_OR_BACK = ("write", "compose", "home")  # a form that cannot be resumed goes back
STEPS: tuple[Step, ...] = (
    Step("home", ("compose", "sent", "consent_recorded", "expired", "problem", "setup_needed", "no_senders"),
         back_home, ("home",)),
    Step("phone", ("home",), set_number, ("home",)),
    Step("compose", ("home",), start_compose, ("compose", "home")),
    Step("channel", ("compose",), change_channel, ("compose", "home")),
    Step(CONTENT, ("compose",), open_write, ("write", "compose", "home")),
    Step("back_compose", ("write",), back_compose, ("compose", "home")),
    Step("purpose_kind", ("write",), rerender, WRITE_OR_BACK),
    Step("update_preview", ("write",), rerender, WRITE_OR_BACK),
    Step("send", ("write",), send, ("sent", "confirm", "expired", *WRITE_OR_BACK)),
    Step("confirm_send", ("confirm",), confirm_send, ("sent", "confirm", "expired", *WRITE_OR_BACK)),
    Step("back_write", ("confirm",), back_write, WRITE_OR_BACK),
    Step("refresh_status", ("sent",), refresh_status, ("sent", "home")),
    Step("consent", ("home",), open_consent, ("consent", "home")),
    Step("consent_for_send", ("write",), consent_for_send, ("consent", *WRITE_OR_BACK)),
    Step("consent_grant", ("consent",), grant, ("consent_recorded", "consent", "home")),
    Step("consent_withdraw", ("consent",), withdraw, ("consent_recorded", "consent", "home")),
    Step("consent_view", ("consent_recorded",), view_consent, ("consent", "home")),
    Step("consent_resume", ("consent_recorded",), resume_message, WRITE_OR_BACK),
    Step("consent_back", ("consent",), consent_back, WRITE_OR_BACK),
)
BY_ACTION: dict[str, Step] = {step.action: step for step in STEPS}
