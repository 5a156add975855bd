"""GET /healthz for load balancers: up, and the database answers."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from . import ctx

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        with ctx().store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
