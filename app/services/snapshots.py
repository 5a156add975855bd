"""Workspaces as the send path reads them: a snapshot of settings, senders and template languages.

Every send needs them and they change rarely, so each process keeps them for a moment. A change made
through this process (settings, senders, templates) drops the snapshots at once; a change made by
another process (an operator's CLI) is seen within ``TTL`` seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ..domain.refusals import Reason, Refused
from ..store.models import Template, Workspace

TTL = 2.0


@dataclass(frozen=True)
class SenderSnapshot:
    id: int
    channel: str
    provider: str
    from_number: str
    options: Mapping[str, str]
    credentials_sealed: str | None


@dataclass(frozen=True)
class WorkspaceSnapshot:
    id: int
    name: str
    settings: Mapping[str, Any]
    senders: tuple[SenderSnapshot, ...]
    template_languages: tuple[str, ...]


class WorkspaceSnapshots:
    """A small per-process cache of :class:`WorkspaceSnapshot`, keyed by workspace name or id."""

    def __init__(self, ttl: float = TTL, clock=time.monotonic,
                 loader: Callable[[Session, str | int], "WorkspaceSnapshot"] | None = None) -> None:
        self.ttl = ttl
        self._clock = clock
        self._load = loader or load
        self._entries: dict[str | int, tuple[float, WorkspaceSnapshot]] = {}
        self._lock = threading.Lock()
        self._generation = 0  # bumped by every invalidation

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def get(self, session: Session, ref: str | int) -> WorkspaceSnapshot:
        now = self._clock()
        entry = self._entries.get(ref)
        if entry is not None and entry[0] > now:
            return entry[1]
        generation = self._generation
        snapshot = self._load(session, ref)
        with self._lock:
            # A change committed while this was loading must not be hidden behind what was read before it.
            if generation == self._generation:
                self._entries[ref] = (now + self.ttl, snapshot)
        return snapshot


def load(session: Session, ref: str | int) -> WorkspaceSnapshot:
    """Read one workspace with its senders and template languages, or refuse in words."""
    query = select(Workspace).options(selectinload(Workspace.senders))
    query = query.where(Workspace.id == ref) if isinstance(ref, int) else query.where(Workspace.name == ref)
    workspace = session.scalar(query)
    if workspace is None:
        what = "That workspace does not exist." if isinstance(ref, int) else f"There is no workspace named “{ref}”."
        raise Refused(Reason("workspace_unknown", what, "workspace"))
    languages = session.scalars(select(Template.language).where(Template.workspace_id == workspace.id).distinct())
    return WorkspaceSnapshot(
        id=workspace.id, name=workspace.name, settings=dict(workspace.settings or {}),
        senders=tuple(SenderSnapshot(s.id, s.channel, s.provider, s.from_number, dict(s.options or {}),
                                     s.credentials_sealed) for s in workspace.senders),
        template_languages=tuple(sorted(languages)))
