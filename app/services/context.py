"""What every use case is handed: the store, the clock, the providers and the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from ..providers.base import Provider
from ..providers.registry import PROVIDERS
from ..store import Store
from .snapshots import WorkspaceSnapshots


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Context:
    """Passed explicitly so a use case never reaches for a global; tests hand in their own clock."""

    store: Store
    config: Any
    clock: Callable[[], datetime] = utcnow
    providers: dict[str, Provider] = field(default_factory=dict)
    # host name ("intercom", "hubspot") -> function that writes one send back to that host
    writers: dict[str, Callable[["Context", Any], None]] = field(default_factory=dict)
    workspaces: WorkspaceSnapshots = field(default_factory=WorkspaceSnapshots)
    # where background work goes: Celery in a served app, at once in-process (InlineJobs) elsewhere
    jobs: Any = None

    def provider(self, name: str) -> Provider:
        if name not in self.providers:
            cls = PROVIDERS.get(name)
            if cls is None:
                raise LookupError(f"provider {name!r} is not available in this installation")
            self.providers[name] = cls.from_config(self.config)
        return self.providers[name]

    def __post_init__(self) -> None:
        if self.jobs is None:
            from .jobs import InlineJobs

            self.jobs = InlineJobs(self)

    def now(self) -> datetime:
        return self.clock()
