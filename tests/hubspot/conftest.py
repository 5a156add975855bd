"""HubSpot surface fixtures: a second (non-demo) portal with installed tokens, and HubSpot's API
faked at the HTTP boundary with ``responses``."""

from __future__ import annotations

import pytest
import responses

from .common import setup_acme


@pytest.fixture
def hubspot_api():
    """HubSpot's API at the HTTP boundary; any call a test did not expect fails it."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def acme(ctx):
    """A customer's own portal (not the demo), with installed tokens, on every configured database."""
    setup_acme(ctx)
    return ctx


@pytest.fixture
def web(sqlite_app):
    """A client for tests of the surface itself, on SQLite only."""
    return sqlite_app.test_client()


@pytest.fixture
def sctx(sqlite_app):
    return sqlite_app.extensions["herald"]
