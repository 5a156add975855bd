"""GET /playground/intercom: a page that plays Intercom's inbox against the demo workspace.

The page builds initialize and submit bodies the way Intercom does; the relay below signs the exact
bytes with the client secret and posts them to /intercom/initialize or /intercom/submit through the
whole app, signature check included. The secret never reaches the browser, and the relay only signs
for the demo's Intercom workspace. Registered only when the demo is on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from ...domain.refusals import Refused
from ...services.demo import CUSTOMERS, DEMO, DEMO_INTERCOM_WORKSPACE
from ...services.sandbox import play_reply, play_statuses
from .. import ctx

bp = Blueprint("intercom_playground", __name__, url_prefix="/playground/intercom")

# Like every other page: only Herald's own origin may frame it, and it runs only its own scripts.
PLAYGROUND_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                  "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'")

ADMIN = {"type": "admin", "id": "814860", "name": "Dana Agent", "email": "dana@herald.demo",
         "away_mode_enabled": False, "away_mode_reassign": False, "has_inbox_seat": True, "team_ids": []}

CONVERSATIONS: list[dict[str, Any]] = [
    {"id": "1001", "contact_id": "6650a1c2e4b0a1b2c3d4e501", "name": "Ana García", "email": "ana@example.com",
     "phone": CUSTOMERS["open_window"], "first": "Hi, where is my order?",
     "about": "Wrote on WhatsApp and Viber two hours ago: free text is open."},
    {"id": "1002", "contact_id": "6650a1c2e4b0a1b2c3d4e502", "name": "Sam Lee", "email": "sam@example.com",
     "phone": CUSTOMERS["opted_out"], "first": "Please call me about my invoice.",
     "about": "Replied STOP to SMS three days ago."},
    {"id": "1003", "contact_id": "6650a1c2e4b0a1b2c3d4e503", "name": "Kim Novak", "email": "kim@example.com",
     "phone": CUSTOMERS["undeliverable"], "first": "My parcel never arrived.",
     "about": "The sandbox cannot deliver to this number."},
    {"id": "1004", "contact_id": "6650a1c2e4b0a1b2c3d4e504", "name": "Tom Baker", "email": "tom@example.com",
     "phone": CUSTOMERS["new"], "first": "Do you ship to Canada?",
     "about": "Never wrote on WhatsApp, SMS or Viber: templates only."},
    {"id": "1005", "contact_id": "6650a1c2e4b0a1b2c3d4e505", "name": "Lena Fischer", "email": "lena@example.com",
     "phone": None, "first": "Can someone text me the tracking link?",
     "about": "Intercom has no phone number for her."},
]


@bp.get("")
def page() -> str:
    return render_template("playground/intercom.html", conversations=CONVERSATIONS, admin=ADMIN,
                           workspace_id=DEMO_INTERCOM_WORKSPACE)


@bp.post("/relay/<any(initialize, submit):step>")
def relay(step: str) -> Response:
    """Sign the page's body as Intercom does and post it to Herald's Canvas Kit endpoint."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(error="expected a JSON object"), 400
    payload["workspace_id"] = DEMO_INTERCOM_WORKSPACE
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    secret = ctx().config.intercom_client_secret.encode("utf-8")
    signature = hmac.new(secret, raw, hashlib.sha256).hexdigest()
    path = f"/intercom/{step}"
    answer = current_app.test_client().post(path, data=raw, headers={
        "Content-Type": "application/json", "X-Body-Signature": signature, "User-Agent": "Intercom-Playground"})
    return jsonify(request={"path": path, "signature": signature, "body": payload},
                   status=answer.status_code, body=answer.get_json(silent=True))


@bp.post("/customer")
def customer_writes() -> Response:
    """The customer answers on a channel (sandbox), which opens the window or carries STOP/START."""
    data = request.get_json(silent=True) or {}
    try:
        play_reply(ctx(), DEMO, str(data.get("channel", "")), str(data.get("phone", "")),
                   str(data.get("text", "")) or "Thanks!")
    except Refused as refused:
        return jsonify(error=refused.reasons[0].message), 400
    return jsonify(ok=True)


@bp.post("/deliver")
def deliver() -> Response:
    """Play the delivery receipts of a sandbox message up to ``until`` (sent, delivered, read)."""
    data = request.get_json(silent=True) or {}
    try:
        status = play_statuses(ctx(), str(data.get("message", "")), str(data.get("until", "read")))
    except Refused as refused:
        return jsonify(error=refused.reasons[0].message), 400
    return jsonify(status=status)


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = PLAYGROUND_CSP
    if request.endpoint == "intercom_playground.page":
        response.headers["Cache-Control"] = "no-store"
    return response
