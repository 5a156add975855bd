"""The marketing-consent canvases: where the customer stands per channel, and a record saved."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ....domain.policy import MarketingConsent
from ..components import (
    MAX_OPTIONS,
    Component,
    button,
    canvas,
    clip,
    divider,
    input_,
    plain,
    single_select,
    text,
)
from .common import EARLIER, ECHO, back, shown_number


# --------------------------------------------------------------------------- marketing consent


def consent_line(record: MarketingConsent | None) -> str:
    """What is recorded on one channel, by whom and when, as the end of a sentence."""
    if record is None:
        return "no marketing consent recorded"
    sentence = plain(record.sentence())
    return sentence[:1].lower() + sentence[1:]


def _consent_note(record: MarketingConsent) -> Component | None:
    return text(f"Note: “{plain(clip(record.note, 200))}”", "muted") if record.note else None


@dataclass(frozen=True)
class ConsentView:
    """One person's marketing consent on the workspace's channels, and the form that records a change."""

    number: str
    channels: Sequence[tuple[str, str]]  # (id, label) the workspace sends on
    current: Mapping[str, MarketingConsent | None]  # the latest record per channel
    earlier: Sequence[MarketingConsent]  # older records, newest first
    stored: Mapping[str, Any]
    channel: str = ""  # preselected in the form (e.g. the channel a send was refused on)
    note: str = ""
    errors: Sequence[str] = ()
    failed: frozenset[str] = frozenset()  # ids of the fields to mark
    back_label: str = "Back"


def consent(view: ConsentView) -> dict[str, Any]:
    """Where the customer stands on marketing per channel, and a grant or withdrawal to record.

    Lines are text rather than a data-table: who recorded it and when are the part an agent needs,
    and a table would cut them.
    """
    components: list[Component] = [
        text("Marketing consent", "header"),
        text(f"For **{shown_number(view.number)}**", bottom_margin=False),
        text("Marketing messages need the customer's consent on that channel. Record only what the customer "
             "told you.", "muted"),
    ]
    labels = dict(view.channels)
    for channel, label in view.channels:
        record = view.current.get(channel)
        components.append(text(f"**{label}**: {consent_line(record)}"))
        note = _consent_note(record) if record else None
        if note:
            components.append(note)
    earlier = list(view.earlier)[:EARLIER]
    if earlier:
        components.append(text("**Earlier records**", bottom_margin=False))
        for index, record in enumerate(earlier):
            line = f"{labels.get(record.channel, record.channel)}: {consent_line(record)}"
            if record.note:
                line += f" Note: “{plain(clip(record.note, 80))}”"
            components.append(text(line, "muted", bottom_margin=index == len(earlier) - 1))
    components += [divider(), text("**Record what the customer said**")]
    components += [text(plain(error), "error") for error in view.errors]
    if len(view.channels) >= 2:
        components.append(single_select("consent_channel", "Channel", list(view.channels)[:MAX_OPTIONS],
                                         view.channel, failed="consent_channel" in view.failed))
    elif view.channels:
        components.append(text(f"Channel: {view.channels[0][1]}"))
    components += [
        input_("consent_note", "Note (optional)", view.note[:ECHO], placeholder="e.g. asked on the phone",
               failed="consent_note" in view.failed),
        button("consent_grant", "Record consent", "primary"),
        button("consent_withdraw", "Record withdrawal", "secondary"),
        *back("consent_back", view.back_label),
    ]
    return canvas(components, dict(view.stored))


@dataclass(frozen=True)
class ConsentRecordedView:
    record: MarketingConsent
    channel_label: str
    stored: Mapping[str, Any]
    resume: bool = False  # a refused message waits to be sent
    replayed: bool = False  # the same click arrived again: nothing new was recorded


def consent_recorded(view: ConsentRecordedView) -> dict[str, Any]:
    """✅, what is now recorded and what it means for sending, and the ways on (never a dead end)."""
    record, label = view.record, view.channel_label
    heading = "✅ Marketing consent recorded" if record.granted else "✅ Marketing consent withdrawn"
    effect = (f"Herald may now send marketing on {label} to this number, when the other rules allow it."
              if record.granted else
              f"Herald refuses marketing on {label} to this number until consent is recorded again.")
    components: list[Component] = [
        text(heading, "header"),
        text(f"**{label}** · {shown_number(record.recipient)}"),
        text(plain(record.sentence())),
    ]
    note = _consent_note(record)
    if note:
        components.append(note)
    components.append(text(effect, "muted"))
    if view.replayed:
        components.append(text("This had already been recorded; Herald did not record it twice.", "muted"))
    if view.resume:
        components.append(button("consent_resume", "Back to your message", "secondary"))
    components += [divider(), button("consent_view", "Marketing consent", "link"),
                   button("home", "Back to start", "link")]
    return canvas(components, dict(view.stored), completed=not view.replayed)
