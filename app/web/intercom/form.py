"""The Intercom panel's compose form: its values wherever they were last seen, and the engine's request.

A form's values come from the write canvas's inputs, or from the draft a later canvas carries in
``stored_data`` (confirm, consent). Its rules (prefill, purpose, lifetime, keys) are the panel
service's; this module only reads Intercom's shapes and translates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from ...services import intercom as intercom_service
from ...services import panel
from ...services.context import Context
from ...services.send import SendRequest
from .screens import ECHO, NO_PURPOSE
from .payload import CanvasRequest

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

    def clipped_draft(self) -> dict[str, Any]:
        """The values as they travel in stored_data: no longer than the write canvas echoes them."""
        draft = self.draft()
        draft["to"] = str(draft["to"])[:100]
        draft["text"] = str(draft["text"])[:ECHO]
        draft["params"] = {k: str(v)[:ECHO] for k, v in draft["params"].items()}
        return draft


@dataclass(frozen=True)
class Choices:
    """What the form offers on its channel, and the template chosen (None for free text)."""

    options: Mapping[str, Any]
    template: Mapping[str, Any] | None


def choices(ctx: Context, workspace: Workspace, req: CanvasRequest, channel: str, content: str,
            number: str | None) -> Choices | None:
    """The compose options on ``channel`` and the chosen template; None when the template is gone."""
    options = panel.compose_options(ctx, workspace.id, channel, number, req.contact.prefill(), workspace.languages)
    if content == "free":
        return Choices(options, None)
    wanted = content.removeprefix("tpl:")
    template = next((t for t in options["templates"] if str(t["id"]) == wanted), None)
    return Choices(options, template) if template is not None else None


def fresh(channel: str, content: str, number_display: str, chosen: Choices) -> Form:
    """A form just opened: the first sender, the panel's prefill and the template's purpose."""
    template = chosen.template
    purpose = panel.default_purpose(template)
    senders = chosen.options["senders"]
    return Form(channel=channel, content=content, to=number_display,
                sender=str(senders[0]["id"]) if senders else "", params=panel.starting_values(template),
                purpose=purpose, purpose_kind=panel.purpose_kind(purpose, template))


def from_inputs(req: CanvasRequest, template: Mapping[str, Any] | None) -> Form:
    """The form as the write canvas submitted it."""
    stored = req.stored
    purpose = req.value("purpose")
    purpose = "" if purpose == NO_PURPOSE else purpose
    kind = req.value("purpose_kind") or panel.purpose_kind(purpose, template)
    # An input the agent emptied may arrive as "" or not at all: both mean empty, never the prefill.
    params = {slot["id"]: req.raw_value(f"param:{slot['id']}") for slot in (template or {}).get("slots", [])}
    return Form(channel=str(stored.get("channel") or ""), content=str(stored.get("content") or "free"),
                to=req.value("to"),
                sender=req.value("sender") or str(stored.get("sender") or ""),
                text=req.raw_value("message"), params=params, purpose=purpose, purpose_kind=kind)


def from_draft(stored: Mapping[str, Any]) -> Form:
    """The form as a later canvas kept it in stored_data."""
    draft = stored.get("draft") if isinstance(stored.get("draft"), dict) else {}
    return Form(channel=str(stored.get("channel") or ""), content=str(stored.get("content") or "free"),
                to=str(draft.get("to") or stored.get("phone") or ""), sender=str(draft.get("sender") or ""),
                text=str(draft.get("text") or ""),
                params={str(k): str(v) for k, v in (draft.get("params") or {}).items()},
                purpose=str(draft.get("purpose") or ""), purpose_kind=str(draft.get("purpose_kind") or ""))


def send_request(workspace: Workspace, req: CanvasRequest, form: Form, template: Mapping[str, Any] | None,
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
        idempotency_key=None if dry_run else panel.intercom_send_key(anchor, stored.get("key")),
        dry_run=dry_run, confirmed=confirmed, contact_ref=req.contact.id or None, context=context,
        writeback=writeback)
