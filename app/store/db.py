"""The store: one engine, one session factory, migrations, and the sealing of secrets."""

from __future__ import annotations

import logging
import os
import re
import stat
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)
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


class DriverMissing(SystemExit):
    """The database URL names a driver that is not installed. A SystemExit, so whichever command
    starts Herald (flask, gunicorn, a script) stops with this one sentence instead of a traceback."""

    def __init__(self, url: str, missing: ImportError) -> None:
        backend = make_url(url).get_backend_name()
        if backend == "postgresql":
            advice = ("install it with: pip install -e '.[postgres]' (./scripts/run does this when DATABASE_URL "
                      "is a postgresql:// URL)")
        else:
            advice = f"install the Python package {missing.name or 'it needs'}"
        super().__init__(f"Herald cannot open the {backend} database at DATABASE_URL: its driver "
                         f"({missing.name or 'unknown'}) is not installed; {advice}.")


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL; None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


def owner_only(path: Path | None) -> None:
    """Create the database file readable and writable by its owner only, before SQLite does it with
    the process's umask (often world-readable); SQLite gives its -wal and -shm files the database
    file's permissions. An existing file that others can read is tightened, and the log says so."""
    if path is None:
        return
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        return
    except FileExistsError:
        pass
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(candidate, mode & 0o700)
            log.warning("%s was readable by others (mode %o); it is now readable by its owner only", candidate, mode)


class Store:
    """Owns the engine; every service gets one of these instead of reaching for a global."""

    def __init__(self, url: str, cipher: Cipher, echo: bool = False) -> None:
        self.url = url
        self.cipher = cipher
        kwargs: dict = {"echo": echo, "future": True}
        if url.startswith("sqlite"):
            owner_only(sqlite_file(url))
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_recycle=1800)
        try:
            self.engine: Engine = create_engine(url, **kwargs)
        except ImportError as missing:
            raise DriverMissing(url, missing) from None
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
        """Bring the schema to the newest revision (idempotent).

        On SQLite several processes starting at once (gunicorn's workers on a fresh instance) take
        turns through a lock file beside the database, instead of racing to create the same tables.
        """
        from alembic import command

        path = self.engine.url.database if self.dialect == "sqlite" else None
        if not path or path == ":memory:":
            command.upgrade(alembic_config(self), "head")
            return
        import fcntl

        with os.fdopen(os.open(f"{path}.migrate-lock", os.O_WRONLY | os.O_CREAT, 0o600), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                command.upgrade(alembic_config(self), "head")
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def ping(self) -> None:
        """One round trip to the database; raises when it does not answer."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def schema_revisions(self) -> tuple[str | None, str]:
        """(the database's revision, the newest this code knows): equal once the release step has run.

        Read without Alembic (a probe runs every few seconds, and Alembic costs a web worker ~10 MB).
        """
        with self.engine.connect() as connection:
            try:
                current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except Exception:  # no table yet: nothing was ever migrated
                connection.rollback()
                current = None
        return current, head_revision()

    def seal(self, value: str | None) -> str | None:
        return None if value is None else self.cipher.seal(value)

    def unseal(self, value: str | None) -> str | None:
        return None if value is None else self.cipher.unseal(value)

    def dispose(self) -> None:
        self.engine.dispose()


_REVISION = re.compile(r"^(down_revision|revision)\s*=\s*['\"]?([^'\"\s]+)?['\"]?", re.MULTILINE)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration: the one revision no other names as its ``down_revision``."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((key, value) for key, value in _REVISION.findall(path.read_text(encoding="utf-8")))
        if found.get("revision"):
            revisions.add(found["revision"])
        if found.get("down_revision") and found["down_revision"] != "None":
            parents.add(found["down_revision"])
    heads = sorted(revisions - parents)
    return heads[0] if len(heads) == 1 else ",".join(heads)


def alembic_config(store: Store):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = store.engine
    return config
