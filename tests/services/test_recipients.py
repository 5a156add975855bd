"""Recipient state on a real store: counting business messages, and taking back one that failed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.services import recipients
from app.services.demo import CUSTOMERS, DEMO
from app.services.send import SendRequest, send
from app.store.models import RecipientState, Sender

PERSON = CUSTOMERS["new"]


def viber_sender(ctx) -> int:
    with ctx.store.session() as session:
        return session.scalar(select(Sender.id).where(Sender.channel == "viber"))


def current(ctx, sender_id: int, person: str = PERSON) -> tuple:
    with ctx.store.session() as session:
        row = session.scalar(select(RecipientState).where(RecipientState.sender_id == sender_id,
                                                          RecipientState.recipient == person))
        return (row.outbound_since_inbound, row.last_outbound_at) if row else None


@pytest.mark.parametrize("failed, expected", [
    ("second", (1, "first")),  # the latest counted: taken back, and the one before it is the last again
    ("first", (2, "second")),  # one counted after it: kept, one too many rather than one too few
])
def test_a_failed_message_is_taken_back_only_while_it_is_the_latest_counted(ctx, clock, failed, expected):
    sender = viber_sender(ctx)
    at = {"first": clock(), "second": clock() + timedelta(minutes=5)}
    with ctx.store.session() as session:
        recipients.note_outbound(session, sender, PERSON, at["first"])
        recipients.note_outbound(session, sender, PERSON, at["second"])
    with ctx.store.session() as session:
        recipients.unnote_outbound(session, sender, PERSON, at[failed], at["first"] if failed == "second" else None)
    assert current(ctx, sender) == (expected[0], at[expected[1]])


def test_a_reply_between_the_claim_and_the_failure_is_not_undone_twice(ctx, clock):
    sender = viber_sender(ctx)
    # The provider stamps the reply with when the customer wrote: before the claim, though it arrives after.
    failed_at, reply_at, later = clock(), clock() - timedelta(seconds=2), clock() + timedelta(seconds=1)
    with ctx.store.session() as session:
        recipients.note_outbound(session, sender, PERSON, failed_at)
    with ctx.store.session() as session:
        recipients.record_inbound(session, session.get(Sender, sender), PERSON, "thanks", "in-1", reply_at)
    with ctx.store.session() as session:
        recipients.note_outbound(session, sender, PERSON, later)  # counted after the reply
    with ctx.store.session() as session:
        recipients.unnote_outbound(session, sender, PERSON, failed_at, None)
    assert current(ctx, sender) == (1, later)


def test_a_first_viber_message_that_failed_leaves_the_person_a_first_contact(ctx):
    broken = CUSTOMERS["undeliverable"]
    result = send(ctx, SendRequest(workspace=DEMO, channel="viber", to=broken, template="delivery_notice",
                                   params={"name": "Asha", "tracking": "T1"}, purpose="delivery_update"))
    assert result.message["status"] == "failed"
    assert current(ctx, viber_sender(ctx), broken) == (0, None)
