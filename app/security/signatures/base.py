"""What every verifier shares: the error, the clock, constant-time comparison, and the public URL a
signed request was sent to, rebuilt from ``PUBLIC_BASE_URL`` and the raw path and query."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable


Clock = Callable[[], float]
"""Returns the current unix time in seconds; ``time.time`` outside tests."""

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_B64_SHA256 = re.compile(r"[A-Za-z0-9+/]{43}=")
_B64_SHA1 = re.compile(r"[A-Za-z0-9+/]{27}=")
_DEFAULT_PORTS = {"https": 443, "http": 80}


class SignatureError(Exception):
    """A request's signature could not be verified; ``reason`` says why in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason: str = reason


def _require_secret(secret: str, what: str) -> bytes:
    """Refuse a blank secret: an empty HMAC key would let anyone sign."""
    if not secret or not secret.strip():
        raise ValueError(f"{what} must not be empty")
    return secret.encode("utf-8")


def _require_max_age(max_age_seconds: float) -> float:
    """A window of zero or less would refuse every request, which is a configuration mistake."""
    if max_age_seconds <= 0:
        raise ValueError("max_age_seconds must be positive")
    return float(max_age_seconds)


def _describe_age(seconds: float) -> str:
    """Say a window length the way a person would ("5 minutes", "90 seconds")."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
    whole = int(seconds) if float(seconds).is_integer() else seconds
    return f"{whole} second" if whole == 1 else f"{whole} seconds"


def _any_matches(expected: Iterable[str], given: str) -> bool:
    """Constant-time comparison of ``given`` against each candidate (all candidates are checked)."""
    given_bytes = given.encode("ascii")
    results = [hmac.compare_digest(candidate.encode("ascii"), given_bytes) for candidate in expected]
    return any(results)


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


# --------------------------------------------------------------------------- URL reconstruction


def request_url(public_base_url: str, path: str, query_string: str | bytes) -> str:
    """Rebuild the URL a host called from ``PUBLIC_BASE_URL``, the raw path and the raw query string.

    Signatures that cover the URL break behind proxies and TLS terminators when the URL is taken
    from the internal Host and scheme, so it is rebuilt from the configured public origin. ``path``
    is the still percent-encoded path below that origin; ``query_string`` is the raw query without
    its leading ``?``, parameters in their original order.
    """
    if isinstance(query_string, bytes):
        try:
            query_string = query_string.decode("utf-8")
        except UnicodeDecodeError:
            query_string = query_string.decode("latin-1")
    if not path.startswith("/"):
        path = "/" + path
    url = public_base_url.rstrip("/") + path
    return f"{url}?{query_string}" if query_string else url
