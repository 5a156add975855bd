"""/playground/hubspot: the HubSpot contact card as HubSpot would show it, on the demo workspace.

Mounted only in the embedded default (``HERALD_DEMO``). It renders the same card data the signed
``GET /hubspot/card`` answers for the demo portal, and opens the real compose page in a modal
iframe with a real compose token, so everything after the card is the production path.
"""

from __future__ import annotations

import json

from flask import Blueprint, abort, redirect, render_template, request, url_for

from ...services import hubspot as hs
from ...services.demo import DEMO_HUBSPOT_PORTAL
from .. import ctx

bp = Blueprint("hubspot_playground", __name__, url_prefix="/playground/hubspot")

PLAYGROUND_USER = "playground"
PLAYGROUND_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                  "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
                  "frame-ancestors 'self'")


def _contact_id() -> str:
    wanted = request.args.get("contact", "101")
    return wanted if wanted in hs.DEMO_CONTACTS else "101"


@bp.get("")
def playground():
    c = ctx()
    contact_id = _contact_id()
    try:
        card = hs.card_data(c, DEMO_HUBSPOT_PORTAL, contact_id)
    except hs.HubSpotError as error:
        abort(error.status, error.message)
    contacts = [{"id": cid, "name": f"{first} {last}", "note": hs.DEMO_NOTES[cid]}
                for cid, (first, last, _email, _phone) in hs.DEMO_CONTACTS.items()]
    return render_template("playground/hubspot.html", card=card, contacts=contacts, contact_id=contact_id,
                           portal_id=DEMO_HUBSPOT_PORTAL, card_json=json.dumps(card, indent=2, ensure_ascii=False),
                           compose_href=url_for("hubspot_playground.open_compose", contact=contact_id))


@bp.get("/compose")
def open_compose():
    """A fresh compose link for a demo contact, as the card's Send message button fetches one."""
    c = ctx()
    token = hs.issue_compose_token(c, DEMO_HUBSPOT_PORTAL, _contact_id(), PLAYGROUND_USER, "")
    return redirect(url_for("hubspot.compose_page", token=token), code=303)


@bp.after_request
def _headers(response):
    """Every answer under /playground/hubspot, the compose redirect included, may be framed by Herald only."""
    response.headers["Content-Security-Policy"] = PLAYGROUND_CSP
    if request.endpoint == "hubspot_playground.playground":
        response.headers["Cache-Control"] = "no-store"
    return response
