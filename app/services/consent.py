"""Marketing consent: recorded per person and channel, with who recorded it and when; the latest wins.

Consent is never edited or deleted: a withdrawal is a new record, so the history shows who said what
when. The CLI, the Intercom panel and the HubSpot compose page record it with :func:`record_consent`
and show it with :func:`consent_state`; the policy reads :func:`current_consent` while deciding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain import phone
from ..domain.policy import MarketingConsent
from ..domain.refusals import Reason, Refused
from ..domain.channels import CHANNEL_LABELS, CHANNELS
from ..store.models import Consent, Workspace
from .context import Context
from .workspaces import workspace_named

HISTORY_SHOWN = 50


def workspace_ref(session: Session, ref: int | str) -> Workspace:
    """A workspace by id (surfaces that hold one) or by name (operators)."""
    if isinstance(ref, int):
        workspace = session.get(Workspace, ref)
        if workspace is None:
            raise Refused(Reason("workspace_unknown", "That workspace does not exist.", "workspace"))
        return workspace
    return workspace_named(session, ref)


def _recipient(workspace: Workspace, raw: str, channel: str | None) -> str:
    """E.164, reading a local number in the region of the workspace's sender on that channel."""
    region = None
    for sender in workspace.senders:
        if (channel is None or sender.channel == channel) and sender.from_number.startswith("+"):
            region = phone.region_of(sender.from_number)
            break
    return phone.normalise(raw, default_region=region)


def _view(row: Consent) -> MarketingConsent:
    return MarketingConsent(granted=row.granted, recorded_by=row.recorded_by, recorded_at=row.recorded_at,
                            source=row.source, note=row.note or "", channel=row.channel,
                            recipient=row.recipient)


def record_consent(ctx: Context, workspace: int | str, recipient: str, channel: str, granted: bool, source: str,
                   recorded_by: str, note: str = "") -> MarketingConsent:
    """Record that ``recipient`` gave (or withdrew) marketing consent on ``channel``; returns the record."""
    reasons = []
    if channel not in CHANNELS:
        reasons.append(Reason("channel_unknown", f"Channel must be one of {', '.join(CHANNELS)}.", "channel"))
    source = (source or "").strip()
    if not source or len(source) > 32:
        reasons.append(Reason("consent_source_invalid", "Say where the consent came from (e.g. web_form, phone, "
                                                        "email), in 1 to 32 characters.", "source"))
    recorded_by = (recorded_by or "").strip()
    if not recorded_by or len(recorded_by) > 255:
        reasons.append(Reason("consent_recorded_by_missing", "Say who is recording this consent (a name or an "
                                                             "email address, at most 255 characters).",
                              "recorded_by"))
    if len(note or "") > 2000:
        reasons.append(Reason("consent_note_too_long", "A consent note has at most 2000 characters.", "note"))
    if reasons:
        raise Refused(*reasons)
    with ctx.store.session() as session:
        row_workspace = workspace_ref(session, workspace)
        number = _recipient(row_workspace, recipient, channel)
        row = Consent(workspace_id=row_workspace.id, recipient=number, channel=channel, granted=bool(granted),
                      source=source, recorded_by=recorded_by, note=(note or "").strip(), recorded_at=ctx.now())
        session.add(row)
        session.flush()
        return _view(row)


def current_consent(session: Session, workspace_id: int, recipient: str, channel: str) -> MarketingConsent | None:
    """The latest record for this person on this channel (one indexed lookup), or None."""
    row = session.scalar(select(Consent)
                         .where(Consent.workspace_id == workspace_id, Consent.recipient == recipient,
                                Consent.channel == channel)
                         .order_by(Consent.recorded_at.desc(), Consent.id.desc()).limit(1))
    return _view(row) if row is not None else None


@dataclass(frozen=True)
class ConsentState:
    """Where one person stands on marketing, per channel, and the records behind it (newest first)."""

    recipient: str
    channels: dict[str, MarketingConsent | None]
    history: tuple[MarketingConsent, ...]

    def granted(self, channel: str) -> bool:
        record = self.channels.get(channel)
        return bool(record and record.granted)

    def summary(self, channel: str) -> str:
        """One line a panel shows for a channel."""
        record = self.channels.get(channel)
        if record is None:
            return f"No marketing consent recorded on {CHANNEL_LABELS[channel]}."
        return record.sentence()

    def as_dict(self) -> dict[str, Any]:
        return {"recipient": self.recipient,
                "channels": {c: ({**r.as_dict(), "summary": self.summary(c)} if r else
                                 {"channel": c, "granted": False, "summary": self.summary(c)})
                             for c, r in self.channels.items()},
                "history": [r.as_dict() for r in self.history]}


def consent_state(ctx: Context, workspace: int | str, recipient: str) -> ConsentState:
    """The current marketing consent of ``recipient`` on every channel, with the recent history."""
    with ctx.store.session() as session:
        row_workspace = workspace_ref(session, workspace)
        number = _recipient(row_workspace, recipient, None)
        channels = {c: current_consent(session, row_workspace.id, number, c) for c in CHANNELS}
        rows = session.scalars(select(Consent)
                               .where(Consent.workspace_id == row_workspace.id, Consent.recipient == number)
                               .order_by(Consent.recorded_at.desc(), Consent.id.desc()).limit(HISTORY_SHOWN))
        return ConsentState(recipient=number, channels=channels, history=tuple(_view(r) for r in rows))
