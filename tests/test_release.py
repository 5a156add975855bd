"""The release step and many processes starting at once on a fresh database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_URL, TEST_ENCRYPTION_KEY

ROOT = Path(__file__).resolve().parents[1]
FLASK = str(Path(sys.executable).parent / "flask")

START = """
from app import create_app
create_app()
print("started")
"""


def test_processes_starting_together_on_a_fresh_embedded_instance_take_turns_to_migrate(tmp_path):
    env = {**os.environ, "HERALD_INSTANCE_PATH": str(tmp_path / "instance"), "HERALD_TASKS": "inline"}
    env.pop("DATABASE_URL", None)
    starts = [subprocess.Popen([sys.executable, "-c", START], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [process.communicate(timeout=120) for process in starts]
    assert [process.returncode for process in starts] == [0, 0, 0, 0], [err[-800:] for _, err in results]
    assert all(out.strip().endswith("started") for out, _ in results)


@pytest.mark.postgres
def test_the_release_step_migrates_a_fresh_postgresql_database_with_the_demo_on(tmp_path):
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured (set HERALD_TEST_POSTGRES_URL)")
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    env = {**os.environ, "DATABASE_URL": POSTGRES_URL, "HERALD_DEMO": "1", "SECRET_KEY": "r" * 40,
           "ENCRYPTION_KEY": TEST_ENCRYPTION_KEY, "REDIS_URL": "redis://127.0.0.1:6379/14",
           "INTERCOM_CLIENT_ID": "ic", "INTERCOM_CLIENT_SECRET": "is", "HUBSPOT_CLIENT_ID": "hc",
           "HUBSPOT_CLIENT_SECRET": "hs", "HUBSPOT_APP_ID": "1", "HERALD_INSTANCE_PATH": str(tmp_path)}
    done = subprocess.run([FLASK, "--app", "app", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
