"""Compose tokens, OAuth states and CSRF values, on an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from app.security.tokens import (
    COMPOSE_TTL,
    ComposeLinkError,
    HubSpotTokens,
    StateError,
    csrf_matches,
    csrf_value,
    intercom_state,
    intercom_state_matches,
)

START = datetime(2026, 11, 21, 15, 5, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_compose_token_names_portal_contact_and_user_until_it_expires(clock) -> None:
    tokens = HubSpotTokens("k" * 32, clock)
    grant = tokens.read_compose(tokens.issue_compose("900001", "101", "7", "agent@example.com"))
    assert (grant.portal_id, grant.contact_id, grant.user_id, grant.requested_by) == (
        "900001", "101", "7", "agent@example.com")
    assert grant.expires_at == START + COMPOSE_TTL and grant.jti.startswith("hsc_")
    token = tokens.issue_compose("900001", "101")
    clock.now = START + COMPOSE_TTL
    with pytest.raises(ComposeLinkError) as expired:
        tokens.read_compose(token)
    assert expired.value.code == "expired"


def test_a_compose_token_from_another_key_or_audience_is_invalid(clock) -> None:
    other = HubSpotTokens("another key" * 4, clock).issue_compose("900001", "101")
    state, _nonce = HubSpotTokens("k" * 32, clock).issue_state()
    forged = jwt.encode({"aud": "herald:hubspot-compose", "portal": "1", "contact": "2", "jti": "x",
                         "exp": int((START + timedelta(hours=1)).timestamp())}, "guess" * 8, algorithm="HS256")
    for token in (other, state, forged, "", None, "x" * 5000):
        with pytest.raises(ComposeLinkError) as caught:
            HubSpotTokens("k" * 32, clock).read_compose(token)
        assert caught.value.code == "invalid"


def test_an_oauth_state_holds_once_per_browser_and_not_after_its_lifetime(clock) -> None:
    tokens = HubSpotTokens("k" * 32, clock)
    state, nonce = tokens.issue_state()
    assert tokens.check_state(state, nonce).jti.startswith("hso_")
    for given_state, given_nonce, code in ((state, "another browser", "browser"), (state, None, "browser"),
                                           ("not a state", nonce, "invalid")):
        with pytest.raises(StateError) as caught:
            tokens.check_state(given_state, given_nonce)
        assert caught.value.code == code
    clock.now = START + timedelta(minutes=15)
    with pytest.raises(StateError) as late:
        tokens.check_state(state, nonce)
    assert late.value.code == "expired"


def test_the_csrf_value_is_bound_to_the_key_and_the_token() -> None:
    value = csrf_value("secret", "hsc_1")
    assert csrf_matches("secret", "hsc_1", value)
    assert not csrf_matches("secret", "hsc_2", value)
    assert not csrf_matches("other", "hsc_1", value)
    assert not csrf_matches("secret", "hsc_1", "")


def test_an_intercom_state_matches_only_itself_within_its_lifetime(clock) -> None:
    state, kept = intercom_state(clock)
    assert intercom_state_matches(kept, state, clock)
    assert not intercom_state_matches(kept, state + "x", clock)
    assert not intercom_state_matches(None, state, clock)
    assert not intercom_state_matches(kept, "", clock)
    clock.now = START + timedelta(seconds=601)
    assert not intercom_state_matches(kept, state, clock)
