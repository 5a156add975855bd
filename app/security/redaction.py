"""Secrets out of log lines: query parameters that carry a credential are replaced before a line is written.

Access logs print each request's path with its query. Some of Herald's URLs carry a secret there:
Meta's ``hub.verify_token`` on the WhatsApp handshake, the compose window's token, an OAuth
``code`` and ``state`` on the install callbacks. :func:`redact_query` rewrites any text that holds
such a URL (a path, a full URL, a whole access-log line) with those values replaced by
``[redacted]``; :class:`RedactingFilter` does it to every record of a logger it is installed on.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote_plus

REDACTED = "[redacted]"

# Parameter names (compared lower-case, after percent-decoding) whose values are secrets.
SECRET_PARAMS = frozenset({
    "hub.verify_token", "verify_token", "token", "compose_token", "t", "code", "state", "access_token",
    "refresh_token", "id_token", "client_secret", "secret", "password", "api_key", "apikey", "key",
    "signature", "sig", "auth", "authorization", "session", "csrf", "csrf_token", "jwt",
})

# A name=value pair inside a query: after ? or & (or ; as some servers treat it), up to the next
# separator, a space, a quote or the end of the line.
_PAIR = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#\s\"'?]+)=(?P<value>[^&;#\s\"']*)")


def _secret_name(name: str) -> bool:
    try:
        decoded = unquote_plus(name)
    except Exception:  # pragma: no cover - unquote_plus does not raise on str input
        decoded = name
    return decoded.strip().lower() in SECRET_PARAMS


def redact_query(url_or_path: str) -> str:
    """``url_or_path`` (or any log text containing URLs) with every secret query value replaced."""
    if "=" not in url_or_path:
        return url_or_path

    def replace(match: re.Match[str]) -> str:
        if not match.group("value") or not _secret_name(match.group("name")):
            return match.group(0)
        return f"{match.group('lead')}{match.group('name')}={REDACTED}"

    return _PAIR.sub(replace, url_or_path)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message and string arguments through :func:`redact_query`; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_arg(value) for key, value in record.args.items()}
        return True


def _redact_arg(value: Any) -> Any:
    return redact_query(value) if isinstance(value, str) else value


def install(logger: logging.Logger | str) -> RedactingFilter:
    """Put one :class:`RedactingFilter` on ``logger`` (once, however often this is called)."""
    target = logging.getLogger(logger) if isinstance(logger, str) else logger
    for existing in target.filters:
        if isinstance(existing, RedactingFilter):
            return existing
    installed = RedactingFilter()
    target.addFilter(installed)
    return installed
