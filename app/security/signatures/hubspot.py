"""HubSpot request signatures: v3 (HMAC-SHA256 over method, URI, body and timestamp) and v2 for
legacy cards. Reference: HubSpot §2."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from urllib.parse import unquote

from .base import Clock, SignatureError, _B64_SHA256, _HEX64, _any_matches, _describe_age, _hmac_sha256, _require_max_age, _require_secret, request_url


_HUBSPOT_V3_ESCAPES = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_HUBSPOT_V3_ESCAPE_RE = re.compile("|".join(_HUBSPOT_V3_ESCAPES), re.IGNORECASE)


def _decode_hubspot_v3_escapes(uri: str) -> str:
    """Decode only the escapes HubSpot's v3 recipe lists; everything else (%20, %26, %3D, %2B, %25…)
    stays encoded.

    Hex digits in an escape are case-insensitive (RFC 3986), so ``%3a`` decodes like ``%3A``. The
    result contains no listed escape, so decoding twice gives the same URI.
    """
    return _HUBSPOT_V3_ESCAPE_RE.sub(lambda match: _HUBSPOT_V3_ESCAPES[match.group(0).upper()], uri)


def hubspot_v3_uri(public_base_url: str, path: str, query_string: str | bytes) -> str:
    """The URI HubSpot's v3 signature covers: the public URL with HubSpot's listed escapes decoded."""
    return _decode_hubspot_v3_escapes(request_url(public_base_url, path, query_string))


# --------------------------------------------------------------------------- HubSpot


class HubSpotV3Verifier:
    """HubSpot v3: ``X-HubSpot-Signature-v3`` = base64 HMAC-SHA256 of method + URI + body + timestamp.

    The timestamp (``X-HubSpot-Request-Timestamp``, epoch milliseconds) must lie within
    ``max_age_seconds`` of now, in the past or the future, so a captured request cannot be replayed
    later and a forged future timestamp cannot extend its life.
    """

    SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
    TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"

    def __init__(
        self,
        client_secret: str,
        clock: Clock = time.time,
        max_age_seconds: float = 300,
    ) -> None:
        self._key = _require_secret(client_secret, "HubSpot client secret")
        self._clock = clock
        self._max_age = _require_max_age(max_age_seconds)

    def verify(
        self,
        method: str,
        uri: str,
        body: bytes,
        signature: str | None,
        timestamp: str | None,
    ) -> None:
        """Check a v3 signature.

        ``uri`` is the full URI HubSpot called (build it with :func:`hubspot_v3_uri`); HubSpot's
        listed escapes are decoded here as well, so a raw URI works too.
        """
        if signature is None or not signature.strip():
            raise SignatureError(f"missing {self.SIGNATURE_HEADER} header")
        if timestamp is None or not timestamp.strip():
            raise SignatureError(f"missing {self.TIMESTAMP_HEADER} header")
        timestamp = timestamp.strip()
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 16):
            raise SignatureError(
                f"malformed {self.TIMESTAMP_HEADER} header (expected epoch milliseconds)"
            )
        self._check_window(int(timestamp))
        given = signature.strip()
        if not _B64_SHA256.fullmatch(given):
            raise SignatureError(f"malformed {self.SIGNATURE_HEADER} header (expected base64)")
        message = (
            method.encode("utf-8")
            + _decode_hubspot_v3_escapes(uri).encode("utf-8")
            + body
            + timestamp.encode("ascii")
        )
        expected = base64.b64encode(_hmac_sha256(self._key, message)).decode("ascii")
        if not _any_matches([expected], given):
            raise SignatureError("signature does not match")

    def _check_window(self, timestamp_ms: int) -> None:
        age_ms = self._clock() * 1000 - timestamp_ms
        limit_ms = self._max_age * 1000
        if age_ms > limit_ms:
            raise SignatureError(f"timestamp is older than {_describe_age(self._max_age)}")
        if -age_ms > limit_ms:
            raise SignatureError(
                f"timestamp is more than {_describe_age(self._max_age)} in the future"
            )


class HubSpotV2Verifier:
    """HubSpot v2 (legacy CRM card fetches and action hooks): ``X-HubSpot-Signature`` = hex
    SHA-256 of client secret + method + URI + body.

    HubSpot does not say whether the URI is hashed raw or percent-decoded when the query holds
    escapes such as ``%40`` (its own sample decodes it), so both forms of the query are accepted.
    The path is always taken as sent, as for every other scheme that signs a URL.
    """

    SIGNATURE_HEADER = "X-HubSpot-Signature"
    VERSION_HEADER = "X-HubSpot-Signature-Version"

    def __init__(self, client_secret: str) -> None:
        self._secret = _require_secret(client_secret, "HubSpot client secret")

    def verify(self, method: str, uri: str, body: bytes, signature: str | None) -> None:
        """Check a v2 signature; ``uri`` is the full raw URI HubSpot called (see :func:`request_url`)."""
        if signature is None or not signature.strip():
            raise SignatureError(f"missing {self.SIGNATURE_HEADER} header")
        given = signature.strip()
        if not _HEX64.fullmatch(given):
            raise SignatureError(
                f"malformed {self.SIGNATURE_HEADER} header (expected 64 hex characters)"
            )
        candidates = [uri]
        before, mark, query = uri.partition("?")
        decoded = before + mark + unquote(query)
        if decoded != uri:
            candidates.append(decoded)
        prefix = self._secret + method.encode("utf-8")
        expected = [
            hashlib.sha256(prefix + candidate.encode("utf-8") + body).hexdigest()
            for candidate in candidates
        ]
        if not _any_matches(expected, given.lower()):
            raise SignatureError("signature does not match")
