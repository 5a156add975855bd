"""SMS encoding and segment counting (3GPP TS 23.038), exact at every boundary.

A message is GSM-7 when every character is in the basic or extension table, else UCS-2 (UTF-16).
Single messages carry 160 septets / 70 code units; concatenated ones lose a 6-octet header to each
segment and carry 153 / 67. Extension characters cost two septets (ESC + code) and a surrogate pair
two code units; neither pair is ever split across segments.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7 = "GSM-7"
UCS2 = "UCS-2"

_LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


@dataclass(frozen=True)
class SmsEncoding:
    """How an SMS body travels: its encoding, its length in units, and the segments it costs."""

    encoding: str
    units: int
    segments: int
    non_gsm_characters: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"encoding": self.encoding, "units": self.units, "segments": self.segments,
                "non_gsm_characters": list(self.non_gsm_characters)}

    def describe(self) -> str:
        plural = "segment" if self.segments == 1 else "segments"
        unit = "characters" if self.encoding == GSM7 else "UCS-2 units"
        return f"{self.encoding}, {self.units} {unit}, {self.segments} {plural}"


def _unit_sizes(text: str) -> tuple[str, list[int], tuple[str, ...]]:
    outside = tuple(dict.fromkeys(c for c in text if c not in GSM7_BASIC and c not in GSM7_EXTENSION))
    if not outside:
        return GSM7, [2 if c in GSM7_EXTENSION else 1 for c in text], ()
    return UCS2, [2 if ord(c) > 0xFFFF else 1 for c in text], outside


def encode(text: str) -> SmsEncoding:
    """Count ``text``'s encoding, units and segments without splitting any two-unit character."""
    encoding, sizes, outside = _unit_sizes(text)
    single, per_segment = _LIMITS[encoding]
    total = sum(sizes)
    if total <= single:
        return SmsEncoding(encoding, total, 1 if total else 0, outside)
    segments, used = 1, 0
    for size in sizes:
        if used + size > per_segment:
            segments, used = segments + 1, 0
        used += size
    return SmsEncoding(encoding, total, segments, outside)
