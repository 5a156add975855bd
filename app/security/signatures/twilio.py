"""Twilio webhooks: ``X-Twilio-Signature``, HMAC-SHA1 over the URL Twilio called and the sorted form
parameters (or ``bodySHA256`` for JSON bodies). Reference: providers §2.5."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import parse_qsl, urlsplit

from .base import SignatureError, _B64_SHA1, _DEFAULT_PORTS, _HEX64, _any_matches, _require_secret, request_url

TwilioParams = Mapping[str, str | Sequence[str]] | Iterable[tuple[str, str]]
"""Form parameters as pairs (duplicates allowed), a mapping, or a multi-dict with ``getlist``."""


def twilio_url(public_base_url: str, path: str, query_string: str | bytes) -> str:
    """The URL Twilio signed: the public URL with its query string, exactly as configured there."""
    return request_url(public_base_url, path, query_string)


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
