"""Secrets that travel in URLs, kept out of every log line.

Meta's subscription check carries ``hub.verify_token``, the compose page its token, OAuth callbacks
their ``code`` and ``state``: an access log that prints the request line would keep them. Every
log line Herald or its server writes passes through :func:`redact_query` first.
"""

from __future__ import annotations

import logging
import re

# Query parameters whose values are secrets, matched case-insensitively on the name.
SECRET_PARAMS = ("hub.verify_token", "token", "compose_token", "code", "state", "access_token",
                 "refresh_token", "client_secret", "api_key", "signature", "id_token")
_PARAM = re.compile(r"(?i)([?&;](?:%s)=)[^&#\s\"']*" % "|".join(re.escape(p) for p in SECRET_PARAMS))
REDACTED = "[redacted]"


def redact_query(url_or_path: str) -> str:
    """The URL, path or log text with the values of secret query parameters replaced."""
    if "=" not in url_or_path:
        return url_or_path
    return _PARAM.sub(lambda m: m.group(1) + REDACTED, url_or_path)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message and string arguments through :func:`redact_query`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_query(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_query(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact_query(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True
