"""The customer-service window: opened and restarted only by the customer's own messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class WindowState:
    """Whether free text may go now, and the absolute time that stops being true."""

    open: bool
    closes_at: datetime | None  # None when the customer never wrote in
    last_inbound_at: datetime | None

    def as_dict(self) -> dict[str, object]:
        return {"open": self.open,
                "closes_at": self.closes_at.isoformat() if self.closes_at else None,
                "last_inbound_at": self.last_inbound_at.isoformat() if self.last_inbound_at else None}


def window_state(last_inbound_at: datetime | None, now: datetime, length: timedelta = WINDOW) -> WindowState:
    """Open while ``now`` is before the latest inbound message plus ``length`` (closing instant excluded)."""
    if last_inbound_at is None:
        return WindowState(False, None, None)
    closes_at = last_inbound_at + length
    return WindowState(now < closes_at, closes_at, last_inbound_at)


def format_moment(moment: datetime) -> str:
    """An absolute date people read at a glance: "Nov 22, 2026 at 3:05 PM UTC"."""
    hour = moment.strftime("%I").lstrip("0") or "12"
    zone = moment.strftime("%Z") or "UTC"
    return f"{moment.strftime('%b')} {moment.day}, {moment.year} at {hour}:{moment.strftime('%M %p')} {zone}"
