"""Recipient state: read for every decision, written by sends and by what customers send us."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import optout
from ..domain.decision import RecipientState as StateView
from ..store.models import InboundMessage, RecipientState, Sender
from ..store.upsert import insert_for_dialect

_STATE = RecipientState.__table__
_LOAD_STATE = select(_STATE.c.last_inbound_at, _STATE.c.last_outbound_at, _STATE.c.outbound_since_inbound,
                     _STATE.c.opted_out, _STATE.c.opted_out_at).where(_STATE.c.sender_id == bindparam("sender_id"),
                                                                       _STATE.c.recipient == bindparam("recipient"))


def load(session: Session, sender_id: int, recipient: str) -> StateView:
    """One indexed read on every decision; a plain statement, built once, with no ORM objects."""
    row = session.connection().execute(_LOAD_STATE, {"sender_id": sender_id, "recipient": recipient}).first()
    if row is None:
        return StateView()
    return StateView(last_inbound_at=row.last_inbound_at, last_outbound_at=row.last_outbound_at,
                     outbound_since_inbound=row.outbound_since_inbound, opted_out=bool(row.opted_out),
                     opted_out_at=row.opted_out_at)


def ensure(session: Session, sender_id: int, recipient: str, now: datetime) -> RecipientState:
    """The state row, created if missing; a concurrent creator wins without an error."""
    query = select(RecipientState).where(RecipientState.sender_id == sender_id,
                                         RecipientState.recipient == recipient)
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = RecipientState(sender_id=sender_id, recipient=recipient, outbound_since_inbound=0,
                                 opted_out=False, updated_at=now)
            session.add(row)
    except IntegrityError:
        row = session.scalar(query)
    assert row is not None
    return row


@lru_cache(maxsize=4)
def _count_outbound(dialect: str):
    """INSERT … ON CONFLICT that counts one more business message; built once per dialect."""
    table = RecipientState.__table__
    statement = insert_for_dialect(dialect, table).values(
        sender_id=bindparam("sender_id"), recipient=bindparam("recipient"), outbound_since_inbound=1,
        last_outbound_at=bindparam("now"), opted_out=False, updated_at=bindparam("now"))
    return statement.on_conflict_do_update(
        index_elements=[table.c.sender_id, table.c.recipient],
        set_={"outbound_since_inbound": table.c.outbound_since_inbound + 1, "last_outbound_at": bindparam("now"),
              "updated_at": bindparam("now")})


def note_outbound(session: Session, sender_id: int, recipient: str, now: datetime) -> None:
    """A business message is claimed: Viber's in-a-row count grows; the window does not move."""
    session.connection().execute(_count_outbound(session.get_bind().dialect.name),
                                 {"sender_id": sender_id, "recipient": recipient, "now": now})


# Taken back only while the failed message is still the latest one counted: a reply since then already
# reset the count (it is then 0), and a message counted after it would be lost by a blind subtraction
# (the count then stays one too high, which errs toward sending less).
_UNCOUNT = (_STATE.update()
            .where(_STATE.c.sender_id == bindparam("b_sender"), _STATE.c.recipient == bindparam("b_recipient"),
                   _STATE.c.last_outbound_at == bindparam("counted_at"), _STATE.c.outbound_since_inbound > 0)
            .values(outbound_since_inbound=_STATE.c.outbound_since_inbound - 1,
                    last_outbound_at=bindparam("previous")))


def unnote_outbound(session: Session, sender_id: int, recipient: str, counted_at: datetime,
                    previous: datetime | None) -> None:
    """Take back a message counted at ``counted_at`` that then failed, and put back the time of the
    business message before it (``previous``): a message that reached nobody is no previous contact."""
    session.connection().execute(_UNCOUNT, {"b_sender": sender_id, "b_recipient": recipient,
                                            "counted_at": counted_at, "previous": previous})


def note_opt_out(session: Session, sender_id: int, recipient: str, now: datetime, reason: str) -> None:
    """The provider reports the recipient opted out (e.g. Twilio 21610): refuse further SMS up front."""
    row = ensure(session, sender_id, recipient, now)
    if not row.opted_out:
        row.opted_out, row.opted_out_at, row.opt_keyword, row.updated_at = True, now, reason[:32], now


def record_inbound(session: Session, sender: Sender, recipient: str, text: str, provider_message_id: str,
                   received_at: datetime) -> bool:
    """Record a customer's message once: it opens the window, resets the count, may carry STOP/START.

    Returns False when the same provider message was already recorded (a redelivered webhook).
    """
    try:
        with session.begin_nested():
            session.add(InboundMessage(sender_id=sender.id, recipient=recipient, text=text or "",
                                       provider_message_id=provider_message_id, received_at=received_at))
    except IntegrityError:
        return False
    row = ensure(session, sender.id, recipient, received_at)
    if row.last_inbound_at is None or received_at > row.last_inbound_at:
        row.last_inbound_at = received_at
        row.outbound_since_inbound = 0
    if sender.channel == "sms":
        word = optout.keyword(text)
        if word == "out":
            row.opted_out, row.opted_out_at, row.opt_keyword = True, received_at, (text or "").strip().upper()
        elif word == "in":
            row.opted_out, row.opted_out_at, row.opt_keyword = False, None, (text or "").strip().upper()
    row.updated_at = received_at
    return True
