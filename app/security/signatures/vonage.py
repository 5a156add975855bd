"""Vonage Messages API signed webhooks: a JWT (HS256) whose ``payload_hash`` binds it to the body.
Reference: providers §3.2.5."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import jwt

from .base import Clock, SignatureError, _HEX64, _any_matches, _describe_age, _require_max_age, _require_secret


class VonageVerifier:
    """Vonage Messages API signed webhooks: ``Authorization: Bearer <JWT>``, HS256 with the account's
    signature secret.

    Only HS256 is accepted (never ``none`` or another algorithm named by the token itself). The
    ``iat`` claim must be within ``max_age_seconds`` of now. ``payload_hash`` is required (Vonage
    always sends it) and must be the SHA-256 hex of the raw body: without it a captured token would
    sign any body. ``jti`` is required too, so the caller can refuse a token seen before; remembering
    the ones seen is the caller's part (this class keeps no state).
    """

    HEADER = "Authorization"
    ALGORITHM = "HS256"

    def __init__(
        self,
        signature_secret: str,
        clock: Clock = time.time,
        max_age_seconds: float = 300,
    ) -> None:
        _require_secret(signature_secret, "Vonage signature secret")
        self._secret = signature_secret
        self._clock = clock
        self._max_age = _require_max_age(max_age_seconds)

    def verify(self, body: bytes, authorization_header: str | None) -> dict[str, Any]:
        """Check the token and return its claims (``api_key`` says which account signed it)."""
        if authorization_header is None or not authorization_header.strip():
            raise SignatureError(f"missing {self.HEADER} header")
        scheme, _, token = authorization_header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise SignatureError(f"malformed {self.HEADER} header (expected Bearer <JWT>)")

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise SignatureError("malformed token (not a JWT)") from None
        algorithm = header.get("alg")
        if algorithm != self.ALGORITHM:
            raise SignatureError(f"token algorithm {algorithm!r} is not allowed (HS256 only)")

        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[self.ALGORITHM],
                options={
                    # Times are checked below against the injected clock, not PyJWT's own.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                    "require": ["iat"],
                },
            )
        except jwt.InvalidSignatureError:
            raise SignatureError("signature does not match") from None
        except jwt.MissingRequiredClaimError:
            raise SignatureError("token has no iat claim") from None
        except jwt.PyJWTError:
            raise SignatureError("malformed token") from None

        self._check_times(claims)
        self._check_payload_hash(claims, body)
        token_id = claims.get("jti")
        if not isinstance(token_id, str) or not 0 < len(token_id.strip()) <= 255:
            raise SignatureError("token has no usable jti claim, so a replay could not be told apart")
        return claims

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self._clock()
        window = _describe_age(self._max_age)
        issued_at = claims.get("iat")
        if not _is_number(issued_at):
            raise SignatureError("token iat claim is not a number")
        if now - issued_at > self._max_age:
            raise SignatureError(f"token is older than {window}")
        if issued_at - now > self._max_age:
            raise SignatureError(f"token iat is more than {window} in the future")
        expires = claims.get("exp")
        if expires is not None:
            if not _is_number(expires):
                raise SignatureError("token exp claim is not a number")
            if now >= expires:
                raise SignatureError("token has expired")
        not_before = claims.get("nbf")
        if not_before is not None:
            if not _is_number(not_before):
                raise SignatureError("token nbf claim is not a number")
            if now < not_before:
                raise SignatureError("token is not valid yet")

    @staticmethod
    def _check_payload_hash(claims: dict[str, Any], body: bytes) -> None:
        if "payload_hash" not in claims:
            raise SignatureError("token has no payload_hash claim, so it does not bind this body")
        claimed = claims["payload_hash"]
        if not isinstance(claimed, str) or not _HEX64.fullmatch(claimed):
            raise SignatureError("token payload_hash claim is not a SHA-256 hex digest")
        actual = hashlib.sha256(body).hexdigest()
        if not _any_matches([actual], claimed.lower()):
            raise SignatureError("the body does not match the token's payload_hash")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
