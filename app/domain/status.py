"""A message's delivery status, and the one rule for moving it: never backwards."""

from __future__ import annotations

QUEUED = "queued"      # claimed in the store, not yet handed to the provider
UNKNOWN = "unknown"    # the provider call timed out: it may or may not have gone
ACCEPTED = "accepted"  # the provider took it and gave an id
SENT = "sent"
DELIVERED = "delivered"
READ = "read"
FAILED = "failed"

RANK = {QUEUED: 0, UNKNOWN: 1, ACCEPTED: 2, SENT: 3, DELIVERED: 4, READ: 5}
LABELS = {QUEUED: "Queued", UNKNOWN: "Outcome unknown", ACCEPTED: "Accepted", SENT: "Sent",
          DELIVERED: "Delivered", READ: "Read", FAILED: "Failed"}
STATUSES = tuple(LABELS)


def advance(current: str, incoming: str) -> str:
    """The status after ``incoming`` arrives: later states win, a read message stays read.

    ``failed`` ends a message that was not yet delivered; once delivered or read, a late failure
    report does not undo what the customer already has.
    """
    if incoming not in LABELS:
        return current
    if current == FAILED:
        return FAILED
    if incoming == FAILED:
        return FAILED if RANK[current] < RANK[DELIVERED] else current
    return incoming if RANK[incoming] > RANK[current] else current


def label(status: str) -> str:
    return LABELS.get(status, status.capitalize())


def moves_from(incoming: str) -> tuple[str, ...]:
    """The statuses ``incoming`` replaces: what a conditional update may find, so two reports
    applied at once can never leave the earlier of them in place."""
    return tuple(current for current in LABELS if current != incoming and advance(current, incoming) == incoming)
