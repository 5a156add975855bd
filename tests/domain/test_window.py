from datetime import datetime, timedelta, timezone

from app.domain.window import format_moment, window_state

INBOUND = datetime(2026, 11, 21, 15, 5, tzinfo=timezone.utc)


def test_no_inbound_message_means_no_window():
    state = window_state(None, INBOUND)
    assert not state.open and state.closes_at is None


def test_open_one_second_before_24_hours_and_closed_one_second_after():
    assert window_state(INBOUND, INBOUND + timedelta(hours=24) - timedelta(seconds=1)).open
    assert not window_state(INBOUND, INBOUND + timedelta(hours=24)).open
    assert not window_state(INBOUND, INBOUND + timedelta(hours=24, seconds=1)).open


def test_closing_time_is_absolute():
    assert window_state(INBOUND, INBOUND).closes_at == datetime(2026, 11, 22, 15, 5, tzinfo=timezone.utc)


def test_format_moment_is_absolute_and_readable():
    assert format_moment(datetime(2026, 11, 22, 15, 5, tzinfo=timezone.utc)) == "Nov 22, 2026 at 3:05 PM UTC"
    assert format_moment(datetime(2026, 1, 2, 0, 7, tzinfo=timezone.utc)) == "Jan 2, 2026 at 12:07 AM UTC"
