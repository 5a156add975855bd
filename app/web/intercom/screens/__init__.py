"""The sidebar's canvases (Intercom's screens), as pure functions of what the services said.

Inbox rules (reference §1, enforced in App Store review): the first canvas stays under about
400 px and has no primary button; navigation is a link button at the bottom after a divider;
success shows ✅ and a way back; empty and error states are left-aligned muted text; dates are
absolute. Every function here returns a complete response body.
"""

from __future__ import annotations

from .common import (
    CONSENT_REASONS,
    EARLIER,
    ECHO,
    KIND_LABELS,
    NO_PURPOSE,
    RECENT,
    back,
    expired,
    moment,
    no_senders,
    problem,
    setup_needed,
    shown_number,
)
from .message import (
    ComposeView,
    ConfirmView,
    HomeView,
    NOTE_WORDS,
    SentView,
    WriteView,
    compose,
    confirm,
    home,
    purpose_fields,
    sent,
    slot_label,
    sms_line,
    write,
)
from .consent import (
    ConsentRecordedView,
    ConsentView,
    consent,
    consent_line,
    consent_recorded,
)

__all__ = [
    "CONSENT_REASONS",
    "ComposeView",
    "ConfirmView",
    "ConsentRecordedView",
    "ConsentView",
    "EARLIER",
    "ECHO",
    "HomeView",
    "KIND_LABELS",
    "NOTE_WORDS",
    "NO_PURPOSE",
    "RECENT",
    "SentView",
    "WriteView",
    "back",
    "compose",
    "confirm",
    "consent",
    "consent_line",
    "consent_recorded",
    "expired",
    "home",
    "moment",
    "no_senders",
    "problem",
    "purpose_fields",
    "sent",
    "setup_needed",
    "shown_number",
    "slot_label",
    "sms_line",
    "write",
]
