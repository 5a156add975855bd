"""Pure builders for the compose page: what the agent asked for, and what Herald's decision means to them.

Nothing here reads the store, the clock or the request; the routes hand in a decision and the
compose options from the panel service, and get back plain dicts the template and the preview
endpoint render. The page is built from the Decision alone, so it shows whatever the rules and
the proactive policy say — refusals, confirmations and their questions — without knowing them.
The marketing-consent section is built the same way, from the records the consent service returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Sequence

from ....domain.decision import ALLOWED, CONFIRM, Decision
from ....domain.policy import MarketingConsent
from ....domain.refusals import Reason
from ....domain.templates import PLACEHOLDER
from ....domain.window import format_moment
from ....services.panel import default_purpose, starting_values

PARAM_PREFIX = "p."
USABLE_STATES = ("free_text", "template_only")
# The policy's reasons a recorded consent answers: a refusal for them points to the consent section.
CONSENT_REASONS = frozenset({"marketing_consent_missing", "marketing_consent_withdrawn"})
CONSENT_DECISIONS = {"grant": True, "withdraw": False}
CONSENT_SOURCE = "hubspot"
# What of the page survives recording consent: the compose form's choices, never its typed content,
# which would put customers' words in URLs and logs (the page's script keeps that in the tab instead).
PLACE_FIELDS = ("channel", "template", "purpose", "sender")


@dataclass(frozen=True)
class ComposeForm:
    """The compose form as submitted (or the page's query on first load)."""

    channel: str = ""
    template: str | None = None  # None: not chosen yet; "": free text; "name:language"
    sender: str = ""
    purpose: str | None = None  # None: not chosen yet; "": none stated
    text: str = ""
    values: Mapping[str, str] = field(default_factory=dict)
    confirmed: bool = False
    op: str = ""
    submitted: bool = False

    @classmethod
    def from_mapping(cls, data: Mapping[str, str], submitted: bool) -> "ComposeForm":
        values = {key[len(PARAM_PREFIX):]: str(value) for key, value in data.items()
                  if key.startswith(PARAM_PREFIX)}
        return cls(channel=str(data.get("channel", "") or ""),
                   template=str(data["template"]) if "template" in data else None,
                   sender=str(data.get("sender", "") or ""),
                   purpose=str(data["purpose"]) if "purpose" in data else None,
                   text=str(data.get("text", "") or ""), values=values,
                   confirmed=str(data.get("confirmed", "")).lower() in ("1", "on", "yes", "true"),
                   op=str(data.get("op", "") or ""), submitted=submitted)


def choose_channel(requested: str, channels: Sequence[Mapping[str, Any]]) -> str | None:
    """The channel asked for when the workspace has it; else the first usable one in Herald's order
    (WhatsApp, SMS, Viber), so the page always opens the same way; else the first."""
    names = [c["channel"] for c in channels]
    if requested in names:
        return requested
    for line in channels:
        if line["state"] in USABLE_STATES:
            return line["channel"]
    return names[0] if names else None


def choose_template(requested: str | None, options: Mapping[str, Any]) -> dict[str, Any] | None:
    """The template chosen, None for free text; first load picks free text when the rules allow it."""
    templates = list(options["templates"])
    if requested is None:
        if options["free_text_allowed"] or not templates:
            return None
        return templates[0]
    return next((t for t in templates if t["key"] == requested), None)


def template_values(template: Mapping[str, Any] | None, form: ComposeForm) -> dict[str, str]:
    """One value per placeholder: what the agent typed, or on first load what the contact suggests."""
    if template is None:
        return {}
    if form.submitted:
        return {slot["id"]: form.values.get(slot["id"], "") for slot in template["slots"]}
    return starting_values(template)


def chosen_purpose(form: ComposeForm, template: Mapping[str, Any] | None) -> str:
    """The purpose the agent picked, else the template's default (changeable on the page)."""
    if form.purpose is not None:
        return form.purpose
    return default_purpose(template)


def partial_text(template: Mapping[str, Any], values: Mapping[str, str]) -> str:
    """The template with what is filled so far, and ``[label]`` where a value is still missing."""
    labels = {slot["id"]: slot["label"] for slot in template["slots"]}

    def fill(text: str, prefix: str) -> str:
        def one(match: Any) -> str:
            slot_id = prefix + match.group(1)
            value = (values.get(slot_id) or "").strip()
            return value or f"[{labels.get(slot_id, match.group(1))}]"
        return PLACEHOLDER.sub(one, text or "")

    parts = [fill(template.get("header") or "", "header."), fill(template.get("body") or "", ""),
             template.get("footer") or ""]
    return "\n".join(p for p in parts if p)


def sms_line(sms: Mapping[str, Any] | None) -> str:
    """ "GSM-7 · 62 characters · 1 segment", or the UCS-2 equivalent naming what forced it."""
    if not sms:
        return ""
    segments = sms["segments"]
    unit = "characters" if sms["encoding"] == "GSM-7" else "UCS-2 units"
    line = f"{sms['encoding']} · {sms['units']} {unit} · {segments} segment{'s' if segments != 1 else ''}"
    outside = sms.get("non_gsm_characters") or []
    if outside:
        line += " (because of " + " ".join(outside[:5]) + ")"
    return line


def window_line(channel: str, options: Mapping[str, Any]) -> str:
    """When free text stops being possible on this channel, in absolute time."""
    if channel == "sms":
        return options["free_text_note"]
    window = options.get("window") or {}
    closes = window.get("closes_at")
    if window.get("open") and closes:
        return f"The 24-hour window is open until {format_moment(datetime.fromisoformat(closes))}."
    if closes:
        return (f"The 24-hour window closed on {format_moment(datetime.fromisoformat(closes))}: "
                "only approved templates can be sent.")
    return options["free_text_note"]


HEADLINES = {ALLOWED: "Ready to send", CONFIRM: "Needs your confirmation", "refused": "Cannot be sent"}


def decision_view(decision: Decision | None, template: Mapping[str, Any] | None = None,
                  values: Mapping[str, str] | None = None, refusal: Sequence[Reason] = (),
                  pristine: bool = False) -> dict[str, Any]:
    """What the page (and the live preview) shows for one decision, or for a refusal raised before one."""
    values = values or {}
    if decision is None:
        reasons = [r.as_dict() for r in refusal]
        outcome, text, sms, policy = ("refused" if reasons else ""), "", None, None
    else:
        d = decision.as_dict()
        reasons, outcome, text, sms, policy = d["reasons"], d["outcome"], d["text"], d["sms"], d["policy"]
    complete = bool(text)
    if not text and template is not None:
        text = partial_text(template, values)
    if pristine and reasons and all(r["code"] == "content_missing" for r in reasons):
        reasons, outcome = [], ""
    policy_refused = bool(policy and policy.get("outcome") == "refuse" and outcome == "refused")
    questions = list(policy.get("questions") or []) if policy else []
    fields: dict[str, str] = {}  # only a refusal marks inputs; a confirmation's reasons are warnings
    for reason in reasons if outcome == "refused" else []:
        if reason["field"]:
            fields.setdefault(reason["field"], reason["message"])
    if outcome == ALLOWED and reasons:  # an allowing verdict's remarks are notes, not errors
        notes, reasons = [r["message"] for r in reasons], []
        fields = {}
    else:
        notes = []
    return {
        "outcome": outcome,
        "headline": HEADLINES.get(outcome, ""),
        "text": text,
        "complete": complete,
        "reasons": reasons,
        "notes": notes,
        "fields": fields,
        "sms": sms,
        "sms_line": sms_line(sms),
        "policy_refused": policy_refused,
        "needs_confirmation": outcome == CONFIRM,
        "questions": questions if outcome == CONFIRM else [],
        "purpose": decision.purpose if decision is not None else None,
        "consent_needed": outcome == "refused" and any(r["code"] in CONSENT_REASONS for r in reasons),
    }


def field_id(field: str) -> str:
    """The HTML id of the input a reason's ``field`` names (``param:1`` → ``param-1``)."""
    if field.startswith("param:"):
        return "param-" + field[len("param:"):].replace(".", "-")
    return {"text": "text", "template": "template", "purpose": "purpose", "sender": "sender",
            "language": "template", "params": "template", "channel": "channel"}.get(field, "")


# --------------------------------------------------------------------------- marketing consent


@dataclass(frozen=True)
class ConsentEntry:
    """The consent form as submitted: the channel, given or withdrawn, and the agent's note."""

    channel: str = ""
    decision: str = ""
    note: str = ""

    @classmethod
    def from_mapping(cls, data: Mapping[str, str]) -> "ConsentEntry":
        return cls(channel=str(data.get("consent_channel", "") or "").strip(),
                   decision=str(data.get("decision", "") or "").strip(), note=str(data.get("note", "") or ""))

    @property
    def granted(self) -> bool | None:
        """True for a grant, False for a withdrawal, None when the form said neither."""
        return CONSENT_DECISIONS.get(self.decision)


def consent_recorder(user_email: str, user_id: str) -> str:
    """Who records consent from the page: the HubSpot user the link names (email, else id), so a
    record always names a person; empty when the link names nobody, and then nothing is recorded."""
    if user_email:
        return user_email
    return f"hubspot-user:{user_id}" if user_id else ""


def consent_problems(entry: ConsentEntry, offered: Mapping[str, str]) -> list[str]:
    """What stops Herald recording this entry, in words; ``offered`` maps the page's channels to labels."""
    problems = []
    if entry.channel not in offered:
        named = f"“{entry.channel[:40]}” is not a channel this contact can be reached on" if entry.channel \
            else "No channel was chosen"
        problems.append(f"{named}: choose {_either(list(offered.values()))}.")
    if entry.granted is None:
        problems.append("Say whether the customer gave their consent to marketing or withdrew it.")
    return problems


def _either(labels: Sequence[str]) -> str:
    if len(labels) <= 1:
        return "".join(labels) or "a channel"
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def place_query(data: Mapping[str, str]) -> dict[str, str]:
    """Where the agent was on the page, as the compose page's query, to bring them back there."""
    return {key: str(data[key])[:200] for key in PLACE_FIELDS if key in data}


def consent_view(channels: Sequence[Mapping[str, Any]], records: Mapping[str, MarketingConsent | None] | None,
                 selected: str | None, recorder: str, recorded: str = "", entry: ConsentEntry | None = None,
                 errors: Sequence[str] = ()) -> dict[str, Any]:
    """The consent section: per channel of the page, where the customer stands on marketing and who
    recorded it when; the notice after a recording; and the form's state (kept after a refusal).

    ``records`` is None when Herald could not read consent for this number: the section says so and
    offers no form rather than show "not recorded" for what it does not know.
    """
    labels = {str(line["channel"]): str(line["label"]) for line in channels}
    lines = []
    for channel, label in labels.items():
        record = (records or {}).get(channel)
        if records is None:
            status, status_label, detail = "unknown", "Unknown", "Herald could not read consent for this number."
        elif record is None:
            status, status_label = "none", "Not recorded"
            detail = f"No marketing on {label} until the customer's consent is recorded."
        else:
            status = "granted" if record.granted else "withdrawn"
            status_label = "Consented" if record.granted else "Withdrawn"
            via = f" via {record.source}" if record.source else ""
            detail = f"Recorded by {record.recorded_by} on {format_moment(record.recorded_at)}{via}."
        lines.append({"channel": channel, "label": label, "status": status, "status_label": status_label,
                      "detail": detail, "note": record.note if record else ""})
    saved = (records or {}).get(recorded) if recorded in labels else None
    notice = f"Saved. {labels[recorded]}: {saved.sentence()}" if saved else ""
    chosen = entry.channel if entry and entry.channel in labels else (selected or next(iter(labels), ""))
    if records is None:
        unavailable = "Herald could not read this customer's consent, so none can be recorded here now."
    elif not recorder:
        unavailable = ("Consent cannot be recorded from this window: it does not name the HubSpot user who "
                       "opened it. Open it again from the contact card.")
    else:
        unavailable = ""
    return {"lines": lines, "notice": notice, "errors": list(errors), "channel": chosen,
            "note": entry.note if entry and errors else "", "recorder": recorder,
            "can_record": not unavailable and bool(labels), "unavailable": unavailable,
            "channels": [{"channel": c, "label": l} for c, l in labels.items()]}
