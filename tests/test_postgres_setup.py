"""PostgreSQL for a newcomer: the run script installs the driver when DATABASE_URL asks for it, and a
missing driver stops Herald with one sentence that says what to install, never a traceback."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

WITHOUT_DRIVER = """
import sys
sys.modules["psycopg"] = None  # a machine where the postgres extra was never installed
from flask.cli import main
sys.argv = ["flask", "--app", "app", "routes"]
main()
"""


def test_a_missing_driver_is_one_sentence_saying_what_to_install(tmp_path):
    # every other production setting is given, so the driver is what is missing
    env = {**os.environ, "DATABASE_URL": "postgresql://herald@127.0.0.1:1/herald",
           "HERALD_INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": "s" * 40,
           "ENCRYPTION_KEY": "zL7E7c1m4bZ1lq2u6d4Cq9gI9xk8Vv0nP3Yc2e5tQ0A=", "REDIS_URL": "redis://127.0.0.1:1/0",
           "INTERCOM_CLIENT_ID": "i", "INTERCOM_CLIENT_SECRET": "i", "HUBSPOT_CLIENT_ID": "h",
           "HUBSPOT_CLIENT_SECRET": "h", "HUBSPOT_APP_ID": "1"}
    done = subprocess.run([sys.executable, "-c", WITHOUT_DRIVER], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == ["Herald cannot open the postgresql database at DATABASE_URL: its driver (psycopg) is not "
                     "installed; install it with: pip install -e '.[postgres]' (./scripts/run does this when "
                     "DATABASE_URL is a postgresql:// URL)."], done.stderr


def _fake_tools(root: Path) -> Path:
    """scripts/run in a copy of the tree whose .venv tools only record how they were called."""
    (root / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "run", root / "scripts" / "run")
    bin_dir = root / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    calls = root / "calls.txt"
    for tool in ("python", "flask", "celery", "gunicorn"):
        script = bin_dir / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{calls}"\n')
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return calls


@pytest.mark.parametrize("url, installs", [
    ("", "-e ."),
    ("sqlite:////tmp/herald.db", "-e ."),
    ("postgresql://herald@db/herald", "-e .[postgres]"),
    ("postgres://herald@db/herald", "-e .[postgres]"),
    ("postgresql+psycopg://herald@db/herald", "-e .[postgres]"),
])
def test_the_run_script_installs_the_driver_the_url_needs(tmp_path, url, installs):
    calls = _fake_tools(tmp_path)
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run(["bash", str(tmp_path / "scripts" / "run")], env=env, check=True, capture_output=True,
                   timeout=60)
    [install] = [line for line in calls.read_text().splitlines() if "pip install --quiet -e" in line]
    assert install.endswith(installs)
