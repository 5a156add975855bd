"""Meta (WhatsApp Cloud API) webhooks: ``X-Hub-Signature-256``, HMAC-SHA256 of the raw body with the
app secret. Reference: providers §1.7.2."""

from __future__ import annotations

import hashlib
import hmac

from .base import SignatureError, _HEX64, _any_matches, _require_secret


class MetaVerifier:
    """Meta webhooks: ``X-Hub-Signature-256: sha256=<hex>``, HMAC-SHA256 of the body with the app secret."""

    HEADER = "X-Hub-Signature-256"
    _PREFIX = "sha256="

    def __init__(self, app_secret: str) -> None:
        self._key = _require_secret(app_secret, "Meta app secret")

    def verify(self, body: bytes, header: str | None) -> None:
        """Check the header against the raw body."""
        if header is None or not header.strip():
            raise SignatureError(f"missing {self.HEADER} header")
        value = header.strip()
        if value[: len(self._PREFIX)].lower() != self._PREFIX:
            raise SignatureError(f"malformed {self.HEADER} header (expected sha256=<hex>)")
        given = value[len(self._PREFIX) :]
        if not _HEX64.fullmatch(given):
            raise SignatureError(f"malformed {self.HEADER} header (expected sha256=<hex>)")
        expected = hmac.new(self._key, body, hashlib.sha256).hexdigest()
        if not _any_matches([expected], given.lower()):
            raise SignatureError("signature does not match")
