"""Intercom Canvas Kit: ``X-Body-Signature``, HMAC-SHA256 of the raw body with the client secret.
Reference: Intercom Canvas Kit §4.1."""

from __future__ import annotations

import hashlib
import hmac

from .base import SignatureError, _HEX64, _any_matches, _require_secret


class IntercomCanvasVerifier:
    """Intercom Canvas Kit requests: ``X-Body-Signature`` = hex HMAC-SHA256 of the body with the
    app's client secret.

    The scheme has no timestamp, so it gives no replay protection; Herald's idempotency keys do.
    """

    HEADER = "X-Body-Signature"

    def __init__(self, client_secret: str) -> None:
        self._key = _require_secret(client_secret, "Intercom client secret")

    def verify(self, body: bytes, signature_header: str | None) -> None:
        """Check the header against the raw body; hex digits are accepted in either case."""
        if signature_header is None or not signature_header.strip():
            raise SignatureError(f"missing {self.HEADER} header")
        given = signature_header.strip()
        if not _HEX64.fullmatch(given):
            raise SignatureError(f"malformed {self.HEADER} header (expected 64 hex characters)")
        expected = hmac.new(self._key, body, hashlib.sha256).hexdigest()
        if not _any_matches([expected], given.lower()):
            raise SignatureError("signature does not match")
