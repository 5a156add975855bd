"""Each channel's rules as one pure function: a draft, what we know of the recipient, and the time."""

from __future__ import annotations

from datetime import datetime

from . import sms
from .decision import (
    ALLOWED,
    CONFIRM,
    REFUSED,
    Decision,
    Draft,
    Limits,
    Policy,
    PolicyInput,
    RecipientState,
    no_policy,
)
from .purposes import default_for_category
from .refusals import Reason, Refused
from .templates import MARKETING_CATEGORIES, render
from .window import WindowState, format_moment, window_state

CHANNELS = ("whatsapp", "sms", "viber")
CHANNEL_LABELS = {"whatsapp": "WhatsApp", "sms": "SMS", "viber": "Viber"}
MAX_TEXT = {"whatsapp": 4096, "viber": 1000, "sms": 1600}
VIBER_IN_A_ROW = 5


def decide(draft: Draft, state: RecipientState, now: datetime, limits: Limits = Limits(),
           policy: Policy = no_policy) -> Decision:
    """Apply the channel's rules, then the proactive policy; gather every reason, not only the first."""
    if draft.channel not in CHANNELS:
        raise Refused(Reason("channel_unknown", f"“{draft.channel}” is not a channel Herald sends on.", "channel"))
    window = window_state(state.last_inbound_at, now)
    reasons: list[Reason] = []
    text, kind = _content(draft, reasons)
    encoding = None
    if draft.channel == "sms":
        encoding = sms.encode(text) if text else None
        reasons += _sms_rules(state, encoding, limits)
    else:
        reasons += _session_rules(draft, state, window, now)
    if text and len(text) > MAX_TEXT[draft.channel] and draft.channel != "sms":
        reasons.append(Reason("text_too_long", f"{CHANNEL_LABELS[draft.channel]} messages can be at most "
                                               f"{MAX_TEXT[draft.channel]} characters; this one has {len(text)}.",
                              "text"))
    purpose = draft.purpose or default_for_category(draft.template.category if draft.template else None)
    common = dict(channel=draft.channel, recipient=draft.recipient, text=text, kind=kind, window=window,
                  sms=encoding, purpose=purpose)
    if reasons:
        return Decision(REFUSED, reasons=tuple(reasons), **common)
    verdict = policy(PolicyInput(draft=draft, text=text, state=state, now=now))
    purpose = verdict.purpose or purpose
    common["purpose"] = purpose
    if verdict.outcome == "refuse":
        return Decision(REFUSED, reasons=verdict.reasons, policy=verdict, **common)
    if verdict.outcome == "confirm" and not draft.confirmed:
        return Decision(CONFIRM, reasons=verdict.reasons, policy=verdict, **common)
    return Decision(ALLOWED, reasons=verdict.reasons, policy=verdict, **common)


def _content(draft: Draft, reasons: list[Reason]) -> tuple[str, str]:
    if draft.template is not None and draft.text:
        reasons.append(Reason("content_ambiguous", "Send either a template or free text, not both.", "text"))
        return "", "text"
    if draft.template is not None:
        if draft.template.channel != draft.channel:
            reasons.append(Reason("template_wrong_channel",
                                  f"Template “{draft.template.name}” is for "
                                  f"{CHANNEL_LABELS.get(draft.template.channel, draft.template.channel)}, "
                                  f"not {CHANNEL_LABELS[draft.channel]}.", "template"))
        try:
            return render(draft.template, draft.params).text, "template"
        except Refused as refused:
            reasons.extend(refused.reasons)
            return "", "template"
    text = (draft.text or "").strip()
    if not text:
        reasons.append(Reason("content_missing", "Write a message or choose a template.", "text"))
    return text, "text"


def _sms_rules(state: RecipientState, encoding: sms.SmsEncoding | None, limits: Limits) -> list[Reason]:
    reasons = []
    if state.opted_out:
        when = f" on {format_moment(state.opted_out_at)}" if state.opted_out_at else ""
        reasons.append(Reason("opted_out", f"This customer opted out of SMS (replied STOP{when}); "
                                           "nothing can be sent until they text START.", "to"))
    if encoding and encoding.segments > limits.max_sms_segments:
        reasons.append(Reason("sms_too_many_segments",
                              f"This SMS needs {encoding.segments} segments ({encoding.describe()}); "
                              f"this workspace allows at most {limits.max_sms_segments}. Shorten it.", "text"))
    return reasons


def _session_rules(draft: Draft, state: RecipientState, window: WindowState, now: datetime) -> list[Reason]:
    label = CHANNEL_LABELS[draft.channel]
    reasons = []
    if draft.template is None and draft.text and not window.open:
        if window.closes_at is None:
            reasons.append(Reason("window_closed", f"This customer has not written to you on {label}, so the "
                                                   "first message must be an approved template.", "text"))
        else:
            reasons.append(Reason("window_closed", f"The 24-hour {label} window closed on "
                                                   f"{format_moment(window.closes_at)}: choose an approved "
                                                   "template.", "text"))
    if draft.channel == "viber":
        if state.outbound_since_inbound >= VIBER_IN_A_ROW:
            reasons.append(Reason("viber_in_a_row", f"{state.outbound_since_inbound} Viber messages were sent in "
                                                    "a row without a reply; Viber allows no more until the "
                                                    f"customer writes back (limit {VIBER_IN_A_ROW}).", "to"))
        promotional = draft.template is not None and draft.template.category in MARKETING_CATEGORIES
        if state.first_contact and promotional:
            reasons.append(Reason("viber_first_promotional", "The first Viber message to a person must not be "
                                                             "promotional: start with a transactional message.",
                                  "template"))
    return reasons


def channel_summary(channel: str, state: RecipientState, now: datetime) -> dict[str, object]:
    """One line a panel shows per channel: what can be sent to this person right now."""
    label = CHANNEL_LABELS[channel]
    if channel == "sms":
        if state.opted_out:
            return {"channel": channel, "label": label, "state": "opted_out", "closes_at": None,
                    "summary": "Opted out (replied STOP)"}
        return {"channel": channel, "label": label, "state": "free_text", "closes_at": None,
                "summary": "Free text"}
    window = window_state(state.last_inbound_at, now)
    if channel == "viber" and state.outbound_since_inbound >= VIBER_IN_A_ROW:
        return {"channel": channel, "label": label, "state": "unavailable", "closes_at": None,
                "summary": f"Waiting for a reply ({VIBER_IN_A_ROW} sent in a row)"}
    if window.open and window.closes_at:
        return {"channel": channel, "label": label, "state": "free_text",
                "closes_at": window.closes_at.isoformat(),
                "summary": f"Free text until {format_moment(window.closes_at)}"}
    return {"channel": channel, "label": label, "state": "template_only", "closes_at": None,
            "summary": "Template only"}
