"""The webhook routes; verification happens here, the effects in the webhook service.

Each provider has a shared URL (``/webhooks/<provider>``), which tries the secret of every sender on
that provider, and a per-sender URL (``/webhooks/<provider>/<sender id>``), which tries that sender's
secret alone: ``flask --app app sender list`` prints it. The shared URLs keep working for senders
configured before the per-sender ones existed.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any, Callable, Sequence
from urllib.parse import parse_qsl

from flask import Response, jsonify, request

from ...security.signatures import (
    MetaVerifier,
    SignatureError,
    TwilioVerifier,
    VonageVerifier,
)
from ...services import metrics, webhook_events, webhooks
from ...services.webhooks import Candidate
from .. import ctx
from ..jsonbody import BadJson, read_json
from ..urls import signed_url
from . import bp

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def verified(candidates: Sequence[Candidate], check: Callable[[Candidate], None]) -> tuple[list[Candidate], str]:
    """The candidates whose secret verifies the request, and why the others did not.

    Every candidate is tried, whatever the earlier ones gave, so the time taken does not tell which
    secret (if any) matched; each check compares in constant time.
    """
    passed, reason = [], "no sender on this provider has a secret to verify it with"
    for candidate in candidates:
        try:
            check(candidate)
        except (SignatureError, ValueError) as error:
            reason = getattr(error, "reason", None) or "secret unusable"
        else:
            passed.append(candidate)
    return passed, reason


UNADDRESSED = "no sender at this URL has a secret to verify it with"


def senders_for(provider: str, secret: str, sender_id: int | None,
                check: Callable[[Candidate], None]) -> tuple[list[Candidate], str]:
    """The senders a delivery verifies for: at a per-sender URL, that sender (checked with its secret
    alone) and its workspace's senders holding the same secret; at the shared URL, every sender on the
    provider whose secret verifies it. An unknown sender and one without the secret read alike."""
    if sender_id is None:
        return verified(webhooks.candidates(ctx(), provider, secret), check)
    target, sharing = webhooks.addressed(ctx(), provider, sender_id, secret)
    if target is None:
        return [], UNADDRESSED
    passed, reason = verified([target], check)
    return (passed + sharing if passed else []), reason


def refuse(status: int, provider: str, reason: str) -> tuple[Response, int]:
    metrics.WEBHOOK_EVENTS.labels(provider, "refused").inc()
    log.warning("%s webhook refused (%s): %s", provider, status, reason)
    return jsonify(error="signature", message=f"The request's signature could not be verified: {reason}."), status


def _json_object(raw: bytes) -> tuple[dict[str, Any] | None, tuple[Response, int] | None]:
    """The verified body as a JSON object, or the 400 that says why it is not one."""
    try:
        payload = read_json(raw)
    except BadJson as error:
        return None, (jsonify(error="payload", message=error.message), 400)
    if not isinstance(payload, dict):
        return None, (jsonify(error="payload", message="The body is not a JSON object."), 400)
    return payload, None


def _query() -> dict[str, str]:
    return dict(parse_qsl(request.query_string.decode("utf-8", "replace"), keep_blank_values=True))


def _stored(provider: str, senders: Sequence[Candidate], raw: bytes) -> Response:
    """Keep the verified delivery for the workers and answer at once: the 200 means "received"."""
    event_id, duplicate = webhook_events.store(ctx(), provider, senders, raw)
    response = jsonify(received=True, event=event_id, duplicate=duplicate)
    response.headers["X-Herald-Event"] = str(event_id)
    return response


# --------------------------------------------------------------------------- WhatsApp Cloud API


@bp.get("/whatsapp")
@bp.get("/whatsapp/<int:sender_id>")
def whatsapp_handshake(sender_id: int | None = None):
    """Meta's subscription check: echo ``hub.challenge`` when ``hub.verify_token`` is one of ours
    (at a per-sender URL, that sender's)."""
    mode, token = request.args.get("hub.mode", ""), request.args.get("hub.verify_token", "")
    if mode != "subscribe" or not token:
        return refuse(403, "whatsapp", "not a subscription request with a verify token")
    if sender_id is None:
        holders = webhooks.candidates(ctx(), "whatsapp_cloud", "verify_token")
    else:
        holders = [c for c in [webhooks.addressed(ctx(), "whatsapp_cloud", sender_id, "verify_token")[0]] if c]
    tokens = [c.secret("verify_token") for c in holders]
    results = [hmac.compare_digest(t.encode(), token.encode()) for t in tokens]
    if not any(results):
        return refuse(403, "whatsapp", "verify token does not match")
    return Response(request.args.get("hub.challenge", ""), mimetype="text/plain")


@bp.post("/whatsapp")
@bp.post("/whatsapp/<int:sender_id>")
def whatsapp_events(sender_id: int | None = None):
    raw = request.get_data(cache=True)
    header = request.headers.get(MetaVerifier.HEADER)
    if not header or not header.strip():
        return refuse(401, "whatsapp", f"missing {MetaVerifier.HEADER} header")
    senders, reason = senders_for("whatsapp_cloud", "app_secret", sender_id,
                                  lambda c: MetaVerifier(c.secret("app_secret")).verify(raw, header))
    if not senders:
        return refuse(403, "whatsapp", reason)
    _, bad = _json_object(raw)
    if bad:
        return bad
    return _stored("whatsapp_cloud", senders, raw)


# --------------------------------------------------------------------------- Twilio


@bp.post("/twilio")
@bp.post("/twilio/<int:sender_id>")
def twilio_events(sender_id: int | None = None):
    raw = request.get_data(cache=True)
    signature = request.headers.get(TwilioVerifier.HEADER)
    if not signature or not signature.strip():
        return refuse(401, "twilio", f"missing {TwilioVerifier.HEADER} header")
    url = signed_url(request, ctx().config.public_base_url)  # as Twilio called it: see app.web.urls
    query = _query()
    json_bodied = "bodySHA256" in query
    form = None if json_bodied else parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)
    senders, reason = senders_for("twilio", "auth_token", sender_id,
                                  lambda c: TwilioVerifier(c.secret("auth_token")).verify(url, form, signature, body=raw))
    if not senders:
        return refuse(403, "twilio", reason)
    if json_bodied:
        _, bad = _json_object(raw)
        if bad:
            return bad
    event_id, _ = webhook_events.store(ctx(), "twilio", senders, raw,
                                       request.query_string.decode("utf-8", "replace"))
    response = Response(EMPTY_TWIML, mimetype="text/xml")
    response.headers["X-Herald-Event"] = str(event_id)
    return response


# --------------------------------------------------------------------------- Vonage


@bp.post("/vonage")
@bp.post("/vonage/<int:sender_id>")
def vonage_events(sender_id: int | None = None):
    raw = request.get_data(cache=True)
    authorization = request.headers.get(VonageVerifier.HEADER)
    if not authorization or not authorization.strip():
        return refuse(401, "vonage", f"missing {VonageVerifier.HEADER} header")
    service = ctx()
    claims: list[dict[str, Any]] = []

    def check(candidate: Candidate) -> None:
        claims.append(VonageVerifier(candidate.secret("signature_secret"),
                                     clock=lambda: service.now().timestamp()).verify(raw, authorization))

    senders, reason = senders_for("vonage", "signature_secret", sender_id, check)
    if not senders:
        return refuse(403, "vonage", reason)
    _, bad = _json_object(raw)
    if bad:
        return bad
    try:
        with webhooks.token_spent(service, "vonage", claims[0]["jti"]):
            return _stored("vonage", senders, raw)
    except webhooks.Replayed:
        return refuse(403, "vonage", "this signed token was already used (a replay)")
