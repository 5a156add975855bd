"""Typed refusals: every "no" Herald says carries a code a program can branch on and words a person reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Reason:
    """One reason behind a decision.

    ``code`` is stable for programs; ``message`` is a sentence for a person; ``field`` names the
    input the reason is about (so a form can mark it) or is empty when it is about the whole send.
    """

    code: str
    message: str
    field: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "field": self.field}


class Refused(Exception):
    """Raised where a send cannot even be evaluated (unknown sender, invalid number, bad template)."""

    def __init__(self, *reasons: Reason) -> None:
        if not reasons:
            raise ValueError("a refusal needs at least one reason")
        self.reasons: tuple[Reason, ...] = reasons
        super().__init__(sentences(r.message for r in reasons))

    @property
    def code(self) -> str:
        return self.reasons[0].code


def sentences(messages: Iterable[str]) -> str:
    """Several reasons as one paragraph a person reads: each a sentence with its own full stop,
    joined by a space ("The window closed. Choose a template."), never "closed.; Choose"."""
    out = []
    for message in messages:
        text = message.strip().rstrip(";,").strip()
        if text:
            out.append(text if text.endswith((".", "!", "?", "…")) else text + ".")
    return " ".join(out)
