"""Background work as named jobs: what services hand off, and how it reaches a worker.

A service never runs its side work on the agent's request. It writes the work to the database first
(the write-back row, the stored webhook event: an outbox) and then *enqueues* a job that names the
row. The job is only a nudge: a periodic sweep enqueues again anything whose nudge was lost (broker
down, worker killed), and every handler is safe to run twice, so nothing is lost and nothing is
done twice.

``Jobs`` is what a service sees. In production it is Celery on Redis (``app.tasks``); in tests and
one-off commands it can be :class:`InlineJobs`, which runs the same handlers at once, in-process.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from .context import Context

log = logging.getLogger(__name__)


class Jobs(Protocol):
    """Hands a named job with its (JSON-simple) arguments to whatever runs background work."""

    def enqueue(self, name: str, *args: Any) -> None: ...


def handlers() -> dict[str, Callable[..., Any]]:
    """Every job Herald runs in the background, by name: the one table Celery and InlineJobs share."""
    from . import events, maintenance, webhook_events, writeback
    from .template_sync import sync_all_workspaces

    return {
        "writeback": writeback.attempt,
        "writebacks_due": writeback.run_due,
        "webhook_event": webhook_events.apply,
        "webhook_events_due": webhook_events.run_due,
        "event_delivery": events.deliver,
        "event_deliveries_due": events.run_due,
        "template_sync_all": sync_all_workspaces,
        "cleanup": maintenance.cleanup,
        "sweep_interrupted_sends": maintenance.sweep_interrupted_sends,
    }


# Periodic jobs and how often they run, in seconds: the schedule beat (or the embedded worker) keeps.
PERIODIC: dict[str, float] = {
    "writebacks_due": 30.0,
    "webhook_events_due": 30.0,
    "event_deliveries_due": 30.0,
    "sweep_interrupted_sends": 60.0,
    "cleanup": 3600.0,
    "template_sync_all": 6 * 3600.0,
}


class InlineJobs:
    """Runs each job at once in the calling process: for tests and commands with no worker."""

    def __init__(self, ctx: "Context") -> None:
        self.ctx = ctx
        self._handlers: dict[str, Callable[..., Any]] | None = None

    def enqueue(self, name: str, *args: Any) -> None:
        if self._handlers is None:
            self._handlers = handlers()
        self._handlers[name](self.ctx, *args)


class DeferredJobs:
    """Keeps jobs until :meth:`run` is called: lets a test see what a request left for the workers."""

    def __init__(self, ctx: "Context") -> None:
        self.ctx = ctx
        self.pending: list[tuple[str, tuple[Any, ...]]] = []

    def enqueue(self, name: str, *args: Any) -> None:
        self.pending.append((name, args))

    def run(self) -> int:
        table, done = handlers(), 0
        while self.pending:
            name, args = self.pending.pop(0)
            table[name](self.ctx, *args)
            done += 1
        return done


def enqueue(ctx: "Context", name: str, *args: Any) -> None:
    """Nudge the workers; a broker that is down is logged, never raised: the sweep finds the row later."""
    try:
        ctx.jobs.enqueue(name, *args)
    except Exception as error:  # the outbox row is committed; losing the nudge loses nothing
        log.warning("could not enqueue %s%r (%s); the periodic sweep will pick it up", name, args,
                    type(error).__name__)
