"""The URL a provider or host signed, rebuilt from the request as it arrived.

Twilio and HubSpot sign the URL they called. Herald decides on that URL exactly as sent: the
configured public origin (``PUBLIC_BASE_URL``, since behind a proxy the internal host and scheme
differ) followed by the raw path and the raw query, with nothing decoded (``%74`` stays ``%74``),
nothing collapsed (``//`` stays ``//``) and nothing added or removed (a trailing slash is part of it).
A signature over any other spelling of the URL does not verify. The one documented exception is
HubSpot's own: v3 decodes its listed escapes on both sides (see the verifiers).
"""

from __future__ import annotations

from werkzeug.wrappers import Request

from ..security.signatures import request_url


def raw_path(request: Request) -> str:
    """The path as the client sent it (percent-encoding intact), below the application root."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    path = raw.split("?", 1)[0] if raw.startswith("/") else ""
    if not path:
        return request.script_root + request.path
    root = request.script_root
    return path[len(root):] if root and path.startswith(root + "/") else path


def raw_query(request: Request) -> str:
    """The query string as sent, parameters in their order, percent-encoding intact."""
    return request.environ.get("QUERY_STRING", "")


def signed_url(request: Request, public_base_url: str) -> str:
    """The public URL the caller called, as it sent it (see the module's note)."""
    return request_url(public_base_url, raw_path(request), raw_query(request))
