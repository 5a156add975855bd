"""GET/POST /hubspot/compose, POST /hubspot/compose/preview and POST /hubspot/compose/consent: the page
HubSpot's modal shows.

HubSpot opens this page unsigned (reference/hubspot.md §1.5, §3.3), so it is authorised by the
compose token alone: signed, minutes long, bound to portal, contact and user, spent by the send.
The token travels in the URL and in the form — never in a cookie, which a third-party iframe may
not keep — so a cross-site page cannot make an agent's browser send. Each POST must also carry the
page's CSRF value (an HMAC of the token's id) and, when the browser names one, a same-site Origin.

Recording the customer's marketing consent passes the same checks but does not spend the token: the
agent records what the customer said, then goes on to send. It is recorded in the name of the HubSpot
user the token names, and answered with a redirect back to the page (so a reload records nothing twice).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from flask import jsonify, redirect, render_template, request, url_for

from ...domain.decision import ALLOWED
from ...domain.phone import display
from ...domain.refusals import Refused
from ...security.tokens import csrf_matches, csrf_value
from ...services import consent as consents
from ...services import hubspot as hs
from ...services import panel
from ...services.send import SendRequest, send
from .. import ctx
from . import bp
from .screens.compose import (
    CONSENT_SOURCE,
    PARAM_PREFIX,
    ComposeForm,
    ConsentEntry,
    choose_channel,
    choose_template,
    chosen_purpose,
    consent_problems,
    consent_recorder,
    consent_view,
    decision_view,
    field_id,
    place_query,
    template_values,
    window_line,
)

log = logging.getLogger(__name__)

# HubSpot's app origins (app.hubspot.com, app-eu1.hubspot.com, …; the full list is not published)
# and Herald itself, for the playground's modal.
FRAME_ANCESTORS = ("'self'", "https://*.hubspot.com")
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            "form-action 'self'; base-uri 'none'; frame-ancestors " + " ".join(FRAME_ANCESTORS))


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_site(origin: str | None, fetch_site: str | None, allowed: tuple[str, ...]) -> bool:
    """Pure: whether a POST came from Herald's own page.

    ``Sec-Fetch-Site`` is set by the browser and cannot be forged by a page, so it decides when present.
    Otherwise a real Origin must be Herald's (public or as reached). ``Origin: null`` is what browsers
    send for a form post under ``Referrer-Policy: no-referrer``; then the CSRF value alone decides.
    """
    if fetch_site:
        return fetch_site == "same-origin"
    if origin and origin != "null":
        return origin.lower() in {_origin(a) for a in allowed}
    return True


def _notice(title: str, message: str, status: int, done: bool = False):
    return render_template("hubspot/notice.html", title=title, message=message, done=done), status


LINK_TITLES = {"expired": "This window has expired", "used": "Already sent", "invalid": "This link does not work"}


def _grant(token: str | None):
    c = ctx()
    try:
        return hs.read_compose_token(c, token), None
    except hs.ComposeLinkError as error:
        status = {"used": 409, "expired": 410}.get(error.code, 403)
        return None, (error.code, error.message, status)


def _checked_post():
    """Token, CSRF and Origin of a POST; returns (grant, None) or (None, (code, message, status))."""
    grant, problem = _grant(request.form.get("token"))
    if problem:
        return None, problem
    c = ctx()
    given = request.form.get("csrf", "")
    if not csrf_matches(c.config.secret_key, grant.jti, given):
        return None, ("forged", "This form could not be verified. Close this window and open it again from "
                                "the contact card.", 400)
    if not same_site(request.headers.get("Origin"), request.headers.get("Sec-Fetch-Site"),
                     (c.config.public_base_url, request.host_url)):
        return None, ("forged", "This form was sent from another site, so Herald ignored it.", 403)
    return grant, None


def _opened_post():
    """A checked POST and the contact it is for: (grant, target, None), or (None, None, a notice page)."""
    grant, problem = _checked_post()
    if problem:
        code, message, status = problem
        return None, None, _notice(LINK_TITLES.get(code, "This form cannot be used"), message, status,
                                   done=code == "used")
    target, error = _target(grant)
    if error:
        return None, None, _notice("Herald cannot open this contact", error.message, error.status)
    return grant, target, None


def _target(grant):
    try:
        return hs.compose_target(ctx(), grant), None
    except hs.HubSpotError as error:
        return None, error


def _selection(c, target, form: ComposeForm) -> dict[str, Any]:
    """Channel, options and template the page shows for this form."""
    contact = target.contact
    overview = panel.contact_overview(c, target.portal.workspace_id, contact.phone,
                                      contact_ref=contact.id, limit=0)
    channel = choose_channel(form.channel, overview["channels"])
    options = panel.compose_options(c, target.portal.workspace_id, channel, contact.phone,
                                    contact.prefill()) if channel else None
    template = choose_template(form.template, options) if options else None
    return {"channels": overview["channels"], "channel": channel, "options": options, "template": template,
            "values": template_values(template, form), "purpose": chosen_purpose(form, template)}


def send_request(target, grant, form: ComposeForm, selection: dict[str, Any], dry_run: bool) -> SendRequest:
    """Pure translation of the form into the engine's request; the token's id is the idempotency key."""
    template = selection["template"]
    return SendRequest(
        workspace=target.portal.workspace_id, channel=selection["channel"], to=target.contact.phone or "",
        text=None if template else form.text, template=template["name"] if template else None,
        language=template["language"] if template else None, params=selection["values"] if template else {},
        sender=form.sender or None, purpose=selection["purpose"] or None, origin="agent", surface="hubspot",
        requested_by=grant.requested_by, idempotency_key=panel.hubspot_send_key(grant.jti), dry_run=dry_run,
        confirmed=form.confirmed, contact_ref=grant.contact_id,
        context={"hubspot_portal_id": grant.portal_id, "hubspot_contact_id": grant.contact_id,
                 "hubspot_user_id": grant.user_id},
        writeback=None if dry_run else target.writeback)


def _evaluate(c, target, grant, form, selection, pristine: bool = False) -> dict[str, Any]:
    """The dry run's decision, as the page shows it."""
    try:
        decision = send(c, send_request(target, grant, form, selection, dry_run=True)).decision
    except Refused as refused:
        return decision_view(None, selection["template"], selection["values"], refusal=refused.reasons)
    return decision_view(decision, selection["template"], selection["values"], pristine=pristine)


def _consent(c, grant, target, selection: dict[str, Any], recorded: str = "", entry: ConsentEntry | None = None,
             errors: list[str] | None = None) -> dict[str, Any]:
    """The consent section for this contact, read through the consent service."""
    try:
        records = consents.consent_state(c, target.portal.workspace_id, target.contact.phone or "").channels
    except Refused:
        records = None
    return consent_view(selection["channels"], records, selection["channel"],
                        consent_recorder(grant.user_email, grant.user_id), recorded=recorded, entry=entry,
                        errors=errors or ())


def _render(c, token: str, grant, target, form: ComposeForm, selection: dict[str, Any],
            decision: dict[str, Any] | None, status: int = 200, consent: dict[str, Any] | None = None):
    contact = target.contact
    channel = selection["channel"]
    options = selection["options"]
    if consent is None:
        consent = _consent(c, grant, target, selection)
    return render_template(
        "hubspot/compose.html", token=token, csrf=csrf_value(c.config.secret_key, grant.jti),
        contact=contact, phone_display=display(contact.phone) if contact.phone else "",
        channels=selection["channels"], channel=channel, options=options, template=selection["template"],
        values=selection["values"], purpose=selection["purpose"], form=form, decision=decision,
        window_line=window_line(channel, options) if options else "", param_prefix=PARAM_PREFIX,
        field_id=field_id, invalid=(decision or {}).get("fields", {}), demo=target.portal.demo, display=display,
        expires_at=grant.expires_at, consent=consent,
    ), status


@bp.get("/compose")
def compose_page():
    token = request.args.get("token", "")
    grant, problem = _grant(token)
    if problem:
        code, message, status = problem
        return _notice(LINK_TITLES.get(code, "This window cannot be used"), message, status, done=code == "used")
    target, error = _target(grant)
    if error:
        return _notice("Herald cannot open this contact", error.message, error.status)
    if not target.contact.phone:
        return _notice("No phone number", f"{target.contact.name} has no phone number in HubSpot. Add a mobile "
                                          "number to the contact and open this window again.", 200)
    c = ctx()
    form = ComposeForm.from_mapping(request.args, submitted=False)
    selection = _selection(c, target, form)
    decision = _evaluate(c, target, grant, form, selection, pristine=True) if selection["channel"] else None
    consent = _consent(c, grant, target, selection, recorded=request.args.get("recorded", ""))
    return _render(c, token, grant, target, form, selection, decision, consent=consent)


@bp.post("/compose")
def compose_submit():
    grant, target, refusal = _opened_post()
    if refusal is not None:
        return refusal
    c = ctx()
    token = request.form.get("token", "")
    form = ComposeForm.from_mapping(request.form, submitted=True)
    selection = _selection(c, target, form)
    if not selection["channel"] or not target.contact.phone:
        return _notice("Nothing to send with", "This contact cannot be reached on any channel Herald has.", 409)
    # A preview never counts as confirmed, so the confirmation box stays until the agent sends.
    decision = _evaluate(c, target, grant, form if form.op == "send" else replace(form, confirmed=False), selection)
    if form.op != "send" or decision["outcome"] != ALLOWED:
        status = 422 if form.op == "send" and decision["outcome"] == "refused" else 200
        return _render(c, token, grant, target, form, selection, decision, status)
    if not hs.consume(c, grant.jti):
        return _notice(LINK_TITLES["used"], "This compose window was already used to send a message.", 409,
                       done=True)
    request_ = send_request(target, grant, form, selection, dry_run=False)
    try:
        result = send(c, request_)
    except Refused as refused:
        hs.release(c, grant.jti)
        view = decision_view(None, selection["template"], selection["values"], refusal=refused.reasons)
        return _render(c, token, grant, target, form, selection, view, 422)
    if result.message is None:  # the state changed between the preview and the send
        hs.release(c, grant.jti)
        view = decision_view(result.decision, selection["template"], selection["values"])
        return _render(c, token, grant, target, form, selection, view, 422 if view["outcome"] == "refused" else 200)
    message = result.message
    return render_template("hubspot/sent.html", message=message, contact=target.contact,
                           phone_display=display(message["to"]), delivered=result.sent,
                           recorded=target.writeback is not None)


@bp.post("/compose/consent")
def compose_consent():
    """Record the customer's marketing consent on a channel, or its withdrawal; the token stays unspent."""
    grant, target, refusal = _opened_post()
    if refusal is not None:
        return refusal
    contact = target.contact
    if not contact.phone:
        return _notice("No phone number", f"{contact.name} has no phone number in HubSpot, so Herald has no one "
                                          "to record consent for. Nothing was recorded.", 409)
    recorder = consent_recorder(grant.user_email, grant.user_id)
    if not recorder:
        return _notice("Consent not recorded", "This window does not say which HubSpot user opened it, and a "
                                               "consent record must name who recorded it. Nothing was recorded: "
                                               "close this window and open it again from the contact card.", 403)
    c = ctx()
    token = request.form.get("token", "")
    place = ComposeForm.from_mapping(place_query(request.form), submitted=False)
    entry = ConsentEntry.from_mapping(request.form)
    selection = _selection(c, target, place)
    errors = consent_problems(entry, {line["channel"]: line["label"] for line in selection["channels"]})
    if not errors:
        try:
            consents.record_consent(c, target.portal.workspace_id, contact.phone, entry.channel,
                                    bool(entry.granted), CONSENT_SOURCE, recorder, entry.note)
        except Refused as refused:
            errors = [reason.message for reason in refused.reasons]
        else:
            log.info("HubSpot portal %s: marketing consent on %s %s for contact %s by %s", grant.portal_id,
                     entry.channel, "granted" if entry.granted else "withdrawn", grant.contact_id, recorder)
            return redirect(url_for("hubspot.compose_page", token=token, **place_query(request.form),
                                    recorded=entry.channel, _anchor="consent"), code=303)
    decision = _evaluate(c, target, grant, place, selection, pristine=True) if selection["channel"] else None
    consent = _consent(c, grant, target, selection, entry=entry, errors=errors)
    return _render(c, token, grant, target, place, selection, decision, 422, consent=consent)


@bp.post("/compose/preview")
def compose_preview():
    """The live preview: the server's dry run of the form as it stands (the source of truth)."""
    grant, problem = _checked_post()
    if problem:
        response = jsonify(error=problem[1], code=problem[0])
        return response, problem[2]
    target, error = _target(grant)
    if error:
        return jsonify(error=error.message), error.status
    if not target.contact.phone:
        return jsonify(error=f"{target.contact.name} has no phone number in HubSpot."), 409
    c = ctx()
    form = replace(ComposeForm.from_mapping(request.form, submitted=True), confirmed=False)
    selection = _selection(c, target, form)
    if not selection["channel"]:
        return jsonify(error="This contact cannot be reached on any channel Herald has."), 409
    view = _evaluate(c, target, grant, form, selection, pristine=True)
    view["field_ids"] = {field_id(f): m for f, m in view["fields"].items() if field_id(f)}
    return jsonify(view)


def _is_compose(endpoint: str | None) -> bool:
    return bool(endpoint) and endpoint.startswith("hubspot.compose")


@bp.after_request
def _page_headers(response):
    """Frameable by HubSpot only, no inline script, and the token never leaves in a Referer."""
    if _is_compose(request.endpoint):
        response.headers["Content-Security-Policy"] = PAGE_CSP
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers.pop("X-Frame-Options", None)
    return response
