"""Which HubSpot signature a request carries, and checking it over the URL HubSpot actually called.

HubSpot signs the public URL (reference/hubspot.md §2). Behind a proxy or TLS terminator the
internal host and scheme differ, so the URL is rebuilt from ``PUBLIC_BASE_URL`` plus the raw,
still percent-encoded path and query in their original order. v3 (``hubspot.fetch``, legacy cards
too) is checked whenever present; v2 alone is accepted from legacy callers; v1 never.
"""

from __future__ import annotations

from typing import Callable

from werkzeug.wrappers import Request

from ...security.signatures import (
    HubSpotV2Verifier,
    HubSpotV3Verifier,
    SignatureError,
    hubspot_v3_uri,
    request_url,
)


def raw_path(request: Request) -> str:
    """The path as the client sent it (percent-encoding intact), below the application root."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    path = raw.split("?", 1)[0] if raw.startswith("/") else ""
    if not path:
        return request.script_root + request.path
    root = request.script_root
    return path[len(root):] if root and path.startswith(root + "/") else path


def verify_request(request: Request, client_secret: str, public_base_url: str,
                   clock: Callable[[], float]) -> str:
    """Verify the request's HubSpot signature; returns "v3" or "v2", raises :class:`SignatureError`."""
    if not client_secret:
        raise SignatureError("HUBSPOT_CLIENT_SECRET is not configured, so no request can be verified")
    body = request.get_data(cache=True)
    query = request.environ.get("QUERY_STRING", "")
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
    HubSpotV2Verifier(client_secret).verify(request.method, request_url(public_base_url, path, query), body, legacy)
    return "v2"
