"""Logging: one JSON event per line in production, the request id on every line, no secret in any.

Each request takes its id from ``X-Request-Id`` (when it is a sane token) or gets a new one, and
echoes it in the response, so a line in Herald's log, gunicorn's access log and the caller's own
log can be matched. Workspace and message ids are added where a service knows them (``extra=``).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from flask import Flask, g, request

from .security.redaction import RedactingFilter, redact_query

request_id: ContextVar[str | None] = ContextVar("herald_request_id", default=None)
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_HANDLER_NAME = "herald"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", …extra}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact_query(record.getMessage()),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid:
            event["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "request_id" and not key.startswith("_"):
                event[key] = value if isinstance(value, (int, float, bool, type(None))) else redact_query(str(value))
        if record.exc_info:
            event["error"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The embedded default's readable lines, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = request_id.get()
        return f"{line} [request {rid}]" if rid else line


def configure_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """Herald's handler on the root logger (once per process), redacting everything it writes."""
    root = logging.getLogger()
    if any(getattr(h, "name", None) == _HANDLER_NAME for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.name = _HANDLER_NAME
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    if root.level == logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(level)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # The development server logs request lines itself: they pass the same filter.
    logging.getLogger("werkzeug").addFilter(RedactingFilter())


def install_request_ids(app: Flask) -> None:
    """Every request gets an id (the caller's ``X-Request-Id`` when sane), echoed in the response."""

    @app.before_request
    def _take_id() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _ID.match(given) else secrets.token_hex(8)
        g.request_id_token = request_id.set(g.request_id)

    @app.after_request
    def _echo_id(response):
        rid = g.get("request_id")
        if rid:
            response.headers["X-Request-Id"] = rid
        return response

    @app.teardown_request
    def _forget_id(_error: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id.reset(token)
