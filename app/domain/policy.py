"""The proactive-message policy as one pure function: service, not marketing dressed as service.

A proactive message earns its place when a competent human agent would send it today, unprompted,
and the customer would thank us for it. :func:`judge` reads a draft, its final text, what Herald
knows of the customer (:class:`History`) and the workspace's :class:`PolicySettings`, and answers
``allow``, ``confirm`` or ``refuse`` — always with reasons a support agent understands, and always
with the send's purpose.

How the rules read where the product description is silent:

* **Purpose.** Declared by the caller; else implied by the template's category (MARKETING and
  PROMOTIONAL → promotion, AUTHENTICATION → one-time passcode); else detected from the text: when the
  content check reads it as marketing, the kind of marketing chooses abandoned cart, win-back or upsell, and
  anything else is a promotion (an agent's unsure message is the agent's call, not a detected
  promotion); when it does not, the send is recorded as the generic service
  purpose "Confirmation or progress". A detected purpose is never urgent: only a declared (or
  AUTHENTICATION-implied) security event or passcode may break quiet hours or the daily cap.
* **Marketing** is a marketing purpose (declared, implied or detected) or a marketing template.
  It needs the recipient's latest recorded consent on the channel to be a grant; it is refused when
  the origin is an AI, whatever the consent; it is refused while a service message to the same person
  (any channel of the workspace) is younger than ``marketing_after_service_hours`` (at 23 h 59 min it
  is refused, at 24 h it may go); on Viber it may not be the first message Herald sends the person.
* **Service that reads as marketing** (a declared or template-implied service purpose whose final
  text the content check reads as marketing — a mixed message counts as marketing, caught by its
  promotional sentence): refused for API and AI origins. For an agent it is marketing too — a
  confirmation does not make it service: it can go only as marketing (the purpose its kind implies),
  so it needs the customer's consent, is never the AI's idea and waits after a service message;
  when those rules allow it, the agent confirms sending it *as marketing*. A service purpose on a
  MARKETING or PROMOTIONAL template is refused outright: the channel treats that template as
  marketing whatever Herald calls it.
* **Unsure.** Where the model is not sure (its unsure band), an agent answers :data:`QUESTIONS`;
  once confirmed the message goes as the service purpose, with the confirmation stored beside it.
  An API or AI sender gets the model's verdict as it is (a close call is shown in the reasons).
* **Languages the check does not read** (identified from the text; the six are en, es, pt, fr, de,
  it): a service send is never silently allowed. An agent answers :data:`QUESTIONS`; an API or AI
  sender gets what the workspace chose with ``unchecked_language``: ``refuse`` (the default),
  ``marketing`` (judged as marketing: consent, never the AI's, the wait) or ``allow``; the reason
  names the language. A declared marketing send needs no content check.
* **Urgent purposes** (a declared security event or passcode) skip quiet hours and the daily cap
  only while the text was read and does not read as marketing.
* **Proactive** means the business writes first: the customer has not written on this channel in the
  last 24 hours. A reply inside that window is not proactive: quiet hours and the daily cap do not
  apply to it, and its verdict carries the note :data:`REPLY` so the cap can leave it out later. The
  marketing rules apply to replies too: marketing is marketing.
* **Quiet hours** (default 21:00–08:00, in the recipient's local time from the number) refuse, they do
  not ask to confirm: a person asleep is not a judgement call, the urgent purposes are exempt, and a
  customer who wants a late answer writes in, which makes the answer a reply. A number that may be in
  several time zones is quiet when it is quiet in any of them; a number whose zone is unknown cannot be
  checked, which the verdict says. Start equal to end switches quiet hours off.
* **The daily cap** (default 3) counts proactive sends to the person in the last 24 hours (rolling), on
  every channel of the workspace, that did not fail, leaving out security events and passcodes;
  reaching it refuses the next proactive send until the oldest counted one is 24 hours old.

Workspace settings (``flask --app app workspace set WORKSPACE KEY=VALUE``): ``marketing_after_service_hours``
(24; 0 turns the wait off), ``daily_cap`` (3; null for none), ``quiet_start`` / ``quiet_end`` (21:00 / 08:00),
``marketing_phrases`` (a list, or signal code → list), ``marketing_languages`` (added to the workspace's
template languages as hints for the content check) and ``unchecked_language`` (refuse, marketing or
allow). A bad value is refused in words, never silently replaced.

Pure Python: the clock, the store and the workspace's settings are all handed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .decision import PolicyInput, PolicyVerdict
from .marketing import ContentCheck, check_content
from .marketing_model import MarketingModel
from .purposes import PURPOSES, URGENT, Purpose, default_for_category
from .refusals import Reason, Refused
from .templates import MARKETING_CATEGORIES
from .window import format_moment, window_state

ALLOW, CONFIRM, REFUSE = "allow", "confirm", "refuse"

# The two questions an agent answers before a message the policy doubts may go.
QUESTIONS: tuple[str, str] = (
    "Would a competent agent send this message today, unprompted?",
    "Would the customer thank you for it?",
)

# The purpose recorded for a service message nobody named.
GENERIC_SERVICE = "confirmation"
# The reason code that marks a verdict on a reply inside the open window (not proactive).
REPLY = "reply_in_window"

# What an API or AI send in a language the content check does not read gets (workspace setting
# ``unchecked_language``): refused (the default), judged as marketing, or let through as service.
UNCHECKED_CHOICES = ("refuse", "marketing", "allow")

_CHANNEL_LABELS = {"whatsapp": "WhatsApp", "sms": "SMS", "viber": "Viber"}
# The marketing purpose a kind of marketing (or a workspace phrase's code) implies.
_KIND_PURPOSES = {"cart": "abandoned_cart", "win_back": "win_back", "upsell": "upsell", "cross_sell": "upsell"}
_ORIGIN_WORDS = {"api": "an API or workflow", "ai": "an AI assistant"}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


# ----------------------------------------------------------------------------------------------
# What the policy is handed


@dataclass(frozen=True)
class MarketingConsent:
    """The latest recorded marketing consent (or its withdrawal) for one person on one channel."""

    granted: bool
    recorded_by: str
    recorded_at: datetime
    source: str = ""
    note: str = ""
    channel: str = ""
    recipient: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"recipient": self.recipient, "channel": self.channel, "granted": self.granted, "source": self.source,
                "recorded_by": self.recorded_by, "recorded_at": self.recorded_at.isoformat(), "note": self.note}

    def sentence(self) -> str:
        """One line for people: what is recorded, by whom, when."""
        what = "Consented to marketing" if self.granted else "Withdrew marketing consent"
        via = f" via {self.source}" if self.source else ""
        return f"{what} on {format_moment(self.recorded_at)}, recorded by {self.recorded_by}{via}."


@dataclass(frozen=True)
class History:
    """What the store knows of this person that the policy needs, gathered before judging.

    ``last_service_at``: the latest service message to them in the workspace (any channel, not failed)
    within the look-back the settings need; ``proactive_sent``: when each proactive send that counts
    toward the daily cap went, in the last 24 hours; ``consent``: the latest marketing consent record
    for the draft's channel; ``first_on_viber``: Herald never sent them a Viber message that did not
    fail; ``time_zones``: the IANA zones their number may be in.
    """

    last_service_at: datetime | None = None
    proactive_sent: tuple[datetime, ...] = ()
    consent: MarketingConsent | None = None
    first_on_viber: bool = False
    time_zones: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicySettings:
    """A workspace's policy settings, with Herald's defaults."""

    marketing_after_service_hours: float = 24
    daily_cap: int | None = 3  # None: no cap
    quiet_start: str = "21:00"
    quiet_end: str = "08:00"
    languages: tuple[str, ...] = ("en",)
    marketing_phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    unchecked_language: str = "refuse"  # what an API or AI send in a language the check does not read gets

    def __post_init__(self) -> None:
        _clock_time(self.quiet_start, "quiet_start")
        _clock_time(self.quiet_end, "quiet_end")

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any], languages: Iterable[str] = ()) -> "PolicySettings":
        """Read a workspace's settings; a bad value is refused in words, never silently replaced.

        ``languages`` are the workspace's template languages; ``marketing_languages`` adds others.
        ``marketing_phrases`` is a list of phrases, or a mapping of signal code to phrases.
        """
        defaults = cls()
        hours = settings.get("marketing_after_service_hours", defaults.marketing_after_service_hours)
        if isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours < 0:
            raise _bad_setting("marketing_after_service_hours", hours, "a number of hours, 0 or more")
        cap = settings.get("daily_cap", defaults.daily_cap)
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise _bad_setting("daily_cap", cap, "a whole number, 1 or more (or null for no cap)")
        start = settings.get("quiet_start", defaults.quiet_start)
        end = settings.get("quiet_end", defaults.quiet_end)
        for key, value in (("quiet_start", start), ("quiet_end", end)):
            if not isinstance(value, str) or not _CLOCK.match(value.strip()):
                raise _bad_setting(key, value, "a time of day, HH:MM")
        extra_languages = settings.get("marketing_languages", [])
        if isinstance(extra_languages, str):
            extra_languages = [extra_languages]
        if not isinstance(extra_languages, (list, tuple)) or not all(isinstance(x, str) for x in extra_languages):
            raise _bad_setting("marketing_languages", extra_languages, "a list of language codes")
        chosen = dict.fromkeys(["en", *[str(x) for x in languages if x], *extra_languages])
        unchecked = settings.get("unchecked_language", defaults.unchecked_language)
        if unchecked not in UNCHECKED_CHOICES:
            raise _bad_setting("unchecked_language", unchecked, "one of " + ", ".join(UNCHECKED_CHOICES))
        return cls(marketing_after_service_hours=hours, daily_cap=cap, quiet_start=start.strip(),
                   quiet_end=end.strip(), languages=tuple(chosen),
                   marketing_phrases=_phrases(settings.get("marketing_phrases", {})), unchecked_language=unchecked)


def _bad_setting(key: str, value: object, wanted: str) -> Refused:
    return Refused(Reason("policy_setting_invalid",
                          f"This workspace's policy setting {key}={value!r} is not valid: it must be {wanted}. "
                          "An operator fixes it with `flask --app app workspace set`.", "workspace"))


def _phrases(raw: object) -> dict[str, tuple[str, ...]]:
    if isinstance(raw, str):
        raw = [raw]
    if isinstance(raw, (list, tuple)) and all(isinstance(p, str) for p in raw):
        return {"workspace": tuple(raw)} if raw else {}
    if isinstance(raw, Mapping) and all(isinstance(k, str) for k in raw):
        out: dict[str, tuple[str, ...]] = {}
        for code, phrases in raw.items():
            phrases = [phrases] if isinstance(phrases, str) else phrases
            if not isinstance(phrases, (list, tuple)) or not all(isinstance(p, str) for p in phrases):
                break
            out[code] = tuple(phrases)
        else:
            return out
    raise _bad_setting("marketing_phrases", raw, "a list of phrases, or signal code → list of phrases")


def _clock_time(value: str, key: str) -> time:
    match = _CLOCK.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _bad_setting(key, value, "a time of day, HH:MM")
    return time(int(match.group(1)), int(match.group(2)))


# ----------------------------------------------------------------------------------------------
# The judge


@dataclass(frozen=True)
class _Purpose:
    purpose: Purpose
    how: str  # declared, template or detected


def judge(inputs: PolicyInput, history: History, settings: PolicySettings = PolicySettings(),
          model: MarketingModel | None = None) -> PolicyVerdict:
    """Allow, ask to confirm, or refuse one send — with every reason that applies, and its purpose.

    ``model``: the marketing model that reads the text (Herald's shipped one by default).
    """
    draft, now = inputs.draft, inputs.now
    label = _CHANNEL_LABELS.get(draft.channel, draft.channel)
    template = draft.template
    category = (template.category if template else "").upper()
    languages = ((template.language,) if template else ()) + settings.languages
    check = check_content(inputs.text, languages, settings.marketing_phrases, model)
    content = check.as_dict()
    explained = [Reason("marketing_content", sentence, "text") for sentence in check.reasons()]

    if draft.purpose and draft.purpose not in PURPOSES:
        fallback = _choose_purpose(None, category, check).purpose.code
        return PolicyVerdict(REFUSE, (Reason("purpose_invalid", f"“{draft.purpose}” is not a purpose Herald "
                                                                f"knows; choose one of {', '.join(PURPOSES)}.",
                                             "purpose"),), purpose=fallback, marketing=check.marketing,
                             content=content)
    agent = draft.origin not in _ORIGIN_WORDS
    chosen = _choose_purpose(draft.purpose, category, check, agent=agent)
    purpose, how = chosen.purpose, chosen.how
    marketing_template = category in MARKETING_CATEGORIES
    treated_as_marketing = purpose.marketing or marketing_template
    reads_as_marketing = check.marketing
    # An agent decides where the model is unsure; a system gets the model's verdict as it is.
    doubtful = check.unsure and agent and not treated_as_marketing
    sure_marketing = reads_as_marketing and not doubtful
    unchecked = not check.checked and not treated_as_marketing and not sure_marketing
    language = check.language.name if check.language else "this language"
    proactive = not window_state(inputs.state.last_inbound_at, now).open

    why: list[Reason] = []       # why Herald reads it as marketing; shown with any outcome
    refusals: list[Reason] = []
    doubts: list[Reason] = []    # what an agent must confirm
    notes: list[Reason] = []     # remarks on an allowed send
    questions: tuple[str, ...] = QUESTIONS

    if marketing_template and not purpose.marketing:
        kind = "promotional" if category == "PROMOTIONAL" else "marketing"
        refusals.append(Reason("marketing_template_as_service",
                               f"Template “{template.name}” is a {kind} template, so {label} treats it as "
                               f"marketing: it cannot go out as “{purpose.label}”. Choose a marketing purpose, "
                               "or a service template.", "purpose"))

    if treated_as_marketing:
        if how == "detected":
            what = (f"Template “{template.name}” is a {category.lower()} template, but with its values filled in "
                    "it reads as marketing" if template else "No purpose was given and this reads as marketing")
            why.append(Reason("marketing_detected", f"{what}, so Herald treats it as “{purpose.label}”.", "purpose"))
            why.extend(explained)
        refusals.extend(_marketing_rules(inputs, history, settings, label))
    elif sure_marketing:
        head = (f"This is sent as “{purpose.label}” but reads as marketing." if how == "declared" else
                f"Template “{template.name}” is for “{purpose.label}” but reads as marketing." if how == "template"
                else "This reads as marketing.")
        as_marketing = PURPOSES[_marketing_purpose(check)]
        if not agent:
            refusals.append(Reason("service_reads_as_marketing",
                                   f"{head} Herald does not send marketing dressed as service from "
                                   f"{_ORIGIN_WORDS[draft.origin]}: remove the marketing part, or declare a "
                                   "marketing purpose (it then needs the customer's marketing consent, and is "
                                   "never an AI's idea).", "purpose"))
            refusals.extend(explained)
        else:
            # A confirmation does not make marketing service: it can go only as marketing, under the
            # marketing rules (consent, never the AI's idea, the wait after a service message).
            rules = _marketing_rules(inputs, history, settings, label)
            if rules:
                refusals.append(Reason("service_reads_as_marketing",
                                       f"{head} It can go only as marketing (“{as_marketing.label}”), and "
                                       "marketing is not allowed here — see below. Remove the marketing part to "
                                       "send it as a service message.", "purpose"))
                refusals.extend(explained)
                refusals.extend(rules)
            else:
                doubts.append(Reason("service_reads_as_marketing",
                                     f"{head} If you send it, it goes as marketing (“{as_marketing.label}”), "
                                     "not as a service message; to send it as service, remove the marketing "
                                     "part.", "purpose"))
                doubts.extend(explained)
                questions = (f"Send it as marketing (“{as_marketing.label}”)?",)
            purpose = as_marketing
    elif doubtful:
        doubts.append(Reason("marketing_unsure",
                             f"Herald is not sure whether this is a service message or marketing. Send it as "
                             f"“{purpose.label}” only if you can answer yes to both questions; otherwise remove "
                             "the sentence below or choose a marketing purpose (it then needs the customer's "
                             "marketing consent).", "purpose"))
        doubts.extend(explained)
    elif unchecked:
        if agent:
            doubts.append(Reason("language_unchecked",
                                 f"This looks like {language}, which Herald's marketing check does not read, so "
                                 "it could not tell whether this is marketing. Send it only if you can answer yes "
                                 "to both questions.", "text"))
        elif settings.unchecked_language == "refuse":
            refusals.append(Reason("language_unchecked",
                                   f"This looks like {language}, which Herald's marketing check does not read, and "
                                   f"this workspace does not send unchecked text from {_ORIGIN_WORDS[draft.origin]} "
                                   "(setting unchecked_language=refuse). Send it from a panel, where an agent "
                                   "confirms it, or declare a marketing purpose (it then needs the customer's "
                                   "marketing consent).", "text"))
        elif settings.unchecked_language == "marketing":
            purpose = PURPOSES["promotion"]
            treated_as_marketing = True
            why.append(Reason("language_unchecked",
                              f"This looks like {language}, which Herald's marketing check does not read; this "
                              "workspace treats such text as marketing (setting unchecked_language=marketing), so "
                              "it goes as “Promotion”.", "text"))
            refusals.extend(_marketing_rules(inputs, history, settings, label))
        else:
            notes.append(Reason("language_unchecked",
                                f"This looks like {language}, which Herald's marketing check does not read; this "
                                "workspace lets such text go as service (setting unchecked_language=allow).",
                                "text"))

    # The urgent exemptions (quiet hours, the daily cap) hold only for a declared urgent purpose whose
    # text was read and does not read as marketing.
    urgent = (purpose.code in URGENT and how != "detected" and not reads_as_marketing and not treated_as_marketing
              and check.checked)
    if not proactive:
        notes.append(Reason(REPLY, f"The customer wrote on {label} in the last 24 hours, so this answers them and "
                                   "is not proactive: quiet hours and the daily cap do not apply.", ""))
    elif not urgent:
        if chosen.purpose.code in URGENT and how != "detected":
            notes.append(Reason("urgent_exemption_lost",
                                f"The purpose “{chosen.purpose.label}” may break quiet hours and the daily cap only "
                                "when its text does not read as marketing; this one "
                                + ("reads as marketing." if reads_as_marketing or treated_as_marketing else
                                   f"could not be checked ({language})."), ""))
        refusals.extend(_quiet_hours(now, history.time_zones, settings, notes))
        refusals.extend(_daily_cap(now, history.proactive_sent, settings))

    marketing = treated_as_marketing or reads_as_marketing or purpose.marketing
    if refusals:
        return PolicyVerdict(REFUSE, tuple(why + refusals + [n for n in notes if n.code == "urgent_exemption_lost"]),
                             purpose=purpose.code, marketing=marketing, content=content)
    if doubts:
        return PolicyVerdict(CONFIRM, tuple(why + doubts + notes), purpose=purpose.code, marketing=True,
                             questions=questions, content=content)
    summary = _summary(purpose, how, category, history.consent, label, check)
    return PolicyVerdict(ALLOW, (summary, *why, *notes), purpose=purpose.code, marketing=marketing, content=content)


def _marketing_purpose(check: ContentCheck) -> str:
    """The marketing purpose the content implies: its kind, or a workspace phrase's code."""
    for signal in check.signals:
        if signal.code in _KIND_PURPOSES:
            return _KIND_PURPOSES[signal.code]
    if check.signals:
        return "promotion"
    kinds = [r.kind for r in check.flagged]
    return next((_KIND_PURPOSES[k] for k in kinds if k in _KIND_PURPOSES), "promotion")


def _choose_purpose(declared: str | None, category: str, check: ContentCheck, agent: bool = False) -> _Purpose:
    """Declared, else implied by the template's category, else detected from the content (where the
    model is unsure and an agent sends, the agent decides, so nothing is detected as marketing)."""
    if declared:
        return _Purpose(PURPOSES[declared], "declared")
    implied = default_for_category(category)
    if implied:
        return _Purpose(PURPOSES[implied], "template")
    if check.marketing and not (agent and check.unsure):
        return _Purpose(PURPOSES[_marketing_purpose(check)], "detected")
    return _Purpose(PURPOSES[GENERIC_SERVICE], "detected")


def _marketing_rules(inputs: PolicyInput, history: History, settings: PolicySettings, label: str) -> list[Reason]:
    draft, now = inputs.draft, inputs.now
    reasons = []
    if draft.origin == "ai":
        reasons.append(Reason("ai_marketing", "This is marketing and an AI assistant proposed it: Herald never "
                                              "sends marketing that is an AI's idea, whatever the customer's "
                                              "consent. A person may write and send it.", "purpose"))
    consent = history.consent
    if consent is None:
        reasons.append(Reason("marketing_consent_missing", f"Marketing needs the customer's consent to marketing "
                                                           f"on {label}; none is recorded.", "to"))
    elif not consent.granted:
        reasons.append(Reason("marketing_consent_withdrawn",
                              f"Marketing needs the customer's consent to marketing on {label}; they withdrew it "
                              f"(recorded by {consent.recorded_by} on {format_moment(consent.recorded_at)}).",
                              "to"))
    hours = settings.marketing_after_service_hours
    if hours and history.last_service_at is not None:
        waited = now - history.last_service_at
        if waited < timedelta(hours=hours):
            reasons.append(Reason("marketing_after_service",
                                  f"A service message went to this customer {_duration(waited)} ago "
                                  f"({format_moment(history.last_service_at)}); marketing waits {_hours(hours)} "
                                  "after a service message, because the support channel is not a promotion "
                                  "channel. It may go after "
                                  f"{format_moment(history.last_service_at + timedelta(hours=hours))}.", ""))
    if draft.channel == "viber" and history.first_on_viber:
        reasons.append(Reason("viber_first_promotional", "The first Viber message to a person must not be "
                                                         "promotional: start with a transactional message.",
                              "purpose"))
    return reasons


def _zone(name: str) -> ZoneInfo | None:
    """The zone, or None where this machine's time-zone database does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def quiet_zones(now: datetime, zones: Sequence[str], start: str, end: str) -> list[tuple[str, datetime]]:
    """The zones (with their local time) where ``now`` falls in quiet hours; start == end means none."""
    begin, finish = _clock_time(start, "quiet_start"), _clock_time(end, "quiet_end")
    quiet = []
    for zone in zones:
        tz = _zone(zone)
        if tz is None:
            continue
        local = now.astimezone(tz)
        if _in_quiet(local.time().replace(second=0, microsecond=0), begin, finish):
            quiet.append((zone, local))
    return quiet


def _in_quiet(moment: time, begin: time, finish: time) -> bool:
    if begin == finish:
        return False
    if begin < finish:
        return begin <= moment < finish
    return moment >= begin or moment < finish


def _quiet_hours(now: datetime, zones: tuple[str, ...], settings: PolicySettings, notes: list[Reason]) -> list[Reason]:
    start, end = settings.quiet_start, settings.quiet_end
    if start == end:
        return []
    zones = tuple(z for z in zones if _zone(z) is not None)
    if not zones:
        notes.append(Reason("time_zone_unknown", "Herald cannot tell this customer's time zone from the number, "
                                                 "so quiet hours could not be checked.", ""))
        return []
    quiet = quiet_zones(now, zones, start, end)
    if not quiet:
        return []
    zone, local = quiet[0]
    span = f"quiet hours run {start}–{end}"
    if len(zones) == 1:
        return [Reason("quiet_hours", f"It's {local:%H:%M} for this customer ({zone}): {span}. Send after {end} "
                                      "their time.", "")]
    after = _quiet_ends(now, zones, start, end)
    when = (f"Send after {end} in all of them ({format_moment(after)})" if after else
            f"No time of day is outside quiet hours in all of them; send after {end} their time once you know "
            "where they are")
    return [Reason("quiet_hours", f"It's {local:%H:%M} for this customer in {zone}, one of the time zones their "
                                  f"number may be in ({', '.join(zones)}): {span}. {when}.", "")]


def _quiet_ends(now: datetime, zones: Sequence[str], start: str, end: str) -> datetime | None:
    """The first moment in the next two days when no zone is in quiet hours (quiet in any = quiet)."""
    finish = _clock_time(end, "quiet_end")
    candidates = []
    for zone in zones:
        tz = _zone(zone)
        if tz is None:
            continue
        local = now.astimezone(tz)
        for days in range(3):
            day = (local + timedelta(days=days)).date()
            moment = datetime.combine(day, finish, tzinfo=tz).astimezone(now.tzinfo)
            if moment > now:
                candidates.append(moment)
    for moment in sorted(candidates):
        if not quiet_zones(moment, zones, start, end):
            return moment
    return None


def _daily_cap(now: datetime, sent: tuple[datetime, ...], settings: PolicySettings) -> list[Reason]:
    cap = settings.daily_cap
    counted = sorted(t for t in sent if now - t < timedelta(hours=24))
    if cap is None or len(counted) < cap:
        return []
    frees_at = counted[len(counted) - cap] + timedelta(hours=24)
    return [Reason("daily_cap", f"This customer has already had {_count(len(counted), 'proactive message')} in the "
                                f"last 24 hours; this workspace allows {cap} a day. The next can go after "
                                f"{format_moment(frees_at)}.", "")]


def _summary(purpose: Purpose, how: str, category: str, consent: MarketingConsent | None, label: str,
             check: ContentCheck) -> Reason:
    if purpose.marketing or category in MARKETING_CATEGORIES:
        assert consent is not None
        return Reason("marketing_consented", f"Marketing (“{purpose.label}”) to a customer who consented to "
                                             f"marketing on {label} (recorded by {consent.recorded_by} on "
                                             f"{format_moment(consent.recorded_at)}).", "")
    found = check.no_marketing()
    if how == "detected":
        return Reason("purpose_detected", f"No purpose was given, so Herald records it as “{purpose.label}”. "
                                          f"{found}", "purpose")
    source = "" if how == "declared" else f", from the template's {category} category"
    return Reason("service", f"Service message (“{purpose.label}”{source}). {found}", "")


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    hours, minutes = divmod(minutes, 60)
    parts = [_count(hours, "hour")] if hours else []
    if minutes:
        parts.append(_count(minutes, "minute"))
    return " ".join(parts)


def _hours(hours: float) -> str:
    return _count(int(hours), "hour") if float(hours).is_integer() else f"{hours:g} hours"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
