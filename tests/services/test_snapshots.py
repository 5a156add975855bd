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


def test_a_change_during_a_load_is_not_hidden(ctx):
    create_workspace(ctx, "w2")
    changed: list[bool] = []

    def load_while_a_sender_is_added(session, ref):
        snapshot = snapshots.load(session, ref)  # the real read, then a change commits before it is kept
        if not changed:
            changed.append(True)
            add_sender(ctx, "w2", "sms", "sandbox", "+12015550151")
        return snapshot

    ctx.workspaces = snapshots.WorkspaceSnapshots(loader=load_while_a_sender_is_added)
    with ctx.store.session() as session:
        assert ctx.workspaces.get(session, "w2").senders == ()  # read before the change
    with ctx.store.session() as session:
        assert len(ctx.workspaces.get(session, "w2").senders) == 1  # not cached behind it


def test_an_unknown_workspace_is_refused_in_words(ctx):
    with ctx.store.session() as session, pytest.raises(Refused) as caught:
        ctx.workspaces.get(session, "nobody")
    assert caught.value.code == "workspace_unknown"
