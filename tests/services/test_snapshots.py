"""Workspace snapshots: fresh after a local change, even one that lands while a snapshot loads."""

from __future__ import annotations

import pytest

from app.domain.refusals import Refused
from app.services import snapshots
from app.services.workspaces import add_sender, create_workspace, update_settings


def test_a_local_change_is_seen_at_once(ctx):
    create_workspace(ctx, "w1")
    with ctx.store.session() as session:
        assert ctx.workspaces.get(session, "w1").senders == ()
    add_sender(ctx, "w1", "sms", "sandbox", "+12015550150")
    update_settings(ctx, "w1", {"daily_cap": 9})
    with ctx.store.session() as session:
        snapshot = ctx.workspaces.get(session, "w1")
    assert [s.from_number for s in snapshot.senders] == ["+12015550150"] and snapshot.settings["daily_cap"] == 9


def test_a_change_during_a_load_is_not_hidden(ctx, monkeypatch):
    create_workspace(ctx, "w2")
    real_load = snapshots.load

    def load_then_change(session, ref):
        snapshot = real_load(session, ref)
        add_sender(ctx, "w2", "sms", "sandbox", "+12015550151")  # commits and invalidates mid-load
        return snapshot

    monkeypatch.setattr(snapshots, "load", load_then_change)
    with ctx.store.session() as session:
        assert ctx.workspaces.get(session, "w2").senders == ()
    monkeypatch.setattr(snapshots, "load", real_load)
    with ctx.store.session() as session:
        assert len(ctx.workspaces.get(session, "w2").senders) == 1


def test_an_unknown_workspace_is_refused_in_words(ctx):
    with ctx.store.session() as session, pytest.raises(Refused) as caught:
        ctx.workspaces.get(session, "nobody")
    assert caught.value.code == "workspace_unknown"
