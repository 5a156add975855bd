"""A broken workspace setting on the HubSpot compose page: the agent reads that sending is
unavailable and that an operator has been told; the setting itself goes to the log only."""

from __future__ import annotations

from sqlalchemy import select

from app.services.demo import DEMO
from app.store.models import Workspace

from .common import compose_path


def test_the_compose_page_says_sending_is_unavailable_not_why(web, sctx, clock, caplog):
    path = compose_path(web, clock)
    with sctx.store.session() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.name == DEMO))
        workspace.settings = {**workspace.settings, "daily_cap": "lots"}
    sctx.workspaces.invalidate()
    html = web.get(path).get_data(as_text=True)
    assert "Sending is unavailable for this workspace right now; an operator has been told." in html
    assert "daily_cap" not in html and "lots" not in html
    assert any("daily_cap=lots" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")
