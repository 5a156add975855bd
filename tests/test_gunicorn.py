"""gunicorn.conf.py: its settings suit Herald, and a real gunicorn serving Herald logs JSON request
lines with the request id and no secret, and keeps the metrics directory its workers share."""

from __future__ import annotations

import json
import os
import re
import runpy
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from app.config import Config
from app.hosts.hubspot import HTTP_TIMEOUT as HUBSPOT_TIMEOUT
from app.hosts.intercom import TIMEOUT as INTERCOM_TIMEOUT

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "gunicorn.conf.py"


def settings(monkeypatch, tmp_path, **env: str) -> dict:
    """The settings gunicorn reads from the file under ``env`` (the metrics directory pinned to tmp)."""
    for name in ("PORT", "HERALD_BIND", "WEB_CONCURRENCY", "HERALD_THREADS", "HERALD_KEEPALIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_defaults_suit_io_bound_work(monkeypatch, tmp_path):
    conf = settings(monkeypatch, tmp_path)
    assert conf["worker_class"] == "gthread" and conf["workers"] >= 2 and conf["threads"] >= 4
    assert conf["bind"] == ["0.0.0.0:8000"] and conf["preload_app"] is False
    assert conf["accesslog"] == "-" and conf["logger_class"].__name__ == "HeraldLogger"
    # A stuck worker is one that has run past the longest request: a host call, a token refresh and
    # a provider call, each at its connect + read timeout.
    provider = sum(Config.__dataclass_fields__["provider_timeout"].default)
    longest = provider + 2 * sum(HUBSPOT_TIMEOUT)
    assert conf["timeout"] > longest and conf["graceful_timeout"] > longest
    assert conf["timeout"] > provider + sum(INTERCOM_TIMEOUT)
    assert conf["keepalive"] > 60  # outlives a load balancer's idle connection (AWS ALB: 60 s)


def test_every_setting_comes_from_the_environment(monkeypatch, tmp_path):
    conf = settings(monkeypatch, tmp_path, PORT="5005", WEB_CONCURRENCY="3", HERALD_THREADS="16",
                    HERALD_KEEPALIVE="30")
    assert conf["bind"] == ["0.0.0.0:5005"] and conf["workers"] == 3 and conf["threads"] == 16
    assert conf["keepalive"] == 30
    both = settings(monkeypatch, tmp_path, PORT="5005", HERALD_BIND="127.0.0.1:7000, unix:/run/herald.sock")
    assert both["bind"] == ["127.0.0.1:7000", "unix:/run/herald.sock"]


@pytest.mark.parametrize("value", ["two", "0"])
def test_a_wrong_number_stops_start_up_naming_the_variable(monkeypatch, tmp_path, value):
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY"):
        settings(monkeypatch, tmp_path, WEB_CONCURRENCY=value)


def test_a_metrics_directory_is_made_when_none_is_given(monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # unset for the file; restored afterwards
    monkeypatch.setenv("HERALD_METRICS_DIR_CREATED", "")
    conf = runpy.run_path(str(CONF))
    made = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    assert made.is_dir() and made.name.startswith("herald-metrics-") and not any(made.iterdir())
    conf["on_exit"](None)
    assert not made.exists()


def test_a_given_metrics_directory_loses_only_the_previous_runs_files(monkeypatch, tmp_path):
    conf = settings(monkeypatch, tmp_path)
    directory = tmp_path / "metrics"
    directory.mkdir()
    stale = ["counter_4242.db", "histogram_17.db", "gauge_livesum_99.db", "gauge_all_3.db"]
    kept = ["herald.db", "notes.txt", "counter_x.db"]
    for name in stale + kept:
        (directory / name).write_text("x")
    conf["on_starting"](None)
    assert sorted(p.name for p in directory.iterdir()) == sorted(kept)
    conf["on_exit"](None)  # a directory the operator gave is never removed
    assert directory.is_dir()


# --------------------------------------------------------------------------- a real gunicorn


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn in a child process, its output collected line by line as it comes."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.changed = threading.Condition()
        self.process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(CONF), "app.wsgi:app"],
                                        cwd=str(ROOT), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        self.readers = [threading.Thread(target=self._read, args=(name, getattr(self.process, name)), daemon=True)
                        for name in self.lines]
        for reader in self.readers:
            reader.start()

    def _read(self, name: str, stream) -> None:
        for line in stream:
            with self.changed:
                self.lines[name].append(line.rstrip("\n"))
                self.changed.notify_all()

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 60) -> list[re.Match]:
        """The first ``count`` matches of ``pattern`` in the error log, waiting for them to be written."""
        regex = re.compile(pattern)

        def found() -> list[re.Match]:
            return [m for m in map(regex.search, self.lines["stderr"]) if m]

        with self.changed:
            if not self.changed.wait_for(lambda: len(found()) >= count or self.process.poll() is not None,
                                         timeout=timeout):
                raise AssertionError(f"gunicorn never logged {pattern!r}:\n" + "\n".join(self.lines["stderr"]))
            matches = found()
        assert len(matches) >= count, "gunicorn stopped:\n" + "\n".join(self.lines["stderr"])
        return matches[:count]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        for reader in self.readers:
            reader.join(timeout=10)


@pytest.fixture
def instance(tmp_path) -> dict[str, str]:
    """An embedded-default instance, migrated and seeded by the release command before the workers start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERALD_", "PROMETHEUS_", "DATABASE_URL",
                                                                     "SECRET_KEY", "ENCRYPTION_KEY", "REDIS_URL",
                                                                     "CELERY_", "WEB_CONCURRENCY", "PORT"))}
    env.update({"HERALD_INSTANCE_PATH": str(tmp_path / "instance"), "HERALD_TASKS": "inline"})
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "demo"], cwd=str(ROOT), env=env, check=True,
                   capture_output=True)
    return env


def test_gunicorn_serves_herald_and_logs_json_request_lines_without_secrets(instance):
    port = free_port()
    server = Gunicorn({**instance, "HERALD_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2",
                       "HERALD_THREADS": "2"})
    try:
        server.wait_for(r"Listening at: http://127\.0\.0\.1:%d" % port)
        base = f"http://127.0.0.1:{port}"
        health = requests.get(base + "/healthz", headers={"X-Request-Id": "probe-7"}, timeout=60)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        secret_url = base + "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=SECRET&hub.challenge=42&code=X"
        check = requests.get(secret_url, timeout=60)
        assert check.status_code == 403  # no sender has that verify token
        generated = check.headers["X-Request-Id"]
        assert generated and generated != "probe-7"
    finally:
        server.stop()
    access = [json.loads(line) for line in server.lines["stdout"] if line.strip()]
    by_path = {line["path"].split("?")[0]: line for line in access}
    assert set(by_path) == {"/healthz", "/webhooks/whatsapp"}, access
    for line in access:
        assert {"time", "level", "logger", "message", "request_id", "status", "method", "duration_ms"} <= set(line)
        assert line["logger"] == "gunicorn.access"
    assert by_path["/healthz"]["request_id"] == "probe-7" and by_path["/healthz"]["status"] == 200
    webhook = by_path["/webhooks/whatsapp"]
    assert webhook["request_id"] == generated and webhook["status"] == 403
    assert "hub.verify_token=[redacted]" in webhook["message"] and "code=[redacted]" in webhook["path"]
    assert "hub.challenge=42" in webhook["path"]  # only secrets are redacted
    everything = "\n".join(server.lines["stdout"] + server.lines["stderr"])
    assert "SECRET" not in everything and "code=X" not in everything
    for line in server.lines["stderr"]:  # gunicorn's own lines are JSON events too
        if line.startswith("{"):
            assert json.loads(line)["logger"].startswith("gunicorn")


def test_a_fresh_metrics_directory_lives_as_long_as_gunicorn_and_a_dead_workers_live_gauges_leave_it(
        instance, tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    server = Gunicorn({**instance, "HERALD_BIND": f"127.0.0.1:{free_port()}", "WEB_CONCURRENCY": "2",
                       "HERALD_THREADS": "1", "TMPDIR": str(temporary)})
    try:
        booted = [int(m.group(1)) for m in server.wait_for(r"Booting worker with pid: (\d+)", count=2)]
        made = list(temporary.glob("herald-metrics-*"))
        assert len(made) == 1 and made[0].is_dir()
        directory = made[0]
        victim, survivor = (directory / f"gauge_livesum_{pid}.db" for pid in booted)
        victim.write_bytes(b"")
        survivor.write_bytes(b"")
        os.kill(booted[0], signal.SIGKILL)
        server.wait_for(r"Booting worker with pid: (\d+)", count=3)  # its replacement: child_exit has run
        assert not victim.exists() and survivor.exists()
    finally:
        server.stop()
    assert server.process.returncode == 0
    assert not directory.exists()  # made by gunicorn.conf.py, removed when gunicorn exits
