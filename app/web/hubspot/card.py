"""GET /hubspot/card: the contact card's data, for ``hubspot.fetch`` (v3) and legacy cards (v2/v3).

``?portalId=..&contactId=..`` answers the app card's JSON; ``&action=compose_link`` a short-lived
compose URL. A legacy data fetch (``associatedObjectId``, ``associatedObjectType``) answers the
classic ``results`` format. HubSpot may add its own parameters (``appId``, ``userId``,
``userEmail``…); they are covered by the signature and otherwise only ``userId``/``userEmail`` are read.
"""

from __future__ import annotations

from flask import jsonify, request
from werkzeug.datastructures import MultiDict

from ...security.signatures import SignatureError
from ...services import hubspot as hs
from .. import ctx
from . import bp
from .classic import classic_card
from .verify import verify_request


def json_error(message: str, status: int):
    response = jsonify(error=message)
    response.status_code = status
    return response


def single(args: MultiDict, name: str) -> str | None:
    """One parameter's value; HubSpot appending a parameter the URL already has is fine if they agree."""
    values = {v.strip() for v in args.getlist(name)}
    if len(values) > 1:
        raise ValueError(f"The request names more than one {name}.")
    if any("\x00" in v or len(v) > 256 for v in values):  # no id has these; the database may refuse them
        raise ValueError(f"The request's {name} is not an id.")
    return values.pop() if values else None


@bp.get("/card")
def card():
    c = ctx()
    try:
        version = verify_request(request, c.config.hubspot_client_secret, c.config.public_base_url,
                                 lambda: c.now().timestamp())
    except SignatureError as error:
        return json_error(f"Herald could not verify that this request comes from HubSpot ({error.reason}).", 401)
    args = request.args
    if version != "v3" and args.get("action") == "compose_link":
        # A v2 signature never expires, so a captured request could mint send links forever.
        return json_error("Compose links are issued only to requests signed with HubSpot's v3 signature.", 401)
    try:
        portal_id = single(args, "portalId") or ""
        contact_id = single(args, "contactId")
        classic = contact_id is None and "associatedObjectId" in args
        if classic:
            kind = (single(args, "associatedObjectType") or "CONTACT").upper()
            if kind != "CONTACT":
                return json_error("Herald's card belongs on contact records only.", 400)
            contact_id = single(args, "associatedObjectId")
        user_id, user_email = single(args, "userId") or "", single(args, "userEmail") or ""
    except ValueError as error:
        return json_error(str(error), 400)
    contact_id = contact_id or ""
    action = args.get("action", "")
    if action == "compose_link":
        return _compose_link(c, portal_id, contact_id, user_id, user_email)
    if action:
        return json_error(f"Herald's card has no action “{action[:40]}”.", 400)
    try:
        data = hs.card_data(c, portal_id, contact_id)
    except hs.HubSpotError as error:
        return json_error(error.message, error.status)
    if classic:
        uri = None
        if not data["setup"]["needed"]:
            uri = hs.compose_url(c, hs.issue_compose_token(c, portal_id, contact_id, user_id, user_email,
                                                           ttl=hs.CLASSIC_COMPOSE_TTL))
        return jsonify(classic_card(data, uri))
    return jsonify(data)


def _compose_link(c, portal_id: str, contact_id: str, user_id: str, user_email: str):
    if not (hs.valid_record_id(portal_id) and hs.valid_record_id(contact_id)):
        return json_error("A compose link needs a HubSpot account (portalId) and a numeric contact id.", 400)
    missing = hs.setup_message(c, portal_id, hs.resolve_portal(c, portal_id))
    if missing:
        return json_error(missing, 409)
    token = hs.issue_compose_token(c, portal_id, contact_id, user_id, user_email)
    return jsonify(compose_url=hs.compose_url(c, token))


@bp.after_request
def _no_store(response):
    """Card answers and pages name customers: never cached, never sniffed."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response
