"""The per-scope lock that sends to one person take, on each database."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text, update

from app.store.locks import hold_until_commit, lock_key
from app.store.models import Workspace


def _holder(ctx, scope: str, held: threading.Event, release: threading.Event) -> threading.Thread:
    def run():
        with ctx.store.session() as session:
            hold_until_commit(session, scope)
            held.set()
            release.wait(10)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_second_holder_of_a_scope_waits_for_the_first_to_commit(ctx):
    first_held, release_first = threading.Event(), threading.Event()
    second_held, release_second = threading.Event(), threading.Event()
    first = _holder(ctx, "send:1:+12015550126", first_held, release_first)
    assert first_held.wait(5)
    second = _holder(ctx, "send:1:+12015550126", second_held, release_second)
    assert not second_held.wait(0.3)  # still waiting: the first has not committed
    release_first.set()
    assert second_held.wait(5)
    release_second.set()
    first.join(5)
    second.join(5)


def test_on_postgresql_other_scopes_go_on_in_parallel(ctx):
    if ctx.store.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time whatever the scope")
    first_held, release_first = threading.Event(), threading.Event()
    second_held, release_second = threading.Event(), threading.Event()
    first = _holder(ctx, "send:1:+12015550126", first_held, release_first)
    assert first_held.wait(5)
    second = _holder(ctx, "send:1:+12015550127", second_held, release_second)
    assert second_held.wait(5)
    release_first.set()
    release_second.set()
    first.join(5)
    second.join(5)


def test_on_sqlite_it_refuses_to_protect_a_transaction_already_begun(ctx):
    if ctx.store.dialect != "sqlite":
        pytest.skip("PostgreSQL's advisory lock may be taken at any point of a transaction")
    with ctx.store.session() as session:
        session.execute(update(Workspace).values(name=Workspace.name))
        with pytest.raises(RuntimeError, match="before the transaction's first write"):
            hold_until_commit(session, "send:1:+12015550126")


def test_lock_keys_are_stable_signed_64_bit_numbers(ctx):
    key = lock_key("send:1:+12015550126")
    assert key == lock_key("send:1:+12015550126") and key != lock_key("send:1:+12015550127")
    assert -(2 ** 63) <= key < 2 ** 63
    if ctx.store.dialect == "postgresql":
        with ctx.store.engine.connect() as connection:  # the server takes it as a bigint
            assert connection.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar() is True
