"""Short-lived tokens: HubSpot compose links, OAuth install states (HubSpot and Intercom) and the
compose page's CSRF value.

One home for every token Herald mints and checks, so a change to how they are signed or how long
they live is made here. Times come from an injected clock (never PyJWT's), so tests and the
service agree on "now". Spending a one-time token (remembering its ``jti``) needs the store and
is the services' job; this module only signs, reads and compares.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

import jwt

Clock = Callable[[], datetime]

COMPOSE_TTL = timedelta(minutes=15)
CLASSIC_COMPOSE_TTL = timedelta(minutes=30)  # a classic card's link is minted when the record is viewed
OAUTH_STATE_TTL = timedelta(minutes=15)
INTERCOM_STATE_LIFETIME = 600  # seconds an Intercom install may take between start and callback
COMPOSE_AUDIENCE = "herald:hubspot-compose"
OAUTH_AUDIENCE = "herald:hubspot-oauth"
MAX_TOKEN_LENGTH = 4096


@dataclass(frozen=True)
class ComposeGrant:
    """What a compose link allows: one send, to one contact of one portal, on behalf of one user."""

    portal_id: str
    contact_id: str
    user_id: str
    user_email: str
    jti: str
    expires_at: datetime

    @property
    def requested_by(self) -> str:
        if self.user_email:
            return self.user_email
        return f"hubspot-user:{self.user_id}" if self.user_id else f"hubspot-portal:{self.portal_id}"


class ComposeLinkError(Exception):
    """A compose link that cannot be used, with the sentence the page shows."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class StateError(Exception):
    """An OAuth state that cannot be accepted; ``code`` is "invalid", "expired" or "browser"."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class CheckedState:
    """A HubSpot OAuth state that holds: its id, which the caller spends once."""

    jti: str


class HubSpotTokens:
    """Compose tokens and OAuth states for HubSpot, signed with a key derived from SECRET_KEY."""

    def __init__(self, secret_key: str, clock: Clock) -> None:
        # A key for HubSpot links and states alone: no other token Herald signs verifies here.
        self._key = hmac.new(str(secret_key).encode(), b"herald/hubspot/tokens", hashlib.sha256).digest()
        self._clock = clock

    # ------------------------------------------------------------------ compose links

    def issue_compose(self, portal_id: str, contact_id: str, user_id: str = "", user_email: str = "",
                      ttl: timedelta = COMPOSE_TTL) -> str:
        """A signed, short-lived token naming the portal, the contact and the HubSpot user."""
        now = self._clock()
        claims = {"aud": COMPOSE_AUDIENCE, "portal": str(portal_id), "contact": str(contact_id),
                  "uid": str(user_id or ""), "email": str(user_email or ""), "iat": int(now.timestamp()),
                  "exp": int((now + ttl).timestamp()), "jti": "hsc_" + secrets.token_urlsafe(18)}
        return jwt.encode(claims, self._key, algorithm="HS256")

    def read_compose(self, token: str | None) -> ComposeGrant:
        """The grant a compose token carries, or :class:`ComposeLinkError` (invalid or expired)."""
        claims = self._decode(token, COMPOSE_AUDIENCE, ("portal", "contact", "jti", "exp"))
        if claims is None:
            raise ComposeLinkError("This link is not a valid Herald compose link. Close this window and open it "
                                   "again from the contact card.", "invalid")
        expires_at = datetime.fromtimestamp(int(claims["exp"]), timezone.utc)
        if self._clock() >= expires_at:
            raise ComposeLinkError("This compose window has expired. Close it and choose Send message on the "
                                   "contact card again.", "expired")
        return ComposeGrant(str(claims["portal"]), str(claims["contact"]), str(claims.get("uid") or ""),
                            str(claims.get("email") or ""), str(claims["jti"]), expires_at)

    # ------------------------------------------------------------------ OAuth state

    def issue_state(self) -> tuple[str, str]:
        """A one-time state for the authorize redirect, and the nonce the installer's browser keeps."""
        nonce = secrets.token_urlsafe(24)
        now = self._clock()
        state = jwt.encode({"aud": OAUTH_AUDIENCE, "nonce": nonce, "iat": int(now.timestamp()),
                            "exp": int((now + OAUTH_STATE_TTL).timestamp()),
                            "jti": "hso_" + secrets.token_urlsafe(18)}, self._key, algorithm="HS256")
        return state, nonce

    def check_state(self, state: str | None, nonce: str | None) -> CheckedState:
        """The state must be ours, fresh and started in this browser; :class:`StateError` otherwise."""
        claims = self._decode(state, OAUTH_AUDIENCE, ("nonce", "jti", "exp"))
        if claims is None:
            raise StateError("invalid")
        if self._clock().timestamp() >= int(claims["exp"]):
            raise StateError("expired")
        if not nonce or not secrets.compare_digest(str(claims["nonce"]), nonce):
            raise StateError("browser")
        return CheckedState(str(claims["jti"]))

    def _decode(self, token: str | None, audience: str, required: tuple[str, ...]) -> dict[str, Any] | None:
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        try:
            # Times are checked against the injected clock, not PyJWT's.
            return jwt.decode(token, self._key, algorithms=["HS256"], audience=audience,
                              options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                       "require": list(required)})
        except jwt.PyJWTError:
            return None


# --------------------------------------------------------------------------- CSRF


def csrf_value(secret_key: str, jti: str) -> str:
    """The compose page's anti-forgery value: only Herald can derive it from the token it issued."""
    return hmac.new(secret_key.encode(), f"hubspot-compose-csrf:{jti}".encode(), hashlib.sha256).hexdigest()


def csrf_matches(secret_key: str, jti: str, given: str) -> bool:
    """Constant-time check of a posted CSRF value against the one the token's id derives."""
    return hmac.compare_digest(given.encode(), csrf_value(secret_key, jti).encode())


# --------------------------------------------------------------------------- Intercom OAuth state


def intercom_state(clock: Clock) -> tuple[str, dict[str, Any]]:
    """A fresh Intercom install state and what the installer's (signed) session keeps of it."""
    state = secrets.token_urlsafe(24)
    return state, {"value": state, "at": int(clock().timestamp())}


def intercom_state_matches(saved: Mapping[str, Any] | Any, given: str, clock: Clock,
                           lifetime: int = INTERCOM_STATE_LIFETIME) -> bool:
    """Whether the callback's state is the one this browser kept, within its lifetime."""
    if not isinstance(saved, Mapping) or not given:
        return False
    fresh = int(clock().timestamp()) - int(saved.get("at", 0)) <= lifetime
    return fresh and hmac.compare_digest(str(saved.get("value", "")), given)
