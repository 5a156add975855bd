"""Which HubSpot signature a request carries, and checking it over the URL HubSpot actually called.

HubSpot signs the public URL (reference/hubspot.md §2); it is rebuilt exactly as Twilio's is
(:mod:`app.web.urls`): ``PUBLIC_BASE_URL`` plus the raw, still percent-encoded path and query in
their original order. v3 (``hubspot.fetch``, legacy cards too) is checked whenever present; v2
alone is accepted from legacy callers; v1 never.
"""

from __future__ import annotations

from typing import Callable

from werkzeug.wrappers import Request

from ...security.signatures import (
    HubSpotV2Verifier,
    HubSpotV3Verifier,
    SignatureError,
    hubspot_v3_uri,
)
from ..urls import raw_path, raw_query, signed_url


def verify_request(request: Request, client_secret: str, public_base_url: str,
                   clock: Callable[[], float]) -> str:
    """Verify the request's HubSpot signature; returns "v3" or "v2", raises :class:`SignatureError`."""
    if not client_secret:
        raise SignatureError("HUBSPOT_CLIENT_SECRET is not configured, so no request can be verified")
    body = request.get_data(cache=True)
    query = raw_query(request)
    path = raw_path(request)
    v3 = request.headers.get(HubSpotV3Verifier.SIGNATURE_HEADER)
    if v3 is not None:
        HubSpotV3Verifier(client_secret, clock=clock).verify(
            request.method, hubspot_v3_uri(public_base_url, path, query), body, v3,
            request.headers.get(HubSpotV3Verifier.TIMESTAMP_HEADER))
        return "v3"
    legacy = request.headers.get(HubSpotV2Verifier.SIGNATURE_HEADER)
    if legacy is None:
        raise SignatureError(f"missing {HubSpotV3Verifier.SIGNATURE_HEADER} header")
    version = (request.headers.get(HubSpotV2Verifier.VERSION_HEADER) or "").strip().lower()
    if version != "v2":
        raise SignatureError(f"signature version {version or 'v1'!r} is not accepted here (v3 or v2 only)")
    HubSpotV2Verifier(client_secret).verify(request.method, signed_url(request, public_base_url), body, legacy)
    return "v2"
