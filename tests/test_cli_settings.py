"""`workspace set` and `workspace unset`: a broken setting never reaches the store, and an agent
never sees one that got there another way."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import select

from app.domain.settings import SETTINGS, checked, problems
from app.domain.refusals import Refused
from app.services.demo import CUSTOMERS, DEMO
from app.services.send import SendRequest, send
from app.store.models import Workspace


@pytest.fixture
def run(sqlite_app):
    runner = sqlite_app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=list(args))
    return invoke


def stored(app) -> dict:
    with app.extensions["herald"].store.session() as session:
        return dict(session.scalar(select(Workspace.settings).where(Workspace.name == DEMO)))


def break_setting(app, **values) -> None:
    """A value stored before settings were checked, or by hand in the database."""
    ctx = app.extensions["herald"]
    with ctx.store.session() as session:
        workspace = session.scalar(select(Workspace).where(Workspace.name == DEMO))
        workspace.settings = {**workspace.settings, **values}
    ctx.workspaces.invalidate()


@pytest.mark.parametrize("args, words", [
    (["daily_cap=lots"], "daily_cap=lots is not valid: daily_cap is a whole number, 1 or more, or null"),
    (["quiet_start=25:00"], "quiet_start=25:00 is not valid"),
    (["quiet_end=8am"], "quiet_end is a time of day"),
    (["max_sms_segments=0"], "max_sms_segments is a whole number from 1 to 100"),
    (["max_sms_segments=2.5"], "max_sms_segments"),
    (["daily_cap=true"], "daily_cap=True is not valid"),
    (["marketing_after_service_hours=-1"], "a number of hours, 0 or more"),
    (["languages=[1,2]"], "languages"),
    (["marketing_phrases={\"x\": 5}"], "marketing_phrases"),
    (["daily_cap=2", "quiet_start=noon"], "quiet_start=noon"),
])
def test_a_wrong_value_is_refused_and_changes_nothing(run, sqlite_app, args, words):
    before = stored(sqlite_app)
    result = run("workspace", "set", "demo", *args)
    assert result.exit_code == 1 and words in result.output, result.output
    assert stored(sqlite_app) == before


def test_an_unknown_key_is_refused_listing_the_known_ones(run, sqlite_app):
    before = stored(sqlite_app)
    result = run("workspace", "set", "demo", "dialy_cap=5")
    assert result.exit_code == 1
    assert "“dialy_cap” is not a workspace setting" in result.output
    assert all(key in result.output for key in SETTINGS)
    assert stored(sqlite_app) == before


def test_good_values_are_stored_in_their_form(run, sqlite_app):
    result = run("workspace", "set", "demo", "quiet_start=9:30", "daily_cap=null", "languages=es,fr")
    assert result.exit_code == 0, result.output
    settings = json.loads(result.output)
    assert settings["quiet_start"] == "09:30" and settings["daily_cap"] is None
    assert settings["languages"] == ["es", "fr"] and stored(sqlite_app) == settings


def test_unset_returns_a_setting_to_its_default(run, sqlite_app):
    run("workspace", "set", "demo", "daily_cap=1")
    result = run("workspace", "unset", "demo", "daily_cap")
    assert result.exit_code == 0 and "daily_cap" not in stored(sqlite_app)
    first = run("send", "demo", "--channel", "sms", "--to", CUSTOMERS["new"], "--text", "Your parcel arrives today.")
    second = run("send", "demo", "--channel", "sms", "--to", CUSTOMERS["new"], "--text", "It is at the door.")
    assert first.exit_code == 0 and second.exit_code == 0, second.output  # the default cap is 3


def test_unset_refuses_an_unknown_key_but_removes_stored_junk(run, sqlite_app):
    bad = run("workspace", "unset", "demo", "nonsense")
    assert bad.exit_code == 1 and "not a workspace setting" in bad.output
    break_setting(sqlite_app, legacy_thing=1)
    assert run("workspace", "unset", "demo", "legacy_thing").exit_code == 0
    assert "legacy_thing" not in stored(sqlite_app)


def test_a_broken_stored_setting_reaches_no_agent(sqlite_app, caplog):
    break_setting(sqlite_app, max_sms_segments="lots")
    ctx = sqlite_app.extensions["herald"]
    caplog.set_level(logging.ERROR)
    with pytest.raises(Refused) as caught:
        send(ctx, SendRequest(workspace=DEMO, channel="sms", to=CUSTOMERS["new"], text="Hi", surface="cli"))
    message = caught.value.reasons[0].message
    assert message == "Sending is unavailable for this workspace right now; an operator has been told."
    assert "max_sms_segments" not in message
    assert any("max_sms_segments=lots" in r.getMessage() for r in caplog.records)


def test_the_rules_of_each_setting():
    assert checked("quiet_end", " 7:05 ") == "07:05"
    assert checked("marketing_phrases", {"loyalty": "gold circle"}) == {"loyalty": ["gold circle"]}
    assert problems({"daily_cap": 0, "unknown": object()}) == ["daily_cap=0 is not a whole number, 1 or more, "
                                                                "or null for no cap"]
    with pytest.raises(Refused):
        checked("quiet_start", "23:60")


def test_the_unchecked_language_setting_takes_one_of_its_choices(app):
    runner = app.test_cli_runner()
    good = runner.invoke(args=["workspace", "set", "demo", "unchecked_language=marketing"])
    assert good.exit_code == 0 and '"unchecked_language": "marketing"' in good.output
    bad = runner.invoke(args=["workspace", "set", "demo", "unchecked_language=sometimes"])
    assert bad.exit_code != 0 and "one of refuse, marketing, allow" in bad.output
