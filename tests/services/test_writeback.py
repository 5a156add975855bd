"""Write-backs: after the send, never failing it, leased so they run once, retried with back-off."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.services.demo import CUSTOMERS, DEMO
from app.services.send import SendRequest, send
from app.services.writeback import MAX_ATTEMPTS, attempt, backoff, listing, requeue_failed, run_due
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
    clock.advance(minutes=1, seconds=31)  # the first back-off is a minute, give or take half of it
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
        seen.append(attempt(_ctx, row.id))

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


def test_backoff_doubles_and_is_spread_by_jitter():
    assert backoff(1, 0.0) == timedelta(seconds=30) and backoff(1, 1.0) == timedelta(seconds=90)
    assert backoff(3, 0.5) == timedelta(minutes=4)
    assert backoff(20, 0.5) == timedelta(hours=4)  # capped
    assert len({backoff(2, j / 10) for j in range(10)}) == 10  # workers retrying together spread out


def test_failed_writebacks_are_listed_and_put_back_in_line(ctx, clock):
    calls = []

    def writer(_ctx, row):
        calls.append(row.id)
        if len(calls) <= MAX_ATTEMPTS:
            raise RuntimeError("host down")

    ctx.writers["test"] = writer
    _send(ctx)
    for _ in range(MAX_ATTEMPTS + 1):
        clock.advance(hours=5)
        run_due(ctx)
    [failed] = listing(ctx, "failed")
    assert failed.attempts == MAX_ATTEMPTS and "host down" in failed.last_error
    assert failed.message.startswith("msg_")
    assert requeue_failed(ctx) == [failed.id]  # the retry runs at once (in-process jobs in tests)
    assert listing(ctx, "failed") == [] and [r.status for r in listing(ctx)] == ["done"]
    assert requeue_failed(ctx) == []
