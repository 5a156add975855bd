"""Background work on Celery: one task per job in :func:`app.services.jobs.handlers`, thin wrappers.

Every task is acknowledged late and rejected back to the queue when its worker dies, so a worker
killed mid-task loses nothing; the handlers it calls are idempotent (they lease their outbox row
first), so running one twice does nothing twice. Beat's schedule is :data:`app.services.jobs.PERIODIC`.

The broker comes from ``CELERY_BROKER_URL`` or ``REDIS_URL``. The embedded default has no server:
it uses kombu's SQLAlchemy transport on a SQLite file beside the database, which ``./scripts/run``
serves with one child worker (see README).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.signals import worker_process_init
from flask import Flask

from ..services.context import Context
from ..services.jobs import PERIODIC, handlers

log = logging.getLogger(__name__)

TASK_PREFIX = "herald."


class CeleryJobs:
    """:class:`app.services.jobs.Jobs` on a Celery broker."""

    def __init__(self, celery: Celery) -> None:
        self.celery = celery

    def enqueue(self, name: str, *args: Any) -> None:
        self.celery.send_task(TASK_PREFIX + name, args=list(args))


def make_celery(app: Flask) -> Celery:
    """The Celery application for this Flask app, its tasks registered and its jobs routed to it."""
    ctx: Context = app.extensions["herald"]
    settings = ctx.config
    celery = Celery("herald", set_as_current=False)
    transport_options: dict[str, Any] = {}
    if settings.broker_url.startswith(("redis://", "rediss://")):
        # An unacknowledged task (its worker died) goes back to the queue after this long.
        transport_options["visibility_timeout"] = settings.broker_visibility_timeout
    celery.conf.update(
        broker_url=settings.broker_url,
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        task_default_queue="herald",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2,
                                   "interval_max": 0.5},
        beat_schedule={f"{name}-periodic": {"task": TASK_PREFIX + name,
                                            "schedule": timedelta(seconds=_every(name, every, settings))}
                       for name, every in PERIODIC.items()},
        timezone="UTC",
    )
    for name, handler in handlers().items():
        _register(celery, app, ctx, name, handler)

    @worker_process_init.connect(weak=False)
    def _own_connections(**_kwargs: Any) -> None:
        # A forked (prefork) child must not share the parent's database connections: drop the
        # inherited pool without closing the parent's sockets; the child opens its own.
        ctx.store.engine.dispose(close=False)

    ctx.jobs = CeleryJobs(celery)
    app.extensions["celery"] = celery
    return celery


def _every(name: str, every: float, settings: Any) -> float:
    """The sweeps for lost jobs follow ``sweep_seconds``; the rest keep their own period."""
    return float(settings.sweep_seconds) if name.endswith("_due") else every


def _register(celery: Celery, app: Flask, ctx: Context, name: str, handler) -> None:
    def run(*args: Any) -> Any:
        with app.app_context():
            return handler(ctx, *args)

    run.__name__ = run.__qualname__ = name
    run.__doc__ = handler.__doc__
    celery.task(name=TASK_PREFIX + name, bind=False, acks_late=True, reject_on_worker_lost=True)(run)
