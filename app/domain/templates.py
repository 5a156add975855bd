"""Message templates: their placeholders, how parameters bind to them, and the exact text they render.

A template has named or positional placeholders (``{{1}}``, ``{{first_name}}``) in its header text,
body and URL buttons; a media header needs a link. Each placeholder is a *slot* with a stable id:
the body's own key (``1``, ``first_name``), ``header.<key>``, ``button<i>.<key>``, ``header.media``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence, Union

from .refusals import Reason, Refused

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")

APPROVED = "APPROVED"
STATUS_WORDS = {
    "PENDING": "is still waiting for approval",
    "IN_APPEAL": "is under appeal and not yet approved",
    "REJECTED": "was rejected by the channel",
    "PAUSED": "is paused by the channel for low quality",
    "DISABLED": "is disabled by the channel",
    "DELETED": "was deleted",
    "VANISHED": "no longer exists at the provider",
    "LIMIT_EXCEEDED": "is over the provider's template limit",
    "PENDING_DELETION": "is being deleted",
    "ARCHIVED": "is archived at the provider",
}

# What a template is after the channel reports an event about it (Meta's message_template_status_update).
# Events missing here leave it as it was: FLAGGED warns but still sends, LOCKED and UNLOCKED concern
# editing, and UNARCHIVED restores a status the event does not name (a template sync reads it).
_STATUS_AFTER_EVENT = {
    "APPROVED": APPROVED, "REINSTATED": APPROVED,
    **{word: word for word in ("PENDING", "IN_APPEAL", "REJECTED", "PAUSED", "DISABLED", "DELETED",
                               "PENDING_DELETION", "ARCHIVED", "LIMIT_EXCEEDED")},
}


def status_after_event(event: str) -> str | None:
    """The template's status once the channel reported ``event``; None when the event does not say."""
    return _STATUS_AFTER_EVENT.get(event.strip().upper())

# Template categories as the channels name them.
UTILITY, MARKETING, AUTHENTICATION = "UTILITY", "MARKETING", "AUTHENTICATION"
TRANSACTIONAL, PROMOTIONAL = "TRANSACTIONAL", "PROMOTIONAL"
CATEGORIES = {
    "whatsapp": (UTILITY, MARKETING, AUTHENTICATION),
    "viber": (TRANSACTIONAL, PROMOTIONAL),
    "sms": (UTILITY, MARKETING, AUTHENTICATION),
}
MARKETING_CATEGORIES = frozenset({MARKETING, PROMOTIONAL})


@dataclass(frozen=True)
class Currency:
    """A WhatsApp currency parameter; people see ``fallback_value``."""

    fallback_value: str
    code: str
    amount_1000: int

    def text(self) -> str:
        return self.fallback_value


@dataclass(frozen=True)
class DateTimeValue:
    """A WhatsApp date_time parameter; people see ``fallback_value``."""

    fallback_value: str

    def text(self) -> str:
        return self.fallback_value


ParamValue = Union[str, Currency, DateTimeValue]


@dataclass(frozen=True)
class Button:
    type: str  # URL, QUICK_REPLY, PHONE_NUMBER, COPY_CODE, OTP, ...
    text: str
    url: str = ""


@dataclass(frozen=True)
class TemplateSpec:
    """What the domain needs to know of a stored template."""

    name: str
    language: str
    channel: str
    category: str
    status: str
    body: str
    parameter_format: str = "POSITIONAL"  # or NAMED
    header_format: str = ""  # "", TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION
    header_text: str = ""
    footer: str = ""
    buttons: tuple[Button, ...] = ()
    examples: Mapping[str, str] = field(default_factory=dict)

    @property
    def approved(self) -> bool:
        return self.status == APPROVED

    @property
    def marketing(self) -> bool:
        return self.category in MARKETING_CATEGORIES

    def slots(self) -> list["Slot"]:
        """Every placeholder to fill, in reading order (header, body, buttons)."""
        found: list[Slot] = []
        if self.header_format in MEDIA_FORMATS:
            found.append(Slot("header.media", "header", "media", f"Header {self.header_format.lower()} link"))
        if self.header_format == "TEXT":
            found += [Slot(f"header.{k}", "header", k, f"Header {_label(k)}") for k in _keys(self.header_text)]
        found += [Slot(k, "body", k, _label(k).capitalize() if not k.isdigit() else f"Variable {k}")
                  for k in _keys(self.body)]
        for index, button in enumerate(self.buttons):
            if button.type.upper() == "URL":
                found += [Slot(f"button{index}.{k}", f"button{index}", k, f"Link ending for “{button.text}”")
                          for k in _keys(button.url)]
        return found


@dataclass(frozen=True)
class Slot:
    id: str
    component: str
    key: str
    label: str


@dataclass(frozen=True)
class Rendered:
    """A template with its parameters filled: the exact text the customer reads."""

    text: str
    header: str
    body: str
    footer: str
    params: Mapping[str, ParamValue]


def _keys(text: str) -> list[str]:
    return list(dict.fromkeys(PLACEHOLDER.findall(text or "")))


def _label(key: str) -> str:
    return key.replace("_", " ")


def placeholders(text: str) -> list[str]:
    """The distinct placeholder keys in ``text``, in order of first use."""
    return _keys(text)


_NEWLINES = re.compile(r"[\r\n\t]+")
_SPACES = re.compile(r" {5,}")


def clean_parameter(value: str) -> str:
    """Make a value acceptable to Meta: no newlines or tabs, never more than four spaces in a row."""
    return _SPACES.sub("    ", _NEWLINES.sub(" ", value)).strip()


def bind_positional(template: TemplateSpec, values: Sequence[str]) -> dict[str, str]:
    """Bind values given in order (CLI ``--param V``) to the template's slots in reading order."""
    slots = template.slots()
    if len(values) > len(slots):
        raise Refused(Reason("template_params_extra",
                             f"Template “{template.name}” takes {len(slots)} value(s) but {len(values)} were given.",
                             "params"))
    return {slot.id: value for slot, value in zip(slots, values)}


def render(template: TemplateSpec, params: Mapping[str, ParamValue]) -> Rendered:
    """Fill every slot or refuse, naming each missing, empty or unknown parameter."""
    slots = template.slots()
    wanted = {s.id for s in slots}
    reasons: list[Reason] = []
    extra = [k for k in params if k not in wanted]
    if extra:
        reasons.append(Reason("template_params_extra",
                              f"Template “{template.name}” has no placeholder named {', '.join(sorted(extra))}.",
                              "params"))
    cleaned: dict[str, ParamValue] = {}
    for slot in slots:
        raw = params.get(slot.id)
        value: ParamValue | None
        if isinstance(raw, (Currency, DateTimeValue)):
            value = raw if raw.fallback_value.strip() else None
        elif raw is None:
            value = None
        else:
            value = clean_parameter(str(raw)) or None
        if value is None:
            reasons.append(Reason("template_param_missing", f"Fill in “{slot.label}”.", f"param:{slot.id}"))
        else:
            cleaned[slot.id] = value
    if reasons:
        raise Refused(*reasons)

    def fill(text: str, prefix: str) -> str:
        return PLACEHOLDER.sub(lambda m: _text(cleaned[prefix + m.group(1)]), text)

    header = fill(template.header_text, "header.") if template.header_format == "TEXT" else ""
    body = fill(template.body, "")
    parts = [p for p in (header, body, template.footer) if p]
    return Rendered("\n".join(parts), header, body, template.footer, cleaned)


def _text(value: ParamValue) -> str:
    return value if isinstance(value, str) else value.text()


def choose(versions: Iterable[TemplateSpec], name: str, language: str | None) -> TemplateSpec:
    """Pick the template ``name`` in ``language`` (or its only language), refusing in words otherwise."""
    same_name = [t for t in versions if t.name == name]
    if not same_name:
        raise Refused(Reason("template_unknown", f"There is no template named “{name}”.", "template"))
    if language:
        exact = [t for t in same_name if t.language.lower() == language.lower()]
        if not exact:
            have = ", ".join(sorted(t.language for t in same_name))
            raise Refused(Reason("template_language_missing",
                                 f"Template “{name}” has no {language} version; it exists in {have}.", "language"))
        chosen = exact[0]
    elif len(same_name) == 1:
        chosen = same_name[0]
    else:
        approved = [t for t in same_name if t.approved]
        if len(approved) != 1:
            have = ", ".join(sorted(t.language for t in same_name))
            raise Refused(Reason("template_language_needed",
                                 f"Template “{name}” exists in {have}: choose a language.", "language"))
        chosen = approved[0]
    if not chosen.approved:
        words = STATUS_WORDS.get(chosen.status, f"has status {chosen.status}")
        raise Refused(Reason("template_not_approved",
                             f"Template “{name}” ({chosen.language}) {words}; only approved templates can be sent.",
                             "template"))
    return chosen


_PREFILL = {
    "name": "name", "full_name": "name", "customer_name": "name", "contact_name": "name",
    "first_name": "first_name", "firstname": "first_name", "given_name": "first_name",
    "last_name": "last_name", "lastname": "last_name", "surname": "last_name",
    "email": "email", "email_address": "email", "phone": "phone", "phone_number": "phone",
}


def suggest_value(slot: Slot, contact: Mapping[str, str]) -> str:
    """A value for ``slot`` taken from the contact where the placeholder's name obviously maps."""
    field_name = _PREFILL.get(slot.key.lower())
    if field_name is None:
        return ""
    return _contact_field(field_name, contact)


def _contact_field(field_name: str, contact: Mapping[str, str]) -> str:
    if field_name == "first_name" and not contact.get("first_name") and contact.get("name"):
        return contact["name"].split()[0]
    return contact.get(field_name) or ""


# A greeting right before a positional body placeholder ("Hi {{1}}", "Dear {{1}},") names the customer.
_GREETING = re.compile(r"(?:^|[\s,.!¡¿])(hi|hello|hey|dear|hola|bonjour|olá|ola|hallo|ciao)[\s,]*$", re.IGNORECASE)


def greets(body: str, key: str) -> bool:
    """Whether the body's placeholder ``key`` comes right after a greeting, so it is the first name."""
    marker = "{{%s}}" % key
    if marker not in body:
        return False
    return bool(_GREETING.search(body.split(marker, 1)[0]))


def prefill(template: TemplateSpec, contact: Mapping[str, str]) -> dict[str, str]:
    """What each slot starts with on every panel: the contact's value where the placeholder's name
    obviously maps, and the first name for a positional body placeholder right after a greeting."""
    values = {}
    for slot in template.slots():
        value = suggest_value(slot, contact)
        if not value and slot.component == "body" and slot.key.isdigit() and greets(template.body, slot.key):
            value = _contact_field("first_name", contact)
        values[slot.id] = value
    return values
