"""A workspace's settings: which keys exist, what each value must be, and its default.

Operators change them with ``flask --app app workspace set``; a value of the wrong type or form is
refused there, in words, before it is stored, so the send path never meets a broken setting it
would have to explain to an agent. Pure: values in, values or refusals out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .policy import UNCHECKED_CHOICES
from .refusals import Reason, Refused

_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*")


class Invalid(ValueError):
    """A value that is not what its setting needs; the message says what it must be."""


@dataclass(frozen=True)
class Setting:
    key: str
    wanted: str                       # what a value must be, in words
    default: Any
    parse: Callable[[Any], Any]       # the value as stored, or Invalid


def _whole(low: int, high: int | None = None, *, nullable: bool = False) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            raise Invalid
        return value
    return parse


def _hours(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise Invalid
    return value


def _clock(value: Any) -> str:
    if not isinstance(value, str) or not _CLOCK.fullmatch(value.strip()):
        raise Invalid
    hours, minutes = value.strip().split(":")
    return f"{int(hours):02d}:{minutes}"


def _languages(value: Any) -> list[str]:
    listed = value.split(",") if isinstance(value, str) else value
    if not isinstance(listed, (list, tuple)) or not all(isinstance(v, str) for v in listed):
        raise Invalid
    codes = [v.strip() for v in listed if v.strip()]
    if not all(_LANGUAGE.fullmatch(code) for code in codes):
        raise Invalid
    return codes


def _choice(*allowed: str):
    def parse(value: Any) -> str:
        if not isinstance(value, str) or value.strip().lower() not in allowed:
            raise Invalid
        return value.strip().lower()
    return parse


def _phrase_list(value: Any) -> list[str]:
    listed = [value] if isinstance(value, str) else value
    if not isinstance(listed, (list, tuple)) or not all(isinstance(p, str) and p.strip() for p in listed):
        raise Invalid
    return [p.strip() for p in listed]


def _phrases(value: Any) -> Any:
    if isinstance(value, Mapping):
        if not all(isinstance(code, str) and code.strip() for code in value):
            raise Invalid
        return {code.strip(): _phrase_list(phrases) for code, phrases in value.items()}
    return _phrase_list(value)


SETTINGS: dict[str, Setting] = {s.key: s for s in (
    Setting("max_sms_segments", "a whole number from 1 to 100", 10, _whole(1, 100)),
    Setting("languages", 'template languages the panels offer: a list of codes such as ["en", "es"], or "en,es"',
            [], _languages),
    Setting("daily_cap", "a whole number, 1 or more, or null for no cap", 3, _whole(1, nullable=True)),
    Setting("quiet_start", 'a time of day from 00:00 to 23:59, such as "21:00"', "21:00", _clock),
    Setting("quiet_end", 'a time of day from 00:00 to 23:59, such as "08:00"', "08:00", _clock),
    Setting("marketing_after_service_hours", "a number of hours, 0 or more", 24, _hours),
    Setting("marketing_phrases", "a list of phrases, or an object of signal code → list of phrases", [], _phrases),
    Setting("marketing_languages", 'a list of language codes such as ["de", "fr"]', [], _languages),
    Setting("unchecked_language", "one of " + ", ".join(UNCHECKED_CHOICES), "refuse", _choice(*UNCHECKED_CHOICES)),
)}


def _unknown(key: str) -> Refused:
    return Refused(Reason("setting_unknown", f"“{key}” is not a workspace setting; the settings are "
                                             f"{', '.join(SETTINGS)}.", key))


def checked(key: str, value: Any) -> Any:
    """``value`` as ``key`` stores it, or a refusal that says what the setting takes."""
    setting = SETTINGS.get(key)
    if setting is None:
        raise _unknown(key)
    try:
        return setting.parse(value)
    except Invalid:
        raise Refused(Reason("setting_invalid", f"{key}={_show(value)} is not valid: {key} is {setting.wanted}.",
                             key)) from None


def checked_all(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Every change checked; all the refusals at once, so an operator fixes them in one go."""
    out, reasons = {}, []
    for key, value in changes.items():
        try:
            out[key] = checked(key, value)
        except Refused as refused:
            reasons.extend(refused.reasons)
    if reasons:
        raise Refused(*reasons)
    return out


def unsettable(key: str, stored: Mapping[str, Any]) -> None:
    """A key can be unset when it is a setting, or when it is stored (from before it was checked)."""
    if key not in SETTINGS and key not in stored:
        raise _unknown(key)


def problems(stored: Mapping[str, Any]) -> list[str]:
    """What is wrong with settings already stored (written before they were checked, or by hand).
    Keys Herald does not know are not a problem: nothing reads them."""
    found = []
    for key, value in stored.items():
        if key in SETTINGS:
            try:
                SETTINGS[key].parse(value)
            except Invalid:
                found.append(f"{key}={_show(value)} is not {SETTINGS[key].wanted}")
    return found


def value(stored: Mapping[str, Any], key: str) -> Any:
    """The stored value of ``key``, or its default when it is unset or unreadable."""
    setting = SETTINGS[key]
    try:
        return setting.parse(stored[key]) if key in stored else setting.default
    except Invalid:
        return setting.default


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:59] + "…"
