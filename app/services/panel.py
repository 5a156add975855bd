"""What the agent panels show (Intercom sidebar, HubSpot card and compose page), built once for both."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from sqlalchemy import or_, select

from ..domain import phone
from ..domain.purposes import MARKETING, PURPOSES, SERVICE, default_for_category
from ..domain.refusals import Refused
from ..domain.channels import CHANNEL_LABELS, CHANNELS, channel_summary
from ..domain.templates import APPROVED, MARKETING_CATEGORIES, prefill
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
            values = prefill(spec, contact)
            templates.append({
                "id": row.id, "name": row.name, "language": row.language, "category": row.category,
                "key": f"{row.name}:{row.language}", "body": row.body, "header": row.header_text,
                "footer": row.footer, "default_purpose": default_for_category(row.category),
                "slots": [{"id": s.id, "label": s.label, "prefill": values[s.id]}
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


# --------------------------------------------------------------------------- the compose form's rules, for both panels

FORM_LIFETIME = timedelta(hours=12)  # a captured send request cannot be replayed later than this


def starting_values(template: Mapping[str, Any] | None) -> dict[str, str]:
    """What each of a template's placeholders starts with on a fresh form: its prefill from the contact."""
    if template is None:
        return {}
    return {str(slot["id"]): str(slot["prefill"]) for slot in template["slots"]}


def default_purpose(template: Mapping[str, Any] | None) -> str:
    """The purpose a fresh form starts with: the template's category's, none for free text."""
    return str((template or {}).get("default_purpose") or "")


def purpose_kind(purpose: str, template: Mapping[str, Any] | None) -> str:
    """Service or marketing: the stated purpose's kind, else what the template's category says."""
    if purpose in PURPOSES:
        return PURPOSES[purpose].kind
    category = str((template or {}).get("category") or "").upper()
    return MARKETING if category in MARKETING_CATEGORIES else SERVICE


def issue_form(now: datetime) -> dict[str, Any]:
    """A fresh form's own idempotency key and when it was opened (its lifetime runs from then)."""
    return {"key": secrets.token_urlsafe(12), "issued": int(now.timestamp())}


def form_opened_at(issued: Any) -> datetime | None:
    """When a form was opened, from what ``issue_form`` gave it; None when that is missing or not a time."""
    if not isinstance(issued, (int, float)):
        return None
    try:
        return datetime.fromtimestamp(issued, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def form_expired(opened: datetime | None, now: datetime) -> bool:
    """Whether a form can no longer send: opened unknown, or longer ago than its lifetime."""
    return opened is None or now - opened > FORM_LIFETIME


def intercom_send_key(anchor: str, form_key: Any) -> str:
    """The idempotency key of a send from the Intercom panel: the conversation (or contact) and the form."""
    return f"intercom:{anchor}:{form_key}"[:255]


def hubspot_send_key(token_id: str) -> str:
    """The idempotency key of a send from the HubSpot compose page: the compose token's id."""
    return f"hubspot-compose:{token_id}"
