"""Prometheus metrics, correct with several gunicorn workers and Celery processes.

Counters and histograms are prometheus_client's; with ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn.conf.py
sets it before any worker starts) each process writes its own files and a scrape adds them up. Queue
depths are read from the outbox tables at scrape time, so every process reports the same truth.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

if TYPE_CHECKING:  # pragma: no cover
    from .context import Context

SENDS = Counter("herald_sends_total", "Send attempts by channel and outcome (sent, failed, unknown, refused, "
                "needs_confirmation, replayed).", ["channel", "outcome"])
PROVIDER_LATENCY = Histogram("herald_provider_call_seconds", "Time the provider took to answer a send.",
                             ["provider"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15))
WEBHOOK_EVENTS = Counter("herald_webhook_events_total", "Provider webhook deliveries by provider and result "
                         "(stored, duplicate, refused, applied, retry, failed).", ["provider", "result"])
WRITEBACK_FAILURES = Counter("herald_writeback_failures_total", "Failed attempts to record a send in a host.",
                             ["host", "final"])


class _QueueDepth:
    """Work waiting in the outbox tables, read when scraped."""

    def __init__(self, ctx: "Context") -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from ..domain import status as st
        from ..store.models import Message, WebhookEvent, Writeback

        family = GaugeMetricFamily("herald_queue_depth", "Work waiting for the background workers.",
                                   labels=["queue"])
        try:
            with self.ctx.store.session() as session:
                family.add_metric(["writebacks"], session.scalar(
                    select(func.count()).select_from(Writeback).where(Writeback.status == "pending")) or 0)
                family.add_metric(["writebacks_failed"], session.scalar(
                    select(func.count()).select_from(Writeback).where(Writeback.status == "failed")) or 0)
                family.add_metric(["webhook_events"], session.scalar(
                    select(func.count()).select_from(WebhookEvent).where(WebhookEvent.status == "pending")) or 0)
                family.add_metric(["sends_in_flight"], session.scalar(
                    select(func.count()).select_from(Message).where(Message.status == st.QUEUED)) or 0)
        except Exception:  # a scrape must not fail because the database is away; /readyz says so
            return
        yield family


def exposition(ctx: "Context") -> tuple[bytes, str]:
    """The text a Prometheus scrape gets: every process's counters, and the queue depths."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:  # one process: its own counters (the default registry's process metrics stay out)
        for collector in (SENDS, PROVIDER_LATENCY, WEBHOOK_EVENTS, WRITEBACK_FAILURES):
            registry.register(collector)
    registry.register(_QueueDepth(ctx))
    return generate_latest(registry), CONTENT_TYPE_LATEST
