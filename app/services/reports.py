"""Reports for operators: what a workspace sent, why, and what the proactive policy said about it.

The proactive report covers every message Herald sent for the workspace in a period: counts per
purpose and verdict, and each send with its time, channel, recipient, purpose, origin, verdict,
reasons and who confirmed it. Beside the sends it shows what the rules stopped — every refused or
confirmation-needed attempt from any surface (``policy_decisions``), counted by reason and listed
with who asked, from where, for what purpose, and why. It reads the period as a range of
``ix_messages_created`` and ``ix_policy_decisions_created`` (workspace, created_at) and streams the
rows, so a month of a busy workspace never sits in memory at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterator

from sqlalchemy import func, select

from ..domain.policy import REPLY
from ..domain.refusals import Reason, Refused
from ..store.models import Message, PolicyDecision
from .consent import workspace_ref
from .context import Context

NO_PURPOSE, NO_VERDICT = "none", "none"


def parse_moment(raw: str, *, end_of_day: bool = False, field: str = "since") -> datetime:
    """A date (YYYY-MM-DD, a whole UTC day) or an ISO date-time; ``end_of_day`` makes a date inclusive."""
    text = (raw or "").strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(0), tzinfo=timezone.utc)
            return start + timedelta(days=1) if end_of_day else start
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(Reason("date_invalid", f"“{raw}” is not a date (YYYY-MM-DD) or an ISO date and time.",
                             field)) from None
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class ProactiveSend:
    """One stored send as the report shows it."""

    id: str
    time: datetime
    channel: str
    recipient: str
    purpose: str
    origin: str
    verdict: str
    reasons: tuple[str, ...]
    reply: bool
    confirmed_by: str | None
    confirmed_at: datetime | None
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "time": self.time.isoformat(), "channel": self.channel, "recipient": self.recipient,
                "purpose": self.purpose, "origin": self.origin, "verdict": self.verdict, "reasons": list(self.reasons),
                "reply_in_window": self.reply, "confirmed_by": self.confirmed_by,
                "confirmed_at": self.confirmed_at.isoformat() if self.confirmed_at else None, "status": self.status}


@dataclass(frozen=True)
class StoppedSend:
    """One attempt the rules stopped, as the report shows it."""

    time: datetime
    outcome: str  # refused or confirm
    channel: str
    recipient: str
    purpose: str
    origin: str
    surface: str
    requested_by: str
    codes: tuple[str, ...]
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.time.isoformat(), "outcome": self.outcome, "channel": self.channel,
                "recipient": self.recipient, "purpose": self.purpose, "origin": self.origin, "surface": self.surface,
                "requested_by": self.requested_by, "codes": list(self.codes), "reasons": list(self.reasons)}


@dataclass(frozen=True)
class ProactiveReport:
    """Counts per purpose × verdict for a period; :meth:`sends` streams the sends themselves."""

    ctx: Context
    workspace_id: int
    workspace: str
    since: datetime
    until: datetime
    counts: dict[str, dict[str, int]]
    stopped_counts: dict[str, int]             # refused / confirm → attempts
    stopped_by_reason: dict[str, dict[str, int]]  # reason code → refused / confirm → attempts

    @property
    def total(self) -> int:
        return sum(sum(v.values()) for v in self.counts.values())

    @property
    def stopped_total(self) -> int:
        return sum(self.stopped_counts.values())

    def header(self) -> dict[str, Any]:
        return {"workspace": self.workspace, "since": self.since.isoformat(), "until": self.until.isoformat(),
                "total": self.total, "counts": self.counts,
                "stopped": {"total": self.stopped_total, "counts": self.stopped_counts,
                            "by_reason": self.stopped_by_reason}}

    def stopped(self, batch: int = 500) -> Iterator[StoppedSend]:
        """Every attempt of the period the rules stopped, oldest first, read in batches."""
        table = PolicyDecision.__table__.c
        query = (select(table.created_at, table.outcome, table.channel, table.recipient, table.purpose,
                        table.origin, table.surface, table.requested_by, table.reason_codes, table.reasons)
                 .where(table.workspace_id == self.workspace_id, table.created_at >= self.since,
                        table.created_at < self.until)
                 .order_by(table.created_at, table.id)
                 .execution_options(yield_per=batch))
        with self.ctx.store.session() as session:
            for row in session.execute(query):
                reasons = [r for r in (row.reasons or []) if isinstance(r, dict)]
                yield StoppedSend(time=row.created_at, outcome=row.outcome, channel=row.channel,
                                  recipient=row.recipient, purpose=row.purpose or NO_PURPOSE, origin=row.origin,
                                  surface=row.surface, requested_by=row.requested_by,
                                  codes=tuple(str(c) for c in (row.reason_codes or [])),
                                  reasons=tuple(str(r.get("message", "")) for r in reasons))

    def sends(self, batch: int = 500) -> Iterator[ProactiveSend]:
        """Every send of the period, oldest first, read in batches."""
        query = (select(Message.public_id, Message.created_at, Message.channel, Message.recipient, Message.purpose,
                        Message.origin, Message.policy_verdict, Message.policy_reasons, Message.confirmed_by,
                        Message.confirmed_at, Message.status)
                 .where(Message.workspace_id == self.workspace_id, Message.created_at >= self.since,
                        Message.created_at < self.until)
                 .order_by(Message.created_at, Message.id)
                 .execution_options(yield_per=batch))
        with self.ctx.store.session() as session:
            for row in session.execute(query):
                reasons = [r for r in (row.policy_reasons or []) if isinstance(r, dict)]
                yield ProactiveSend(
                    id=row.public_id, time=row.created_at, channel=row.channel, recipient=row.recipient,
                    purpose=row.purpose or NO_PURPOSE, origin=row.origin, verdict=row.policy_verdict or NO_VERDICT,
                    reasons=tuple(str(r.get("message", "")) for r in reasons),
                    reply=any(r.get("code") == REPLY for r in reasons), confirmed_by=row.confirmed_by,
                    confirmed_at=row.confirmed_at, status=row.status)


def proactive_report(ctx: Context, workspace: int | str, since: datetime, until: datetime) -> ProactiveReport:
    """A workspace's sends in [since, until), counted per purpose and verdict."""
    if until <= since:
        raise Refused(Reason("period_invalid", "The end of the period must come after its start.", "until"))
    with ctx.store.session() as session:
        row = workspace_ref(session, workspace)
        grouped = session.execute(
            select(Message.purpose, Message.policy_verdict, func.count())
            .where(Message.workspace_id == row.id, Message.created_at >= since, Message.created_at < until)
            .group_by(Message.purpose, Message.policy_verdict)).all()
        counts: dict[str, dict[str, int]] = {}
        for purpose, verdict, n in grouped:
            slot = counts.setdefault(purpose or NO_PURPOSE, {})
            slot[verdict or NO_VERDICT] = slot.get(verdict or NO_VERDICT, 0) + n
        ordered = {p: dict(sorted(v.items())) for p, v in sorted(counts.items())}
        table = PolicyDecision.__table__.c
        outcomes: dict[str, int] = {}
        by_reason: dict[str, dict[str, int]] = {}
        stopped = (select(table.outcome, table.reason_codes)
                   .where(table.workspace_id == row.id, table.created_at >= since, table.created_at < until)
                   .execution_options(yield_per=1000))
        for outcome, codes in session.execute(stopped):
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            for code in dict.fromkeys(str(c) for c in (codes or [])):
                slot = by_reason.setdefault(code, {})
                slot[outcome] = slot.get(outcome, 0) + 1
        ranked = dict(sorted(by_reason.items(), key=lambda item: (-sum(item[1].values()), item[0])))
        return ProactiveReport(ctx, row.id, row.name, since, until, ordered, dict(sorted(outcomes.items())),
                               {code: dict(sorted(v.items())) for code, v in ranked.items()})
