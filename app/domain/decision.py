"""What the domain decides about one send, and what it needs to know to decide."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Mapping

from .refusals import Reason
from .sms import SmsEncoding
from .templates import ParamValue, TemplateSpec
from .window import WindowState

ALLOWED, CONFIRM, REFUSED = "allowed", "confirm", "refused"


@dataclass(frozen=True)
class RecipientState:
    """What Herald knows of one customer on one sender."""

    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None
    outbound_since_inbound: int = 0
    opted_out: bool = False
    opted_out_at: datetime | None = None

    @property
    def first_contact(self) -> bool:
        return self.last_inbound_at is None and self.last_outbound_at is None


@dataclass(frozen=True)
class Draft:
    """The message an agent or a system wants to send, already resolved against the store."""

    channel: str
    recipient: str  # E.164
    text: str | None = None
    template: TemplateSpec | None = None
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    purpose: str | None = None
    origin: str = "agent"
    confirmed: bool = False


@dataclass(frozen=True)
class Limits:
    max_sms_segments: int = 10


@dataclass(frozen=True)
class PolicyVerdict:
    """The proactive policy's answer: ``allow``, ``confirm`` or ``refuse``, with its reasons."""

    outcome: str = "allow"
    reasons: tuple[Reason, ...] = ()
    purpose: str | None = None
    marketing: bool = False
    questions: tuple[str, ...] = ()
    # How the content check read the text: probability, unsure, kind, language, the sentences that read
    # as marketing with the words that weighed most, the near miss (see ContentCheck.as_dict).
    content: Mapping[str, object] | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, object]:
        return {"outcome": self.outcome, "reasons": [r.as_dict() for r in self.reasons],
                "purpose": self.purpose, "marketing": self.marketing, "questions": list(self.questions),
                "content": dict(self.content) if self.content is not None else None}


@dataclass(frozen=True)
class PolicyInput:
    """Everything the policy judges: the draft, its final text, and the recipient's history."""

    draft: Draft
    text: str
    state: RecipientState
    now: datetime


Policy = Callable[[PolicyInput], PolicyVerdict]


def no_policy(_: PolicyInput) -> PolicyVerdict:
    """The policy to use where none applies (a unit test of the channel rules alone)."""
    return PolicyVerdict()


@dataclass(frozen=True)
class Decision:
    """The domain's answer: allowed, needs an agent's confirmation, or refused — and why."""

    outcome: str
    channel: str
    recipient: str
    reasons: tuple[Reason, ...] = ()
    text: str = ""
    kind: str = "text"  # text or template
    window: WindowState | None = None
    sms: SmsEncoding | None = None
    policy: PolicyVerdict | None = None
    purpose: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED

    def as_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome,
            "allowed": self.allowed,
            "channel": self.channel,
            "recipient": self.recipient,
            "kind": self.kind,
            "text": self.text,
            "purpose": self.purpose,
            "reasons": [r.as_dict() for r in self.reasons],
            "window": self.window.as_dict() if self.window else None,
            "sms": self.sms.as_dict() if self.sms else None,
            "policy": self.policy.as_dict() if self.policy else None,
        }
