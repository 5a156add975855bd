"""The store: one engine, one session factory, migrations, and the sealing of secrets."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
# session.info key: callables to run once the session's transaction has committed (see after_commit)
AFTER_COMMIT = "herald_after_commit"


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` when ``session`` (a :meth:`Store.session`) commits; never if it rolls back."""
    session.info.setdefault(AFTER_COMMIT, []).append(callback)


class Cipher:
    """What the store needs to keep secrets sealed: two functions, injected by the app."""

    def __init__(self, seal: Callable[[str], str], unseal: Callable[[str], str]) -> None:
        self.seal = seal
        self.unseal = unseal


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA cache_size=-16000")  # 16 MB of pages: index lookups stay in memory at millions of rows
    cursor.close()


class Store:
    """Owns the engine; every service gets one of these instead of reaching for a global."""

    def __init__(self, url: str, cipher: Cipher, echo: bool = False) -> None:
        self.url = url
        self.cipher = cipher
        kwargs: dict = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_recycle=1800)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        for callback in session.info.pop(AFTER_COMMIT, ()):  # e.g. nudging a worker about a row just committed
            callback()

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent)."""
        from alembic import command

        command.upgrade(alembic_config(self), "head")

    def schema_revisions(self) -> tuple[str | None, str]:
        """(the database's revision, the newest this code knows): equal once the release step has run."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config(self)).get_current_head() or ""
        with self.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        return current, head

    def seal(self, value: str | None) -> str | None:
        return None if value is None else self.cipher.seal(value)

    def unseal(self, value: str | None) -> str | None:
        return None if value is None else self.cipher.unseal(value)

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(store: Store):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = store.engine
    return config
