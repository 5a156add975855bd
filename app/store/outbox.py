"""The outbox pattern Herald's background work shares: rows with a status, an attempt count and a
time they are next due (write-backs, stored webhook deliveries, event deliveries).

A worker *leases* a row before working on it — one conditional UPDATE that only a pending, due row
passes — so two workers (or a job and the periodic sweep) never work on the same row at once, and a
worker that dies simply lets its lease run out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session


def due_ids(session: Session, model: Any, now: datetime, limit: int, *conditions: Any, order_by: Any = None) -> list[int]:
    """Ids of pending rows whose time has come (plus any extra ``conditions``), oldest first."""
    query = (select(model.id).where(model.status == "pending", model.next_attempt_at <= now, *conditions)
             .order_by(order_by if order_by is not None else model.next_attempt_at).limit(limit))
    return list(session.scalars(query))


def lease(session: Session, model: Any, row_id: int, now: datetime, until: datetime) -> bool:
    """Take the row until ``until`` (counting the attempt); False when it is not pending and due."""
    taken = session.execute(
        update(model).where(model.id == row_id, model.status == "pending", model.next_attempt_at <= now)
        .values(attempts=model.attempts + 1, next_attempt_at=until)
        .execution_options(synchronize_session=False)).rowcount
    return taken == 1
