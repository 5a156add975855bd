"""Phone numbers: parsed and normalised to E.164 before anything else looks at them."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from phonenumbers import timezone as pn_timezone

from .refusals import Reason, Refused


def normalise(raw: str, default_region: str | None = None, field: str = "to") -> str:
    """Return ``raw`` as E.164 or raise :class:`Refused` saying, in words, what is wrong with it."""
    text = (raw or "").strip()
    if not text:
        raise Refused(Reason("number_missing", "Enter the customer's phone number.", field))
    if text.startswith("00"):
        text = "+" + text[2:]
    region = None if text.startswith("+") else (default_region or None)
    try:
        parsed = phonenumbers.parse(text, region)
    except NumberParseException:
        hint = "" if text.startswith("+") else " Start it with + and the country code, e.g. +44 7700 900123."
        raise Refused(Reason("number_invalid", f"“{raw}” is not a phone number.{hint}", field)) from None
    if not phonenumbers.is_possible_number(parsed):
        raise Refused(Reason("number_impossible",
                             f"“{raw}” has the wrong number of digits for its country.", field))
    if not phonenumbers.is_valid_number(parsed):
        raise Refused(Reason("number_invalid",
                             f"“{raw}” is not a valid number in any numbering plan.", field))
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def time_zones(e164: str) -> tuple[str, ...]:
    """The IANA time zones the number may be in (several for large countries)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except NumberParseException:
        return ()
    zones = tuple(z for z in pn_timezone.time_zones_for_number(parsed) if z != "Etc/Unknown")
    return zones


def region_of(e164: str) -> str | None:
    """The two-letter region a number belongs to, used to pick a sender's default region."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except NumberParseException:
        return None


def display(e164: str) -> str:
    """A number as people write it internationally (+44 7700 900123)."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), PhoneNumberFormat.INTERNATIONAL)
    except NumberParseException:
        return e164
