"""POST /api/v1/messages, GET /api/v1/messages/<id>, GET /api/v1/templates — JSON, API keys."""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import Blueprint, g, jsonify, request
from marshmallow import ValidationError

from ...domain import status as st
from ...domain.refusals import Refused
from ...services import apikeys
from ...services.messages import message_with_history
from ...services.send import SendRequest, send
from ...services.workspaces import list_templates
from .. import ctx
from .schemas import SendBody, errors_as_reasons

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(status: int, code: str, message: str, reasons: list[dict[str, str]] | None = None):
    body = {"error": {"code": code, "message": message, "reasons": reasons or []}}
    return jsonify(body), status


def require_key(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        caller = apikeys.authenticate(ctx(), token.strip() if scheme.lower() == "bearer" else None)
        if caller is None:
            response = _error(401, "unauthorized", "Send a valid API key as `Authorization: Bearer hk_…`.")
            response[0].headers["WWW-Authenticate"] = 'Bearer realm="herald"'
            return response
        g.caller = caller
        return view(*args, **kwargs)
    return wrapped


@bp.errorhandler(413)
def too_large(_):
    return _error(413, "too_large", "The request body is too large.")


@bp.post("/messages")
@require_key
def create_message():
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _error(400, "invalid_json", "The body must be a JSON object.")
    try:
        body = SendBody().load(payload)
    except ValidationError as error:
        return _error(400, "invalid_request", "Some fields are missing or wrong.", errors_as_reasons(error))
    template = body["template"] or {}
    key = request.headers.get("Idempotency-Key")
    send_request = SendRequest(
        workspace=g.caller.workspace_id, channel=body["channel"], to=body["to"], text=body["text"],
        template=template.get("name"), language=template.get("language"), params=template.get("params") or {},
        sender=body["sender"], purpose=body["purpose"], origin=body["origin"], surface="api",
        requested_by=body["requested_by"] or f"api:{g.caller.key_name}", idempotency_key=key,
        dry_run=body["dry_run"], contact_ref=body["contact_ref"])
    try:
        result = send(ctx(), send_request)
    except Refused as refused:
        status = 409 if refused.code.startswith("idempotency") else 422
        return _error(status, refused.code, refused.reasons[0].message, [r.as_dict() for r in refused.reasons])
    decision = result.decision
    if result.message is None:
        if body["dry_run"]:
            return jsonify(result.as_dict()), 200
        message = "; ".join(r.message for r in decision.reasons) or "The message was not sent."
        code = "needs_confirmation" if decision.outcome == "confirm" else "refused"
        response = jsonify({**result.as_dict(), "error": {"code": code, "message": message,
                                                           "reasons": [r.as_dict() for r in decision.reasons]}})
        return response, 422
    response = jsonify(result.as_dict())
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
        return response, 200
    return response, 201 if result.message["status"] != st.FAILED else 502


@bp.get("/messages/<public_id>")
@require_key
def get_message(public_id: str):
    view = message_with_history(ctx(), g.caller.workspace_id, public_id)
    if view is None:
        return _error(404, "not_found", "No message with that id in this workspace.")
    return jsonify(view)


@bp.get("/templates")
@require_key
def templates():
    channel = request.args.get("channel")
    rows = list_templates(ctx(), g.caller.workspace, channel, usable_only=True)
    return jsonify({"templates": [{"channel": t.channel, "name": t.name, "language": t.language,
                                   "category": t.category, "body": t.body, "header": t.header_text,
                                   "footer": t.footer} for t in rows]})
