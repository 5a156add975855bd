"""SMS opt-out and opt-in keywords, as carriers and Twilio honour them."""

from __future__ import annotations

OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})


def keyword(text: str) -> str | None:
    """``"out"``, ``"in"`` or None: only a message that is the keyword alone counts, as carriers do."""
    word = "".join((text or "").split()).strip(".!").upper()
    if word in OPT_OUT:
        return "out"
    if word in OPT_IN:
        return "in"
    return None
