"""The compose form's rules both panels share, as pure functions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from app.services import panel

NOW = datetime(2026, 11, 21, 15, 5, tzinfo=timezone.utc)
SHIPPED = {"category": "UTILITY", "default_purpose": "", "slots": [{"id": "1", "prefill": "Bob"},
                                                                   {"id": "header.1", "prefill": ""}]}
SALE = {"category": "MARKETING", "default_purpose": "promotion", "slots": []}


def test_a_fresh_form_starts_with_the_prefill_and_the_templates_purpose():
    assert panel.starting_values(SHIPPED) == {"1": "Bob", "header.1": ""}
    assert panel.starting_values(None) == {}
    assert (panel.default_purpose(SALE), panel.default_purpose(SHIPPED), panel.default_purpose(None)) == \
        ("promotion", "", "")


def test_the_purpose_kind_is_the_purposes_else_the_templates_category():
    assert panel.purpose_kind("promotion", SHIPPED) == "marketing"
    assert panel.purpose_kind("delivery_update", SALE) == "service"
    assert panel.purpose_kind("", SALE) == "marketing"
    assert panel.purpose_kind("", {"category": "promotional"}) == "marketing"
    assert panel.purpose_kind("", None) == "service"


def test_a_form_lives_twelve_hours_from_when_it_was_issued():
    form = panel.issue_form(NOW)
    assert form["issued"] == int(NOW.timestamp()) and len(form["key"]) >= 16
    assert form["key"] != panel.issue_form(NOW)["key"]
    opened = panel.form_opened_at(form["issued"])
    assert opened == NOW
    assert not panel.form_expired(opened, NOW + timedelta(hours=12))
    assert panel.form_expired(opened, NOW + timedelta(hours=12, seconds=1))
    assert panel.form_opened_at("yesterday") is None and panel.form_opened_at(None) is None
    assert panel.form_opened_at(10 ** 20) is None  # not a time: expired, never an error
    assert panel.form_expired(None, NOW)


def test_panel_sends_have_stable_idempotency_keys():
    assert panel.intercom_send_key("147", "abc") == "intercom:147:abc"
    assert len(panel.intercom_send_key("c" * 300, "abc")) == 255
    assert panel.hubspot_send_key("jti-1") == "hubspot-compose:jti-1"
