"""POST /api/v1/messages, GET /api/v1/messages/<id>, GET /api/v1/templates — JSON, API keys.

Every answer under /api/v1 is JSON, errors included: whatever goes wrong (a route that does not
exist, a method it does not take, a body too large, an unexpected fault) the caller gets
``{"error": {"code", "message", "reasons"}}``, never an HTML page.
"""

from __future__ import annotations

import logging
import re
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, Response, g, jsonify, render_template, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

from ...domain import status as st
from ...domain.refusals import Refused, sentences
from ...services import apikeys
from ...services.messages import message_with_history
from ...services.send import SendRequest, send
from ...services.workspaces import list_templates
from .. import ctx
from ..jsonbody import BadJson, read_json
from .docs import operations, typed_values
from .schemas import SendBody, TemplatesQuery, errors_as_reasons, idempotency_key_problem
from .spec import openapi

log = logging.getLogger(__name__)

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)

_JSON_TYPE = re.compile(r"application/(?:[\w.+-]+\+)?json", re.IGNORECASE)
_PUBLIC_ID = re.compile(r"msg_[0-9a-f]{1,64}")
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 413: "too_large", 415: "unsupported_media_type",
               429: "rate_limited", 500: "internal_error", 503: "unavailable"}
_HTTP_WORDS = {
    404: "There is nothing at this address; the API's routes are listed at /api/v1/openapi.json.",
    405: "This route does not take that method.",
    413: "The request body is too large.",
    500: "Herald hit an unexpected error and could not finish this request; it has been logged. If it was a "
         "send, read the message back before trying again.",
}


def error(status: int, code: str, message: str, reasons: list[dict[str, str]] | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "reasons": reasons or []}})
    response.status_code = status
    return response


def require_key(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        caller = apikeys.authenticate(ctx(), token.strip() if scheme.lower() == "bearer" else None)
        if caller is None:
            response = error(401, "unauthorized", "Send a valid API key as `Authorization: Bearer hk_…`.")
            response.headers["WWW-Authenticate"] = 'Bearer realm="herald"'
            return response
        g.caller = caller
        return view(*args, **kwargs)
    return wrapped


@bp.app_errorhandler(HTTPException)
def http_error(exception: HTTPException):
    """Werkzeug's errors as Herald's JSON shape under /api/v1; elsewhere as they were."""
    if not _under_api():
        return exception
    status = exception.code or 500
    message = _HTTP_WORDS.get(status) or exception.description or "The request could not be handled."
    response = error(status, _HTTP_CODES.get(status, f"http_{status}"), message)
    if status == 405 and exception.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(exception.valid_methods)  # type: ignore[attr-defined]
    return response


@bp.app_errorhandler(InternalServerError)
def internal_error(exception: InternalServerError):
    if not _under_api():
        return exception
    log.error("unexpected error on %s %s", request.method, request.path,
              exc_info=exception.original_exception or exception)
    return error(500, "internal_error", _HTTP_WORDS[500])


def _under_api() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


@bp.post("/messages")
@require_key
def create_message():
    if not _JSON_TYPE.fullmatch(request.mimetype or ""):
        return error(415, "unsupported_media_type", "Send the body as JSON, with Content-Type: application/json.")
    try:
        payload = read_json(request.get_data(cache=True))
    except BadJson as bad:
        return error(400, "invalid_json", bad.message)
    if not isinstance(payload, dict):
        return error(400, "invalid_json", "The body must be a JSON object.")
    key = request.headers.get("Idempotency-Key")
    problem = idempotency_key_problem(key)
    if problem:
        return error(400, "idempotency_key_invalid", problem,
                     [{"code": "idempotency_key_invalid", "message": problem, "field": "Idempotency-Key"}])
    try:
        body = SendBody().load(payload)
    except ValidationError as invalid:
        return error(400, "invalid_request", "Some fields are missing or wrong.", errors_as_reasons(invalid))
    template = body["template"] or {}
    send_request = SendRequest(
        workspace=g.caller.workspace_id, channel=body["channel"], to=body["to"], text=body["text"],
        template=template.get("name"), language=template.get("language"), params=template.get("params") or {},
        sender=body["sender"], purpose=body["purpose"], origin=body["origin"], surface="api",
        requested_by=body["requested_by"] or f"api:{g.caller.key_name}", idempotency_key=key,
        dry_run=body["dry_run"], contact_ref=body["contact_ref"])
    try:
        result = send(ctx(), send_request)
    except Refused as refused:
        status = 409 if refused.code.startswith("idempotency") else 503 if refused.code == "sending_unavailable" \
            else 422
        return error(status, refused.code, sentences(r.message for r in refused.reasons),
                     [r.as_dict() for r in refused.reasons])
    decision = result.decision
    if result.message is None:
        if body["dry_run"]:
            return jsonify(result.as_dict()), 200
        message = sentences(r.message for r in decision.reasons) or "The message was not sent."
        code = "needs_confirmation" if decision.outcome == "confirm" else "refused"
        response = jsonify({**result.as_dict(), "error": {"code": code, "message": message,
                                                           "reasons": [r.as_dict() for r in decision.reasons]}})
        return response, 422
    response = jsonify(result.as_dict())
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
        return response, 200
    status = result.message["status"]
    return response, 502 if status == st.FAILED else 202 if status == st.UNKNOWN else 201


@bp.get("/messages/<public_id>")
@require_key
def get_message(public_id: str):
    view = message_with_history(ctx(), g.caller.workspace_id, public_id) if _PUBLIC_ID.fullmatch(public_id) \
        else None
    if view is None:
        return error(404, "not_found", "No message with that id in this workspace.")
    return jsonify(view)


@bp.get("/templates")
@require_key
def templates():
    try:
        query = TemplatesQuery().load(request.args)
    except ValidationError as invalid:
        return error(400, "invalid_request", "Some query parameters are wrong.", errors_as_reasons(invalid))
    rows = list_templates(ctx(), g.caller.workspace, query.get("channel"), usable_only=True)
    return jsonify({"templates": [{"channel": t.channel, "name": t.name, "language": t.language,
                                   "category": t.category, "body": t.body, "header": t.header_text,
                                   "footer": t.footer} for t in rows]})


@bp.get("/openapi.json")
def openapi_json():
    """The contract, generated from the schemas above; public, like any API's documentation."""
    return jsonify(openapi(ctx().config.public_base_url))


DOCS_CSP = "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


@bp.get("/docs")
def docs():
    """The contract for people: rendered here from the same description, nothing fetched elsewhere."""
    spec = openapi(ctx().config.public_base_url)
    response = Response(render_template("api/docs.html", spec=spec, ops=operations(spec),
                                        typed=typed_values(spec)), mimetype="text/html")
    response.headers["Content-Security-Policy"] = DOCS_CSP
    return response
