"""GET /hubspot/oauth/start and /hubspot/oauth/callback: installing Herald in a HubSpot account.

Start sends the installer to HubSpot's authorize page with a one-time state whose nonce is kept in
a short-lived cookie, so a callback is accepted only in the browser that started it. HubSpot's own
install link (from the app's settings) carries no state; such a callback is accepted too, since the
code alone decides which account the tokens belong to.
"""

from __future__ import annotations

from flask import make_response, redirect, render_template, request

from ...security.tokens import OAUTH_STATE_TTL
from ...services import hubspot as hs
from ...services import installs
from .. import ctx
from . import bp

NONCE_COOKIE = "herald_hubspot_install"


def _page(title: str, message: str, status: int, ok: bool = False):
    return render_template("hubspot/installed.html", title=title, message=message, ok=ok), status


@bp.get("/oauth/start")
def oauth_start():
    c = ctx()
    authorize, nonce = installs.hubspot_start(c)
    response = redirect(authorize, code=302)
    response.set_cookie(NONCE_COOKIE, nonce, max_age=int(OAUTH_STATE_TTL.total_seconds()), httponly=True,
                        secure=c.config.public_base_url.startswith("https://"), samesite="Lax",
                        path="/hubspot/oauth")
    return response


@bp.get("/oauth/callback")
def oauth_callback():
    c = ctx()
    if request.args.get("error"):
        reason = request.args.get("error_description") or request.args.get("error")
        return _page("Herald was not installed", f"HubSpot did not grant access: {reason[:200]}. "
                                                 f"You can start again at {hs.install_url(c)}.", 400)
    state = request.args.get("state")
    try:
        if state is not None:
            installs.check_hubspot_state(c, state, request.cookies.get(NONCE_COOKIE))
        installed = installs.install_hubspot(c, request.args.get("code", ""))
    except hs.HubSpotError as error:
        return _page("Herald was not installed", error.message, error.status)
    if installed.workspace_created:
        message = (f"Herald is installed in HubSpot account {installed.portal_id}, in a new workspace "
                   f"“{installed.workspace_name}”. Before agents can send, a Herald operator adds a sender: "
                   f"flask --app app sender add {installed.workspace_name} --channel whatsapp …")
    else:
        message = (f"Herald is installed in HubSpot account {installed.portal_id} for workspace "
                   f"“{installed.workspace_name}”. Add the Herald card to your contact record view to start.")
    response = make_response(_page("Herald is installed", message, 200, ok=True))
    response.delete_cookie(NONCE_COOKIE, path="/hubspot/oauth")
    return response


@bp.after_request
def _install_page_headers(response):
    """Install pages are top-level pages: never framed, no inline script."""
    if request.endpoint in ("hubspot.oauth_start", "hubspot.oauth_callback"):
        response.headers["Content-Security-Policy"] = ("default-src 'none'; script-src 'self'; style-src 'self'; "
                                                       "base-uri 'none'; form-action 'none'; "
                                                       "frame-ancestors 'none'")
        response.headers["Referrer-Policy"] = "no-referrer"
    return response
