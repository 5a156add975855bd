"""Serialising decisions that read a count and then add to it.

A send reads what it may do (today's proactive messages to this person, Viber messages in a row)
and then claims a message that changes those numbers. Two sends racing to one person would both
read the old numbers; holding a lock from the read until the claim commits makes the second one
read what the first wrote.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.orm import Session

_ADVISORY = text("SELECT pg_advisory_xact_lock(:key)")


def lock_key(scope: str) -> int:
    """A signed 64-bit key for ``scope``; a collision only makes two scopes wait for each other."""
    return int.from_bytes(hashlib.blake2b(scope.encode(), digest_size=8).digest(), "big", signed=True)


def hold_until_commit(session: Session, scope: str) -> None:
    """Wait for, then hold until this transaction ends, the lock on ``scope``.

    PostgreSQL: a transaction-level advisory lock on ``scope`` alone, so sends to other people go on
    in parallel. SQLite allows one writer at a time anyway: the transaction starts as IMMEDIATE, so
    it takes the write lock (waiting up to the busy timeout) before it reads, and its reads and
    writes form one snapshot. Call it before the reads it protects; on SQLite it refuses to run
    once the transaction has begun, rather than protect nothing.
    """
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(_ADVISORY, {"key": lock_key(scope)})
    elif dialect == "sqlite":
        raw = connection.connection.driver_connection
        if raw is not None and raw.in_transaction:
            # Whatever began it may have read already, or begun as a reader: the lock would protect nothing.
            raise RuntimeError("hold_until_commit must come before the transaction's first write on SQLite")
        # The driver begins a transaction only at the first write; begin it here, as a writer.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
