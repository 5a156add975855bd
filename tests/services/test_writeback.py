"""Write-backs: after the send, never failing it, leased so they run once, retried with back-off."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.services.demo import CUSTOMERS, DEMO
from app.services.send import SendRequest, send
from app.services.writeback import MAX_ATTEMPTS, _attempt, run_due
from app.store.models import Writeback


def _send(ctx, **extra):
    return send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["new"], text="Hello",
                                 writeback={"host": "test", "conversation_id": "c1"}, **extra))


def rows(ctx):
    with ctx.store.session() as session:
        return list(session.scalars(select(Writeback)))


def test_a_failing_writer_never_fails_the_send_and_is_retried_later(ctx, clock):
    calls = []

    def writer(_ctx, row):
        calls.append(row.target["conversation_id"])
        if len(calls) == 1:
            raise RuntimeError("host answered 503")

    ctx.writers["test"] = writer
    result = _send(ctx)
    assert result.message["status"] == "accepted"
    [row] = rows(ctx)
    assert row.status == "pending" and row.attempts == 1 and "503" in row.last_error
    assert run_due(ctx) == 0  # not due yet: back-off
    clock.advance(minutes=1, seconds=1)
    assert run_due(ctx) == 1
    [row] = rows(ctx)
    assert row.status == "done" and row.last_error is None and calls == ["c1", "c1"]


def test_a_writeback_gives_up_after_max_attempts(ctx, clock):
    def writer(_ctx, _row):
        raise RuntimeError("gone")

    ctx.writers["test"] = writer
    _send(ctx)
    for _ in range(MAX_ATTEMPTS + 2):
        clock.advance(hours=5)
        run_due(ctx)
    [row] = rows(ctx)
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS


def test_a_leased_writeback_is_not_taken_twice(ctx, clock):
    seen = []

    def writer(_ctx, row):
        # while this attempt holds the lease, another attempt on the same row finds it busy
        seen.append(_attempt(_ctx, row.id))

    ctx.writers["test"] = writer
    _send(ctx)
    assert seen == ["busy"]
    assert rows(ctx)[0].status == "done"


def test_no_writer_configured_is_recorded_not_raised(ctx, clock):
    ctx.writers.pop("test", None)
    assert _send(ctx).message["status"] == "accepted"
    [row] = rows(ctx)
    assert row.status == "pending" and "no writer" in row.last_error
    assert row.next_attempt_at > clock() + timedelta(seconds=30)
