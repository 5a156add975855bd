"""Probes: ``/healthz`` (up, the database answers), ``/readyz`` (ready to serve: database, schema,
broker) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, jsonify

from ..services import metrics
from . import ctx

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    try:
        ctx().store.ping()
    except Exception:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


def _database() -> str:
    try:
        current, head = ctx().store.schema_revisions()
    except Exception as error:
        log.warning("readiness: the database is unreachable (%s)", type(error).__name__)
        return "unreachable"
    if current != head:
        return f"schema at {current or 'nothing'}, code expects {head}: run `flask --app app db upgrade`"
    return "ok"


def _broker() -> str:
    celery = current_app.extensions.get("celery")
    if celery is None:
        return "not used (background work runs in-process)"
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:
        log.warning("readiness: the broker is unreachable (%s)", type(error).__name__)
        return "unreachable"
    return "ok"


@bp.get("/readyz")
def readyz():
    """503 until the database answers at the schema this code expects and the broker takes work."""
    database, broker = _database(), _broker()
    ready = database == "ok" and broker in ("ok",) or (database == "ok" and broker.startswith("not used"))
    return jsonify(status="ok" if ready else "error", database=database, broker=broker), 200 if ready else 503


@bp.get("/metrics")
def prometheus():
    body, content_type = metrics.exposition(ctx())
    return Response(body, content_type=content_type)
