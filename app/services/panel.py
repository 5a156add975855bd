"""What the agent panels show (Intercom sidebar, HubSpot card and compose page), built once for both."""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import or_, select

from ..domain import phone
from ..domain.purposes import PURPOSES, default_for_category
from ..domain.refusals import Refused
from ..domain.channels import CHANNEL_LABELS, CHANNELS, channel_summary
from ..domain.templates import APPROVED, suggest_value
from ..domain.window import format_moment, window_state
from ..store.models import Message, Sender, Template, Workspace
from . import recipients
from .context import Context
from .send import message_view


def normalise_or_none(raw: str | None, region: str | None = None) -> str | None:
    """The contact's number in E.164, or None when the host has none or it is not a number."""
    if not raw:
        return None
    try:
        return phone.normalise(raw, default_region=region)
    except Refused:
        return None


def _default_senders(workspace: Workspace) -> dict[str, Sender]:
    chosen: dict[str, Sender] = {}
    for sender in workspace.senders:
        chosen.setdefault(sender.channel, sender)
    return chosen


def contact_overview(ctx: Context, workspace_id: int, number: str | None, contact_ref: str | None = None,
                     limit: int = 5) -> dict[str, Any]:
    """Per channel, what can be sent to this person now; and the last messages Herald sent them."""
    now = ctx.now()
    with ctx.store.session() as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        senders = _default_senders(workspace)
        channels = []
        for channel in CHANNELS:
            sender = senders.get(channel)
            if sender is None:
                continue
            if number is None:
                channels.append({"channel": channel, "label": CHANNEL_LABELS[channel], "state": "unavailable",
                                 "closes_at": None, "summary": "No phone number for this contact"})
                continue
            state = recipients.load(session, sender.id, number)
            channels.append(channel_summary(channel, state, now))
        filters = []
        if number:
            filters.append(Message.recipient == number)
        if contact_ref:
            filters.append(Message.contact_ref == contact_ref)
        messages: list[dict[str, Any]] = []
        if filters:
            rows = session.scalars(select(Message).where(Message.workspace_id == workspace_id, or_(*filters))
                                   .order_by(Message.id.desc()).limit(limit))
            messages = [message_view(m, m.sender) for m in rows]
        return {"phone": number, "phone_display": phone.display(number) if number else None,
                "channels": channels, "messages": messages}


def compose_options(ctx: Context, workspace_id: int, channel: str, number: str | None,
                    contact: Mapping[str, str] | None = None, languages: tuple[str, ...] = ()) -> dict[str, Any]:
    """Everything a compose form offers on ``channel``: senders, usable templates, free text or not."""
    contact = contact or {}
    now = ctx.now()
    with ctx.store.session() as session:
        workspace = session.get(Workspace, workspace_id)
        assert workspace is not None
        senders = [s for s in workspace.senders if s.channel == channel]
        rows = session.scalars(select(Template).where(Template.workspace_id == workspace_id,
                                                      Template.channel == channel, Template.status == APPROVED)
                               .order_by(Template.name, Template.language))
        from .workspaces import to_spec

        templates = []
        for row in rows:
            spec = to_spec(row)
            if languages and not any(row.language.lower().startswith(l.lower()) for l in languages):
                continue
            templates.append({
                "id": row.id, "name": row.name, "language": row.language, "category": row.category,
                "key": f"{row.name}:{row.language}", "body": row.body, "header": row.header_text,
                "footer": row.footer, "default_purpose": default_for_category(row.category),
                "slots": [{"id": s.id, "label": s.label, "prefill": suggest_value(s, contact)}
                          for s in spec.slots()],
            })
        state = recipients.load(session, senders[0].id, number) if (senders and number) else None
    window = window_state(state.last_inbound_at if state else None, now)
    free_text = channel == "sms" or window.open
    if channel == "sms":
        free_text_note = "Free text." if not (state and state.opted_out) else "This number opted out of SMS."
    elif window.open and window.closes_at:
        free_text_note = f"Free text until {format_moment(window.closes_at)}."
    else:
        free_text_note = f"Template only: the customer has not written on {CHANNEL_LABELS[channel]} in the last 24 hours."
    return {
        "channel": channel, "label": CHANNEL_LABELS[channel],
        "senders": [{"id": s.id, "from": s.from_number} for s in senders],
        "templates": templates, "free_text_allowed": free_text, "free_text_note": free_text_note,
        "window": window.as_dict(),
        "purposes": [{"code": p.code, "label": p.label, "kind": p.kind} for p in PURPOSES.values()],
    }
