"""A workspace setting that an operator broke (stored before settings were checked, or by hand):
the agent's panel says sending is unavailable and that an operator has been told, never the setting."""

from __future__ import annotations

from sqlalchemy import func, select

from app.services.demo import DEMO
from app.store.models import Message, Workspace

from .conftest import Panel

UNAVAILABLE = "Sending is unavailable for this workspace right now; an operator has been told."


def break_setting(ctx, **values) -> None:
    with ctx.store.session() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.name == DEMO))
        workspace.settings = {**workspace.settings, **values}
    ctx.workspaces.invalidate()


def test_the_panel_says_sending_is_unavailable_not_why(client, ctx, caplog):
    panel = Panel(client)
    panel.initialize()
    panel.click("compose")
    panel.click("content:free")
    break_setting(ctx, quiet_start="9pm")
    panel.click("send", {"message": "Your order left our warehouse.", "purpose": "delivery_update"})
    shown = panel.all_text()
    assert UNAVAILABLE in shown
    assert "quiet_start" not in shown and "9pm" not in shown and "workspace set" not in shown
    assert any("quiet_start=9pm" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
    with ctx.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Message)) == 0
