"""Fixtures: a real store on SQLite (always) and PostgreSQL (when HERALD_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from app import create_app
from app.store.models import Base

POSTGRES_URL = os.environ.get("HERALD_TEST_POSTGRES_URL", "").strip()
TEST_ENCRYPTION_KEY = "zL7E7c1m4bZ1lq2u6d4Cq9gI9xk8Vv0nP3Yc2e5tQ0A="
START = datetime(2026, 11, 22, 15, 0, 0, tzinfo=timezone.utc)


class Clock:
    """A clock tests move by hand; passed to the app the way the real clock is."""

    def __init__(self, now: datetime = START) -> None:
        self.current = now

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file per session; every test gets a copy (migrations run once)."""
    path = tmp_path_factory.mktemp("template") / "herald.db"
    app = create_app(_settings(f"sqlite:///{path}", tmp_path_factory.mktemp("inst")), seed_demo=False)
    app.extensions["herald"].store.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_ready() -> str:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured (set HERALD_TEST_POSTGRES_URL)")
    from sqlalchemy import create_engine

    engine = create_engine(POSTGRES_URL)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    except Exception as error:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL at HERALD_TEST_POSTGRES_URL is unreachable: {error}")
    finally:
        engine.dispose()
    return POSTGRES_URL


def _settings(url: str, instance: Path, **settings) -> dict:
    return {"database_url": url, "secret_key": "test-secret-key", "encryption_keys": (TEST_ENCRYPTION_KEY,),
            "instance_path": str(instance), "testing": True, "public_base_url": "https://herald.test",
            "tasks": "inline",
            **settings}


def _truncate_postgres(app) -> None:
    store = app.extensions["herald"].store
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with store.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def make_app(backend: str, tmp_path: Path, clock: Clock, sqlite_template: Path | None = None,
             seed_demo: bool = True, **settings):
    """An app on ``backend`` ("sqlite" or "postgres") with a clean database and the demo seeded;
    ``settings`` replace the tests' (they are :class:`app.config.Config` fields)."""
    if backend == "sqlite":
        db = tmp_path / "herald.db"
        if sqlite_template is not None:
            shutil.copy(sqlite_template, db)
        url, migrate = f"sqlite:///{db}", sqlite_template is None
    else:
        url, migrate = POSTGRES_URL, True
    app = create_app(_settings(url, tmp_path / "instance", **settings), clock=clock, migrate=migrate,
                     seed_demo=False)
    if backend == "postgres":
        _truncate_postgres(app)
    if seed_demo:
        from app.services.demo import ensure_demo

        ensure_demo(app.extensions["herald"])
    return app


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request) -> str:
    if request.param == "postgres":
        request.getfixturevalue("postgres_ready")
    return request.param


@pytest.fixture
def app(backend, tmp_path, clock, sqlite_template):
    """The app with the demo workspace, on every configured database."""
    application = make_app(backend, tmp_path, clock, sqlite_template)
    yield application
    application.extensions["herald"].store.dispose()


@pytest.fixture
def sqlite_app(tmp_path, clock, sqlite_template):
    """The app on SQLite only, for tests of surfaces rather than of the store."""
    application = make_app("sqlite", tmp_path, clock, sqlite_template)
    yield application
    application.extensions["herald"].store.dispose()


@pytest.fixture
def ctx(app):
    return app.extensions["herald"]


@pytest.fixture
def client(app):
    return app.test_client()


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def live_server(sqlite_app):
    """The app served on a real loopback port in a thread, for browsers and benchmarks."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, sqlite_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    server.app = sqlite_app
    yield server
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright; nothing downloads a browser."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    playwright_sync = pytest.importorskip("playwright.sync_api")
    # Two cores shared with the rest of the suite: a page may take more than the default 5 s to settle.
    playwright_sync.expect.set_options(timeout=15_000)
    with playwright_sync.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
