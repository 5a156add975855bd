"""Real processes on loopback: gunicorn web processes, Celery workers on Redis, and a stub that plays
Twilio's and Intercom's HTTP APIs (the only things faked: they are outside this machine).

Payloads are Twilio's documented Messages API answer (tests/data/providers/twilio_message_201.json)
and Intercom's conversation reply/retrieve shapes (reference/intercom-canvas-kit.md §6).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import parse_qsl

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TWILIO_ANSWER = json.loads((ROOT / "tests/data/providers/twilio_message_201.json").read_text())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stub:
    """Twilio's Messages API and Intercom's conversation API, counting what they were asked."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sms: list[dict[str, str]] = []          # every accepted Messages.json POST, with its sid
        self.notes: Counter[str] = Counter()          # Herald message id -> notes written naming it
        self.note_bodies: dict[str, list[str]] = {}   # conversation id -> note bodies
        self.note_gate = threading.Event()            # cleared: note calls wait for it
        self.note_gate.set()
        self.note_delay = 0.0
        self.notes_waiting = 0                        # note calls received and held by the gate
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are two writes: never wait for an ACK between

            def log_message(self, *_args) -> None:  # quiet
                pass

            def _answer(self, status: int, payload: object) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.startswith("/2010-04-01/Accounts/") and self.path.endswith("/Messages.json"):
                    form = dict(parse_qsl(raw.decode()))
                    sid = "SM" + secrets.token_hex(16)
                    with stub.lock:
                        stub.sms.append({**form, "sid": sid})
                    self._answer(201, {**TWILIO_ANSWER, "sid": sid, "to": form.get("To"), "from": form.get("From"),
                                       "body": form.get("Body")})
                elif self.path.startswith("/conversations/") and self.path.endswith("/reply"):
                    with stub.lock:
                        stub.notes_waiting += 1
                    stub.note_gate.wait(30)
                    if stub.note_delay:
                        time.sleep(stub.note_delay)
                    conversation = self.path.split("/")[2]
                    body = str(json.loads(raw or b"{}").get("body") or "")
                    with stub.lock:  # Intercom keeps the note as soon as it has read the request
                        stub.note_bodies.setdefault(conversation, []).append(body)
                        for word in body.replace("<", " ").replace(">", " ").split():
                            if word.startswith("msg_"):
                                stub.notes[word] += 1
                    self._answer(200, {"type": "conversation", "id": conversation})
                else:
                    self._answer(404, {"type": "error.list", "errors": [{"code": "not_found", "message": self.path}]})

            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/conversations/"):
                    conversation = self.path.split("/")[2].split("?")[0]
                    with stub.lock:
                        parts = [{"type": "conversation_part", "part_type": "note", "body": b}
                                 for b in stub.note_bodies.get(conversation, [])]
                    self._answer(200, {"type": "conversation", "id": conversation,
                                       "conversation_parts": {"type": "conversation_part.list",
                                                              "conversation_parts": parts}})
                else:
                    self._answer(404, {"type": "error.list", "errors": [{"code": "not_found", "message": self.path}]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.note_gate.set()
        self.server.shutdown()
        self.server.server_close()


class Processes:
    """Starts and always stops the processes of one test."""

    def __init__(self, env: Mapping[str, str], logs: Path) -> None:
        self.env = {**os.environ, **env}
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, argv: list[str]) -> subprocess.Popen:
        out = open(self.logs / f"{name}.log", "ab")
        process = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.running[name] = process
        return process

    def web(self, name: str, port: int) -> subprocess.Popen:
        return self.start(name, [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                 "--worker-class", "gthread", "--threads", "4", "--timeout", "60", "app.wsgi:app"])

    def worker(self, name: str, beat: bool = False, pool: str = "threads") -> subprocess.Popen:
        argv = [str(BIN / "celery"), "-A", "app.tasks.worker", "worker", "--pool", pool, "--concurrency",
                "4" if pool == "threads" else "2",
                "--loglevel", "INFO", "-n", f"{name}@%h", "--without-gossip", "--without-mingle"]
        if beat:
            argv += ["-B", "--schedule", str(self.logs / f"{name}-beat-schedule")]
        return self.start(name, argv)

    def kill(self, name: str) -> None:
        """SIGKILL, as a machine that loses power: no clean-up, no acknowledgement."""
        process = self.running.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.running.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.running.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.running.clear()

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


def wait_until(condition: Callable[[], bool], seconds: float, what: str, poll: float = 0.1) -> None:
    """Poll a condition that other processes will make true, failing with ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    raise AssertionError(f"gave up after {seconds:.0f} s waiting for {what}")


def wait_for_http(url: str, seconds: float = 30.0) -> None:
    import requests

    def up() -> bool:
        try:
            return requests.get(url, timeout=1).status_code < 500
        except requests.RequestException:
            return False

    wait_until(up, seconds, f"{url} to answer")
