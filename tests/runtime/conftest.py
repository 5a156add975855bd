"""Fixtures for tests that need a real Redis (HERALD_TEST_REDIS_URL) and real worker processes."""

from __future__ import annotations

import os

import pytest

from .cluster import Stub

REDIS_URL = os.environ.get("HERALD_TEST_REDIS_URL", "").strip()


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not REDIS_URL:
        pytest.skip("Redis not configured (set HERALD_TEST_REDIS_URL)")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:  # pragma: no cover - depends on the machine
        pytest.skip(f"Redis at HERALD_TEST_REDIS_URL is unreachable: {error}")
    return REDIS_URL


@pytest.fixture
def clean_redis(redis_url) -> str:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    return redis_url


@pytest.fixture
def stub():
    server = Stub()
    yield server
    server.close()
