"""POST /intercom/initialize and /intercom/submit (Canvas Kit), and the install routes.

Canvas Kit requests are verified over the raw body before any JSON is read; a missing or wrong
``X-Body-Signature`` gets a 401 whose JSON body says why. Past that point every answer is 200 with a canvas, even
when something fails, because Intercom shows only "Something went wrong" for anything else.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

from flask import Blueprint, Response, jsonify, redirect, request, session

from ...security.signatures import IntercomCanvasVerifier, SignatureError
from ...services import installs
from ...services import intercom as intercom_service
from ...services.context import Context
from .. import ctx
from ..jsonbody import BadJson, read_json
from . import screens, steps
from .payload import CanvasRequest, parse

log = logging.getLogger(__name__)

bp = Blueprint("intercom", __name__, url_prefix="/intercom")

STATE_KEY = "intercom_oauth_state"


def install_url(context: Context) -> str:
    return installs.intercom_install_url(context)


def _too_large(context: Context) -> bool:
    limit = context.config.max_body_bytes
    return request.content_length is not None and request.content_length > limit


def unverified(reason: str) -> Response:
    """The 401 for a request Herald could not verify, saying why (as HubSpot's surface does)."""
    response = jsonify(error=f"Herald could not verify that this request comes from Intercom ({reason}).")
    response.status_code = 401
    return response


def _signed_body(context: Context) -> tuple[bytes | None, Response | None]:
    """The raw body when its signature holds; otherwise the response to give instead."""
    if _too_large(context):
        return None, Response(status=413)
    raw = request.get_data(cache=True)
    if len(raw) > context.config.max_body_bytes:
        return None, Response(status=413)
    if not context.config.intercom_client_secret:
        log.error("INTERCOM_CLIENT_SECRET is not configured: Canvas Kit requests cannot be verified")
        return None, unverified("INTERCOM_CLIENT_SECRET is not configured, so no request can be verified")
    try:
        IntercomCanvasVerifier(context.config.intercom_client_secret).verify(
            raw, request.headers.get(IntercomCanvasVerifier.HEADER))
    except SignatureError as error:
        log.info("Canvas Kit request to %s refused: %s", request.path, error.reason)
        return None, unverified(error.reason)
    return raw, None


def _canvas_endpoint(step: Callable[[Context, CanvasRequest, str], dict[str, Any]]) -> Response:
    context = ctx()
    raw, refusal = _signed_body(context)
    if refusal is not None:
        return refusal
    stored: dict[str, Any] = {}
    try:
        req = parse(json.loads(raw or b"null"))
        stored = dict(req.stored)
        answer = step(context, req, install_url(context))
    except Exception:  # an answer that is not a canvas shows only "Something went wrong" in Intercom
        log.exception("Canvas Kit request to %s failed", request.path)
        answer = screens.problem("Herald could not complete this step. Check the recent messages before "
                                 "trying again, and tell your Herald operator if it keeps happening.", stored)
    return jsonify(answer)


@bp.post("/initialize")
def initialize() -> Response:
    return _canvas_endpoint(steps.initialize)


@bp.post("/submit")
def submit() -> Response:
    return _canvas_endpoint(steps.submit)


# --------------------------------------------------------------------------- install


@bp.get("/oauth/start")
def oauth_start() -> Response:
    """The App Store's direct installation URL: remember a state in this browser, go to Intercom."""
    authorize, kept = installs.intercom_start(ctx())
    session[STATE_KEY] = kept
    return redirect(authorize)


def _state_matches(context: Context, given: str) -> bool:
    return installs.intercom_state_holds(context, session.pop(STATE_KEY, None), given)


@bp.get("/oauth/callback")
def oauth_callback() -> Response:
    """Intercom sends the admin back with a code: exchange it, bind the token, go back to Intercom."""
    context = ctx()
    if request.args.get("error"):
        reason = request.args.get("error_description") or request.args.get("error") or ""
        return redirect(intercom_service.install_redirect(False, f"Intercom did not authorise Herald ({reason})."))
    if not _state_matches(context, request.args.get("state", "")):
        return redirect(intercom_service.install_redirect(
            False, "The install link expired or was opened in another browser; start the install again."))
    code = request.args.get("code", "")
    if not code:
        return redirect(intercom_service.install_redirect(False, "Intercom sent no authorisation code."))
    try:
        installs.install_intercom(context, code)
    except intercom_service.IntercomError as error:
        log.warning("Intercom install failed: %s", error)
        return redirect(intercom_service.install_redirect(False, f"Herald could not finish the install: {error}."))
    return redirect(intercom_service.install_redirect(True))


@bp.post("/uninstall")
def uninstall() -> Response:
    """Intercom's uninstall notice ``{"app_id": …}``: forget the workspace's token.

    Whether Intercom signs this notice is unconfirmed: a signature, when present, must hold (401
    otherwise); an unsigned notice is checked with Intercom before anything is removed.
    """
    context = ctx()
    if _too_large(context):
        return Response(status=413)
    raw = request.get_data(cache=True)
    header = request.headers.get(IntercomCanvasVerifier.HEADER)
    if header is not None:
        if not context.config.intercom_client_secret:
            return unverified("INTERCOM_CLIENT_SECRET is not configured, so no request can be verified")
        try:
            IntercomCanvasVerifier(context.config.intercom_client_secret).verify(raw, header)
        except SignatureError as error:
            log.info("uninstall notice refused: %s", error.reason)
            return unverified(error.reason)
    try:
        body = read_json(raw) if raw.strip() else {}
    except BadJson as error:
        return jsonify(error="payload", message=error.message), 400
    body = body if isinstance(body, dict) else {}
    workspace_id = str(body.get("app_id") or body.get("workspace_id") or "").strip()
    removed = bool(workspace_id) and installs.uninstall_intercom(context, workspace_id,
                                                                   signed=header is not None)
    return jsonify({"removed": removed})
