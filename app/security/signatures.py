"""Signature verifiers for every caller that signs its requests to Herald.

One class per signature scheme. Each works on the raw body bytes exactly as received (re-serialised
JSON never matches), compares in constant time, and takes its clock as a parameter so timestamp
windows are testable. ``verify`` returns on success and raises :class:`SignatureError` with a short
reason a person can read otherwise. No Flask here: the web layer hands over bytes and header values.

Protocol facts and their sources are in the reference notes: Intercom Canvas Kit §4.1, HubSpot §2,
providers §1.7.2 (Meta), §2.5 (Twilio) and §3.2.5 (Vonage).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt

Clock = Callable[[], float]
"""Returns the current unix time in seconds; ``time.time`` outside tests."""

TwilioParams = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]
"""Form parameters as pairs (duplicates allowed), a mapping, or a multi-dict with ``getlist``."""

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


def twilio_url(public_base_url: str, path: str, query_string: str | bytes) -> str:
    """The URL Twilio signed: the public URL with its query string, exactly as configured there."""
    return request_url(public_base_url, path, query_string)


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


# --------------------------------------------------------------------------- Intercom


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


# --------------------------------------------------------------------------- Meta (WhatsApp Cloud API)


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


# --------------------------------------------------------------------------- Twilio


def _group_twilio_params(params: TwilioParams | None) -> dict[str, set[str]]:
    """Collect every value of every parameter name; Twilio signs each distinct value once."""
    grouped: dict[str, set[str]] = {}
    if params is None:
        return grouped
    if isinstance(params, Mapping):
        getlist = getattr(params, "getlist", None)
        for name in params.keys():
            if callable(getlist):
                values: Iterable[str] = getlist(name)
            else:
                raw = params[name]
                values = [raw] if isinstance(raw, str) else raw
            grouped.setdefault(name, set()).update(values)
    else:
        for name, value in params:
            grouped.setdefault(name, set()).add(value)
    return grouped


def _twilio_url_variants(url: str) -> list[str]:
    """The URL as given, without its port, and with the scheme's default port.

    Twilio's own signing is inconsistent about ports, so its SDK accepts the URL with and without
    the port; Herald accepts the same set.
    """
    variants = [url]
    scheme, separator, rest = url.partition("://")
    if not separator:
        return variants
    end = len(rest)
    for delimiter in "/?#":
        position = rest.find(delimiter)
        if position != -1:
            end = min(end, position)
    netloc, tail = rest[:end], rest[end:]
    try:
        port = urlsplit(url).port
    except ValueError:
        return variants
    if port is not None:
        variants.append(f"{scheme}://{netloc[: netloc.rfind(':')]}{tail}")
    elif scheme.lower() in _DEFAULT_PORTS:
        variants.append(f"{scheme}://{netloc}:{_DEFAULT_PORTS[scheme.lower()]}{tail}")
    return variants


class TwilioVerifier:
    """Twilio webhooks: ``X-Twilio-Signature`` = base64 HMAC-SHA1 of the URL followed by each POST
    parameter name and value, names sorted, each name's distinct values sorted.

    JSON-bodied requests instead carry ``bodySHA256`` in the URL's query: the body's SHA-256 must
    equal it, and the signature covers the URL alone.
    """

    HEADER = "X-Twilio-Signature"

    def __init__(self, auth_token: str) -> None:
        self._key = _require_secret(auth_token, "Twilio auth token")

    def verify(
        self,
        url: str,
        params: TwilioParams | None,
        signature: str | None,
        body: bytes | None = None,
    ) -> None:
        """Check a Twilio signature.

        ``url`` is the full URL Twilio called, query included (see :func:`twilio_url`). ``params``
        are the form-encoded POST parameters (pass none for GET requests, whose parameters are
        already in the URL). ``body`` is the raw body, needed only when the URL carries
        ``bodySHA256``.
        """
        if signature is None or not signature.strip():
            raise SignatureError(f"missing {self.HEADER} header")
        given = signature.strip()
        if not _B64_SHA1.fullmatch(given):
            raise SignatureError(f"malformed {self.HEADER} header (expected base64)")

        body_hashes = [
            value
            for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True)
            if name == "bodySHA256"
        ]
        if body_hashes:
            if len(body_hashes) > 1:
                raise SignatureError("the URL carries more than one bodySHA256 parameter")
            if not _HEX64.fullmatch(body_hashes[0]):
                raise SignatureError("malformed bodySHA256 parameter (expected 64 hex characters)")
            if body is None:
                raise SignatureError("the URL carries bodySHA256 but the request body is missing")
            actual = hashlib.sha256(body).hexdigest()
            if not _any_matches([actual], body_hashes[0].lower()):
                raise SignatureError("the body does not match its bodySHA256 hash")
            grouped: dict[str, set[str]] = {}
        else:
            grouped = _group_twilio_params(params)

        suffix = "".join(name + value for name in sorted(grouped) for value in sorted(grouped[name]))
        expected = [
            base64.b64encode(
                hmac.new(self._key, (variant + suffix).encode("utf-8"), hashlib.sha1).digest()
            ).decode("ascii")
            for variant in _twilio_url_variants(url)
        ]
        if not _any_matches(expected, given):
            raise SignatureError("signature does not match")


# --------------------------------------------------------------------------- Vonage


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
