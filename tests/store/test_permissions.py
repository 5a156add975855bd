"""The embedded default's files under instance/ are its owner's alone: the SQLite database, its WAL
and shared-memory files, and the generated keys."""

from __future__ import annotations

import os
import stat

from app import create_app
from app.config import from_env
from app.store.db import owner_only


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_fresh_instance_is_readable_by_its_owner_only(tmp_path):
    instance = tmp_path / "instance"
    old = os.umask(0o022)  # the usual umask, under which SQLite would make a world-readable file
    try:
        app = create_app(from_env({"HERALD_INSTANCE_PATH": str(instance)}))  # migrates and seeds the demo
        store = app.extensions["herald"].store
        with store.engine.connect() as connection:  # a reader keeps the WAL and shared memory open
            connection.exec_driver_sql("SELECT count(*) FROM workspaces")
            names = sorted(p.name for p in instance.iterdir())
            assert {"herald.db", "herald.db-wal", "herald.db-shm", "secret_key", "encryption_key"} <= set(names)
            for name in names:
                assert mode(instance / name) == 0o600, (name, oct(mode(instance / name)))
        store.dispose()
    finally:
        os.umask(old)
    assert mode(instance) == 0o700


def test_an_existing_database_others_can_read_is_tightened(tmp_path, caplog):
    database = tmp_path / "herald.db"
    database.write_bytes(b"")
    os.chmod(database, 0o644)
    owner_only(database)
    assert mode(database) == 0o600
    assert "readable by its owner only" in caplog.text
