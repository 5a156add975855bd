"""The Intercom panel's marketing-consent canvases: what they show, and recording what the agent clicked.

A consent canvas remembers which record it showed per channel (a fingerprint), so a stale or
replayed click cannot overwrite a newer record; a refused message waiting behind it travels as
``resume`` in ``stored_data`` to be returned to.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

from ...domain.policy import MarketingConsent
from ...domain.refusals import Refused
from ...domain.channels import CHANNEL_LABELS
from ...services.consent import consent_state, record_consent
from ...services.context import Context
from . import screens
from .form import Workspace
from .payload import CanvasRequest
from .render import Canvas, home

CONSENT_SOURCE = "intercom"
NO_NUMBER_FOR_CONSENT = "Enter the customer's phone number first: marketing consent is recorded for a number."


def fingerprint(record: MarketingConsent | None) -> str:
    """Which record a canvas showed, so a stale or replayed click cannot overwrite a newer record."""
    if record is None:
        return ""
    return hashlib.sha256(json.dumps(record.as_dict(), sort_keys=True).encode()).hexdigest()[:16]


def resume_of(stored: Mapping[str, Any]) -> dict[str, Any] | None:
    """The refused message waiting behind the consent canvases, if any."""
    resume = stored.get("resume")
    return resume if isinstance(resume, dict) else None


def consent(ctx: Context, workspace: Workspace, req: CanvasRequest, number: str, *,
            resume: Mapping[str, Any] | None = None, channel: str = "", note: str = "",
            errors: tuple[str, ...] = (), failed: frozenset[str] = frozenset()) -> Canvas:
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
    view = screens.ConsentView(
        number=state.recipient, channels=[(c, CHANNEL_LABELS[c]) for c in workspace.channels], current=current,
        earlier=earlier, stored=stored, channel=channel if channel in workspace.channels else "", note=note,
        errors=errors, failed=failed, back_label="Back to your message" if resume else "Back")
    return screens.consent(view)


def recorded(req: CanvasRequest, record: MarketingConsent, label: str, resume: Mapping[str, Any] | None,
             *, replayed: bool = False) -> Canvas:
    """The canvas after a record was saved (or found already saved by this same click)."""
    stored: dict[str, Any] = {"v": 1, "step": "consent_recorded", "contact_id": req.contact.id,
                              "phone": req.stored.get("phone") or record.recipient, "recipient": record.recipient,
                              "channel": record.channel}
    if resume:
        stored["resume"] = dict(resume)
    return screens.consent_recorded(screens.ConsentRecordedView(
        record=record, channel_label=label, stored=stored, resume=resume is not None, replayed=replayed))


def _recorded_by(req: CanvasRequest) -> str:
    """The clicking teammate as sends name them, within what a consent record holds."""
    who = req.requested_by
    if len(who) <= 255:
        return who
    return f"Intercom admin {req.admin_id}" if req.admin_id else req.admin_email[:255]


def _chosen_channel(workspace: Workspace, req: CanvasRequest) -> str:
    return workspace.channels[0] if len(workspace.channels) == 1 else req.value("consent_channel")


def record(ctx: Context, workspace: Workspace, req: CanvasRequest, granted: bool) -> Canvas:
    """Record a grant or a withdrawal, unless the input is wrong or the canvas is out of date."""
    stored = req.stored
    resume = resume_of(stored)
    number = str(stored.get("recipient") or "")
    if not number:
        return home(ctx, workspace, req, stored, error=NO_NUMBER_FOR_CONSENT)
    note = req.raw_value("consent_note").strip()
    channel = _chosen_channel(workspace, req)

    def again(*errors: str, failed: frozenset[str] = frozenset()) -> Canvas:
        return consent(ctx, workspace, req, number, resume=resume, channel=channel, note=note, errors=errors,
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
            return recorded(req, latest, label, resume, replayed=True)
        return again(f"Nothing was recorded: marketing consent on {label} changed after this canvas was shown. "
                     "It now reads as below; record again if it is still needed.")
    try:
        saved = record_consent(ctx, workspace.id, number, channel, granted, CONSENT_SOURCE, recorded_by, note)
    except Refused as refused:
        fields = {"note": "consent_note", "channel": "consent_channel"}
        return again(*(r.message for r in refused.reasons),
                     failed=frozenset(fields[r.field] for r in refused.reasons if r.field in fields))
    return recorded(req, saved, label, resume)
