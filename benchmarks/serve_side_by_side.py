"""Herald beside a bare-Flask ceiling, both under the same gunicorn on PostgreSQL, measured in turns.

Usage:
    .venv/bin/python benchmarks/serve_side_by_side.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench
        [--redis redis://127.0.0.1:6379/5] [--workers 2] [--threads 4] [--rounds 2]
        [--connections 1 10 50] [--requests 1500] [--panel-requests 300] [--host-requests 100]
        [--sections api panels hosts]

What runs, each in its own process on 127.0.0.1 (all stopped when the script ends):

* a stub of the provider and host APIs: Twilio's Messages API (201 and the Message resource of
  Twilio's documentation, tests/data/providers/twilio_message_201.json) and Intercom's note
  endpoint (200, after a delay the script sets); it counts every call;
* the **ceiling**: a bare Flask app doing the irreducible work of a send — parse the JSON, one
  ``INSERT … RETURNING`` into a table, one HTTP call to the provider — on the same database with the
  same pool and the same ``requests`` session settings as Herald;
* **Herald** (``app.wsgi:app``) with a Twilio SMS sender pointed at the stub, and Celery workers on
  Redis for the write-backs. It is set up with the operator commands (``db upgrade``, ``demo``,
  ``workspace create``, ``sender add``, ``apikey create``, ``workspace set``);
* both under ``gunicorn -c gunicorn.conf.py`` with the same workers × threads.

The database's public schema is dropped and recreated, and the Redis database is flushed: give
this script databases of its own.

Then it measures, with a Python client (threads, one kept-alive ``http.client`` connection each):

1. ``POST /api/v1/messages`` on the ceiling and on Herald in turns (ceiling, Herald, ceiling,
   Herald …) at each number of connections; throughput, p50/p95/p99, and the Herald/ceiling ratio
   of each pair of turns. After every turn it checks that each 2xx stored exactly one message and
   made exactly one provider call (and that nothing else did). Every turn also prints the CPU per
   request of the server's workers, of the load client and of the Celery worker, so that a result
   from a busy machine can be read.
2. Canvas Kit initialize, the Canvas Kit submit that sends (signed as Intercom signs; an SMS
   through the demo's sandbox sender, to a new number each time), and the HubSpot card (signed v3,
   the demo portal's contact), at 1 and 50 connections.
3. The Canvas Kit submit that sends while Intercom's note endpoint answers at once and while it
   takes 2 s, in turns, each turn starting once every earlier note is written: the note is a
   background job, so the panel should not notice; at the end every send must have one note.
4. Resident memory (RSS, and PSS, which shares pages fairly between processes) of every gunicorn
   worker after the load.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
TWILIO_ANSWER = ROOT / "tests" / "data" / "providers" / "twilio_message_201.json"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "bench-auth-token-" + "f" * 16
FROM_NUMBER = "+12015550111"
INTERCOM_SECRET = "bench-intercom-client-secret"
HUBSPOT_SECRET = "bench-hubspot-client-secret"
PUBLIC_BASE_URL = "https://herald.bench.example"
DEMO_CUSTOMER = "+12015550123"  # the demo customer who wrote in on WhatsApp


# =========================================================================== the stub (own process)


class Stub(BaseHTTPRequestHandler):
    """Twilio's Messages API and Intercom's note endpoint, answering as their documentation shows."""

    protocol_version = "HTTP/1.1"  # kept-alive connections, as Twilio's and Intercom's APIs keep them
    disable_nagle_algorithm = True  # with Nagle, a body written after its headers waits ~40 ms for an ACK
    lock = threading.Lock()
    bodies: list[str] = []
    notes: list[str] = []
    note_delay = 0.0
    template: dict[str, Any] = {}

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self._headers_buffer.append(b"\r\n" + raw)  # headers and body in one write
        self.flush_headers()

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path
        if path.endswith("/Messages.json"):
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            with Stub.lock:
                Stub.bodies.append(form.get("Body", ""))
                number = len(Stub.bodies)
            account = path.split("/")[3]
            sid = f"SM{number:032x}"
            self._answer(201, {**Stub.template, "sid": sid, "account_sid": account, "to": form.get("To"),
                               "from": form.get("From"), "body": form.get("Body", ""),
                               "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json"})
        elif path.startswith("/conversations/") or path.startswith("/contacts/"):
            if Stub.note_delay:
                time.sleep(Stub.note_delay)
            with Stub.lock:
                Stub.notes.append(str(json.loads(raw or b"{}").get("body", "")))
            self._answer(200, {"type": "conversation", "id": path.split("/")[2]})
        elif path == "/_delay":
            Stub.note_delay = float(json.loads(raw)["seconds"])
            self._answer(200, {"note_delay": Stub.note_delay})
        else:
            self._answer(404, {"message": "not here"})

    def do_GET(self) -> None:  # noqa: N802
        """``/_calls?offset=N``: provider calls' bodies from the Nth on; ``/_notes?offset=N``: the notes'."""
        url = urlsplit(self.path)
        offset = int(parse_qs(url.query).get("offset", ["0"])[0])
        with Stub.lock:
            seen = Stub.notes if url.path == "/_notes" else Stub.bodies
            self._answer(200, {"bodies": seen[offset:], "total": len(seen)})

    def log_message(self, *args: Any) -> None:
        pass


def serve_stub() -> None:
    Stub.template = json.loads(TWILIO_ANSWER.read_text())
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    server.daemon_threads = True
    server.request_queue_size = 256
    print(server.server_port, flush=True)
    server.serve_forever()


# =========================================================================== the ceiling (gunicorn app)


def ceiling_app():
    """The irreducible work of a send: parse the JSON, one INSERT, one HTTP call to the provider."""
    import requests
    from flask import Flask, jsonify, request
    from requests.adapters import HTTPAdapter
    from sqlalchemy import create_engine, text
    from urllib3.util.retry import Retry

    engine = create_engine(os.environ["CEILING_DATABASE_URL"], pool_size=10, max_overflow=20, pool_recycle=1800)
    provider = requests.Session()
    adapter = HTTPAdapter(pool_connections=10, pool_maxsize=10, max_retries=Retry(total=0))
    provider.mount("http://", adapter)
    url = f"{os.environ['CEILING_PROVIDER_BASE']}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    insert = text("INSERT INTO ceiling_messages (recipient, body) VALUES (:to, :text) RETURNING id")
    app = Flask("ceiling")

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.post("/api/v1/messages")
    def send():
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("to"), str) or not isinstance(body.get("text"), str):
            return jsonify(error="invalid"), 400
        with engine.begin() as connection:
            message_id = connection.execute(insert, {"to": body["to"], "text": body["text"]}).scalar_one()
        answer = provider.post(url, data={"To": body["to"], "From": FROM_NUMBER, "Body": body["text"]},
                               auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=(3.05, 10.0), allow_redirects=False)
        if answer.status_code != 201:
            return jsonify(error="provider", status=answer.status_code), 502
        return jsonify(id=message_id, sid=answer.json()["sid"], status="accepted"), 201

    return app


# =========================================================================== processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Processes:
    """Every process this script starts, each in its own session, stopped (group and all) at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, command: list[str], env: dict[str, str], *, pipe: bool = False) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "w")
        process = subprocess.Popen(command, cwd=str(ROOT), env=env, stdout=subprocess.PIPE if pipe else log,
                                   stderr=log, text=True, start_new_session=True)
        process.log_path = self.folder / f"{name}.log"  # type: ignore[attr-defined]
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen, timeout: float = 30) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            try:
                self.stop(process)
            except ProcessLookupError:
                pass


def wait_until(check: Callable[[], bool], what: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"{what}: the process stopped ({process.returncode}); see {process.log_path}")
        if check():
            return
        time.sleep(0.2)
    raise SystemExit(f"{what}: not ready after {timeout:.0f} s" + (f"; see {process.log_path}" if process else ""))


def answers(port: int, path: str = "/healthz") -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / ticks


def memory_mb(pid: int) -> tuple[float, float]:
    """(RSS, PSS) in MB: PSS shares the pages a worker shares with its siblings between them."""
    rss = pss = float("nan")
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Pss:"):
                pss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, pss


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    port: int

    @property
    def workers(self) -> list[int]:
        return children(self.process.pid)


# =========================================================================== the load client


@dataclass
class Result:
    status: int
    seconds: float
    body: bytes


@dataclass
class Turn:
    label: str
    connections: int
    results: list[Result]
    wall: float
    cpu: float  # the server's workers' CPU time over the turn
    client_cpu: float  # this process's (the load client's)
    jobs_cpu: float  # the Celery worker's, writing notes meanwhile
    problems: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)  # the texts of the 2xx answers, when the turn sends

    @property
    def ok(self) -> list[Result]:
        return [r for r in self.results if 200 <= r.status < 300]

    @property
    def throughput(self) -> float:
        return len(self.results) / self.wall

    def percentiles(self) -> tuple[float, float, float]:
        samples = sorted(r.seconds * 1000 for r in self.results)
        if len(samples) < 2:
            return (samples[0],) * 3 if samples else (float("nan"),) * 3
        cuts = statistics.quantiles(samples, n=100, method="inclusive")
        return cuts[49], cuts[94], cuts[98]


Request = tuple[str, str, dict[str, str], bytes | None]


def load(port: int, build: Callable[[int], Request], total: int, connections: int) -> tuple[list[Result], float]:
    """``total`` requests over ``connections`` kept-alive connections, as fast as they are answered."""
    results: list[Result | None] = [None] * total
    counter = itertools.count()
    lock = threading.Lock()
    ready = threading.Barrier(connections + 1)
    errors: list[BaseException] = []

    def connect() -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.connect()
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def client() -> None:
        try:
            connection = connect()
        finally:
            ready.wait()
        try:
            run(connection)
        except BaseException as error:  # a bug in a request builder stops the run, not just a thread
            errors.append(error)

    def run(connection: http.client.HTTPConnection) -> None:
        while True:
            with lock:
                n = next(counter)
            if n >= total:
                break
            method, path, headers, body = build(n)
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                status = response.status
                if response.will_close:
                    connection.close()
                    connection = connect()
            except (OSError, http.client.HTTPException):
                status, data = 0, b""
                connection.close()
                connection = connect()
            results[n] = Result(status, time.perf_counter() - started, data)
        connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    ready.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    return [r for r in results if r is not None], wall


# =========================================================================== the benchmark


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=str(ROOT), env=env,
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise SystemExit(f"flask --app app {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout.strip()


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def intercom_signature(raw: bytes) -> str:
    return hmac.new(INTERCOM_SECRET.encode(), raw, hashlib.sha256).hexdigest()


def hubspot_signature(url: str, timestamp: str) -> str:
    return base64.b64encode(hmac.new(HUBSPOT_SECRET.encode(), f"GET{url}{timestamp}".encode(),
                                     hashlib.sha256).digest()).decode()


def recipients(count: int, offset: int) -> list[str]:
    """Distinct valid US numbers, so that sends do not queue on one person's lock."""
    assert count <= 10_000 and offset + count < 7_000_000
    return [f"+1201{2_000_000 + offset + n:07d}" for n in range(count)]


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.folder = Path(tempfile.mkdtemp(prefix="herald-side-by-side-"))
        self.processes = Processes(self.folder)
        self.stub_port = 0
        self.calls_seen = 0
        self.sequence = itertools.count(1)
        self.engine = None
        self.notes_problem = False

    # ------------------------------------------------------------------ set-up

    def stub(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.stub_port, timeout=30)
        connection.request(method, path, body=json.dumps(body).encode() if body is not None else None)
        answer = json.loads(connection.getresponse().read())
        connection.close()
        return answer

    def herald_env(self) -> dict[str, str]:
        from cryptography.fernet import Fernet

        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
        env = {k: v for k, v in os.environ.items() if k in keep}
        stub = f"http://127.0.0.1:{self.stub_port}"
        env.update({
            "DATABASE_URL": self.args.postgres, "REDIS_URL": self.args.redis, "HERALD_TASKS": "celery",
            "SECRET_KEY": secrets.token_urlsafe(48), "ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "HERALD_DEMO": "1", "HERALD_LOG_FORMAT": "json",
            "HERALD_INSTANCE_PATH": str(self.folder / "instance"),
            "INTERCOM_CLIENT_ID": "bench-intercom-client", "INTERCOM_CLIENT_SECRET": INTERCOM_SECRET,
            "INTERCOM_ACCESS_TOKEN": "bench-intercom-token", "INTERCOM_API_BASE": stub,
            "HUBSPOT_CLIENT_ID": "bench-hubspot-client", "HUBSPOT_CLIENT_SECRET": HUBSPOT_SECRET,
            "HUBSPOT_APP_ID": "4242", "TWILIO_API_BASE": stub,
            "WEB_CONCURRENCY": str(self.args.workers), "HERALD_THREADS": str(self.args.threads),
        })
        return env

    def start_gunicorn(self, name: str, app_path: str, env: dict[str, str]) -> Server:
        port = free_port()
        env = {**env, "HERALD_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(self.args.workers),
               "HERALD_THREADS": str(self.args.threads)}
        process = self.processes.start(name, [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                                              "--pythonpath", str(HERE), app_path], env)
        wait_until(lambda: answers(port) and len(children(process.pid)) == self.args.workers, f"{name} (gunicorn)",
                   120, process)
        return Server(name, process, port)

    def set_up(self) -> None:
        import redis
        from sqlalchemy import create_engine, text

        stub = self.processes.start("stub", [sys.executable, __file__, "--stub"], dict(os.environ), pipe=True)
        self.stub_port = int(stub.stdout.readline())
        reset_postgres(self.args.postgres)
        redis.Redis.from_url(self.args.redis).flushdb()
        env = self.herald_env()
        # The release step runs with the demo off: with it on, every process seeds the demo workspace as it
        # starts, before a command could create the tables it goes into.
        cli({**env, "HERALD_DEMO": "0"}, "db", "upgrade")
        cli(env, "demo")
        relaxed = ("daily_cap=null", "quiet_start=00:00", "quiet_end=00:00")
        cli(env, "workspace", "set", "demo", *relaxed)  # a load test sends all day to a few numbers
        cli(env, "workspace", "create", "bench")
        cli(env, "sender", "add", "bench", "--channel", "sms", "--provider", "twilio", "--from", FROM_NUMBER,
            "--option", f"account_sid={ACCOUNT_SID}", "--option", f"auth_token={AUTH_TOKEN}")
        cli(env, "workspace", "set", "bench", *relaxed)
        self.api_key = cli(env, "apikey", "create", "bench", "--name", "side-by-side benchmark").splitlines()[-1]
        self.engine = create_engine(self.args.postgres)
        with self.engine.begin() as connection:
            connection.execute(text("CREATE TABLE ceiling_messages (id BIGSERIAL PRIMARY KEY, recipient TEXT NOT NULL,"
                                    " body TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())"))
        ceiling_env = {**{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")},
                       "CEILING_DATABASE_URL": self.args.postgres,
                       "CEILING_PROVIDER_BASE": f"http://127.0.0.1:{self.stub_port}", "HERALD_LOG_FORMAT": "json"}
        self.ceiling = self.start_gunicorn("ceiling", "serve_side_by_side:ceiling_app()", ceiling_env)
        self.herald = self.start_gunicorn("herald", "app.wsgi:app", env)
        # The worker runs with the demo off, as in production: it needs nothing of the demo to write notes.
        self.celery = self.processes.start("celery", [sys.executable, "-m", "celery", "-A", "app.tasks.worker", "worker",
                                                      "--hostname", f"bench-{os.getpid()}@%h", "--loglevel", "INFO",
                                                      "--concurrency", str(self.args.celery_concurrency)],
                                           {**env, "HERALD_DEMO": "0"})
        wait_until(lambda: " ready." in self.celery.log_path.read_text(), "celery worker", 120, self.celery)

    # ------------------------------------------------------------------ one turn

    def provider_calls(self) -> list[str]:
        answer = self.stub("GET", f"/_calls?offset={self.calls_seen}")
        self.calls_seen += len(answer["bodies"])
        return answer["bodies"]

    def turn(self, server: Server, label: str, build: Callable[[int], Request], total: int, connections: int,
             texts: Callable[[int], str] | None = None, table: str | None = None, provider: bool = True) -> Turn:
        """One measured run; with ``texts``, every 2xx must have stored one message and made one call."""
        self.provider_calls()  # whatever came before is not this turn's
        workers, jobs = server.workers, [self.celery.pid, *children(self.celery.pid)]
        cpu_before, jobs_before, client_before = cpu_seconds(workers), cpu_seconds(jobs), time.process_time()
        results, wall = load(server.port, build, total, connections)
        turn = Turn(label, connections, results, wall, cpu_seconds(workers) - cpu_before,
                    time.process_time() - client_before, cpu_seconds(jobs) - jobs_before)
        failed = Counter(r.status for r in results if not 200 <= r.status < 300)
        if failed:
            turn.problems.append("non-2xx answers: " + ", ".join(f"{s}×{n}" for s, n in sorted(failed.items())))
            sample = next(r for r in results if not 200 <= r.status < 300)
            turn.problems.append(f"  e.g. {sample.status}: {sample.body[:200]!r}")
        if texts is not None:
            turn.sent = [texts(n) for n, r in enumerate(results) if 200 <= r.status < 300]
            self.verify(turn, [texts(n) for n, r in enumerate(results) if 200 <= r.status < 300],
                        [texts(n) for n, r in enumerate(results) if not 200 <= r.status < 300], table, provider)
        return turn

    def verify(self, turn: Turn, sent: list[str], refused: list[str], table: str | None, provider: bool) -> None:
        """Each 2xx made one provider call (the demo's sandbox senders make none) and stored one message."""
        from sqlalchemy import text

        calls = Counter(self.provider_calls())
        if provider:
            wrong_calls = [t for t in sent if calls.get(t) != 1]
            if wrong_calls:
                turn.problems.append(f"{len(wrong_calls)} 2xx without exactly one provider call, e.g. {wrong_calls[0]!r}")
        stray = sum(calls.values()) - (len(sent) if provider else 0)
        if stray:
            turn.problems.append(f"{stray} provider call(s) beyond one per 2xx")
        if table:
            column = "body" if table == "ceiling_messages" else "text"
            with self.engine.connect() as connection:
                stored = Counter(dict(connection.execute(
                    text(f"SELECT {column}, count(*) FROM {table} WHERE {column} = ANY(:texts) GROUP BY {column}"),
                    {"texts": sent + refused}).all()))
            wrong_rows = [t for t in sent if stored.get(t) != 1]
            if wrong_rows:
                turn.problems.append(f"{len(wrong_rows)} 2xx without exactly one stored message, e.g. {wrong_rows[0]!r}")

    # ------------------------------------------------------------------ requests

    def api_send(self, server: Server, run: int, numbers: list[str]) -> tuple[Callable[[int], Request], Callable[[int], str]]:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"}

        def text_of(n: int) -> str:
            return f"Your order {run}-{n} has shipped and arrives tomorrow."

        def build(n: int) -> Request:
            body = {"channel": "sms", "to": numbers[n % len(numbers)], "text": text_of(n), "purpose": "delivery_update"}
            return ("POST", "/api/v1/messages", {**headers, "Idempotency-Key": f"bench-{run}-{n}"},
                    json.dumps(body).encode())

        return build, text_of

    def canvas_payload(self, **extra: Any) -> dict[str, Any]:
        return {"workspace_id": "demo-intercom", "workspace_region": "us",
                "admin": {"type": "admin", "id": "814860", "name": "Bench Agent", "email": "bench@example.com"},
                "conversation": {"type": "conversation", "id": "147"},
                "contact": {"type": "contact", "id": "5ba682d23d7cf92bef87bfd4", "name": "Ana García",
                            "email": "ana@example.com", "phone": DEMO_CUSTOMER},
                "context": {"location": "conversation", "conversation_id": 147, "locale": "en"}, **extra}

    def canvas(self, path: str, payload: dict[str, Any]) -> Request:
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        return ("POST", path, {"Content-Type": "application/json", "X-Body-Signature": intercom_signature(raw)}, raw)

    def canvas_once(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        results, _ = load(self.herald.port, lambda n: self.canvas(path, payload), 1, 1)
        if results[0].status != 200:
            raise SystemExit(f"{path} answered {results[0].status}: {results[0].body[:300]!r}")
        return json.loads(results[0].body)

    def sms_form(self) -> dict[str, Any]:
        """The write canvas of an SMS in free text, reached as an agent reaches it."""
        home = self.canvas_once("/intercom/initialize", self.canvas_payload())
        compose = self.canvas_once("/intercom/submit", self.canvas_payload(
            component_id="compose", input_values={}, current_canvas=home["canvas"]))
        form = self.canvas_once("/intercom/submit", self.canvas_payload(
            component_id="content:free", input_values={"channel": "sms"}, current_canvas=compose["canvas"]))
        if form["canvas"].get("stored_data", {}).get("step") != "write":
            raise SystemExit(f"the compose canvas did not open an SMS form: {json.dumps(form)[:400]}")
        return form["canvas"]

    def canvas_send(self, form: dict[str, Any], run: int, numbers: list[str]) -> tuple[Callable[[int], Request],
                                                                                     Callable[[int], str]]:
        """The submit that sends, as each agent's own fresh form would post it (its own idempotency key)."""
        def text_of(n: int) -> str:
            return f"Update {run}-{n}: your replacement card is on its way."

        def build(n: int) -> Request:
            stored = {**form["stored_data"], "key": f"bench-{run}-{n}", "issued": int(time.time())}
            return self.canvas("/intercom/submit", self.canvas_payload(
                component_id="send", current_canvas={"content": form["content"], "stored_data": stored},
                input_values={"to": numbers[n % len(numbers)], "message": text_of(n), "purpose": "delivery_update"}))

        return build, text_of

    def card(self) -> Callable[[int], Request]:
        path = "/hubspot/card?portalId=900001&contactId=101&appId=4242"

        def build(n: int) -> Request:
            timestamp = str(int(time.time() * 1000))
            return ("GET", path, {"X-HubSpot-Signature-v3": hubspot_signature(PUBLIC_BASE_URL + path, timestamp),
                                  "X-HubSpot-Request-Timestamp": timestamp}, None)

        return build

    # ------------------------------------------------------------------ the runs

    def run(self) -> None:
        args = self.args
        self.set_up()
        print(environment_line(args), flush=True)
        used = itertools.count()

        def fresh(count: int) -> list[str]:
            """Numbers no turn has sent to yet."""
            return recipients(count, next(used) * 10_000)

        # warm both servers: imports, pools, statement caches, every worker and thread
        for server in (self.ceiling, self.herald):
            build, _ = self.api_send(server, 0, fresh(200))
            self.turn(server, "warm-up", build, 200, args.threads * args.workers)

        api: dict[int, list[tuple[Turn, Turn]]] = {}
        panels: dict[str, list[Turn]] = {}
        hosts: dict[str, list[Turn]] = {}
        if "api" in args.sections:
            print("\n1. POST /api/v1/messages, SMS via the Twilio stub — ceiling and Herald in turns")
            print_header()
            for connections in args.connections:
                total = args.requests if connections > 1 else min(args.requests, args.single_requests)
                for _ in range(args.rounds):
                    pair = []
                    for server, table in ((self.ceiling, "ceiling_messages"), (self.herald, "messages")):
                        run = next(self.sequence)
                        build, text_of = self.api_send(server, run, fresh(total))
                        turn = self.turn(server, server.name, build, total, connections, text_of, table)
                        print_turn(turn)
                        pair.append(turn)
                    api.setdefault(connections, []).append((pair[0], pair[1]))
                    print(f"{'':>22}Herald/ceiling: throughput {pair[1].throughput / pair[0].throughput:.2f}×, "
                          f"p95 {pair[1].percentiles()[1] / pair[0].percentiles()[1]:.2f}×", flush=True)

        form = self.sms_form()
        canvas_sends: list[str] = []  # every Canvas Kit send asks for one note on the conversation
        if "panels" in args.sections:
            print("\n2. Herald's panels (Canvas Kit signed as Intercom signs, the HubSpot card signed v3; "
                  "the panel sends SMS through the demo's sandbox sender)")
            print_header()
            initialize = self.canvas_payload()
            for connections in (1, 50):
                total = args.panel_requests
                for _ in range(args.rounds):
                    run = next(self.sequence)
                    turns = [self.turn(self.herald, "initialize",
                                       lambda n: self.canvas("/intercom/initialize", initialize), total, connections)]
                    build, text_of = self.canvas_send(form, run, fresh(total))
                    turns.append(self.turn(self.herald, "submit (sends)", build, total, connections, text_of,
                                           "messages", provider=False))
                    self.check_canvas(turns[-1])
                    canvas_sends += turns[-1].sent
                    turns.append(self.turn(self.herald, "HubSpot card", self.card(), total, connections))
                    for turn in turns:
                        print_turn(turn)
                        panels.setdefault(f"{turn.label} @{connections}", []).append(turn)

        if "hosts" in args.sections:
            print("\n3. The Canvas Kit submit that sends, Intercom's note endpoint fast or answering in "
                  f"{args.slow_host:g} s (notes written by {args.celery_concurrency} Celery worker processes; "
                  "each turn starts once every earlier note is written)")
            print_header()
            for connections in (1, 10):
                for _ in range(args.rounds):
                    for delay, label in ((0.0, "fast host"), (args.slow_host, "slow host")):
                        self.wait_for_notes(canvas_sends)
                        self.stub("POST", "/_delay", {"seconds": delay})
                        run = next(self.sequence)
                        build, text_of = self.canvas_send(form, run, fresh(args.host_requests))
                        turn = self.turn(self.herald, f"submit, {label}", build, args.host_requests, connections,
                                         text_of, "messages", provider=False)
                        self.check_canvas(turn)
                        canvas_sends += turn.sent
                        print_turn(turn)
                        hosts.setdefault(f"{label} @{connections}", []).append(turn)
            self.stub("POST", "/_delay", {"seconds": 0})
        if canvas_sends:
            self.check_notes(canvas_sends)

        print("\n4. Resident memory per gunicorn worker after the load (MB)")
        for server in (self.ceiling, self.herald):
            for pid in server.workers:
                rss, pss = memory_mb(pid)
                print(f"{server.name:<8} worker {pid:>7}: RSS {rss:6.1f}   PSS {pss:6.1f}")

        summarize(api, panels, hosts, self.notes_problem)

    def notes_written(self, sends: list[str]) -> tuple[list[str], list[str]]:
        """The sends whose note is missing, and those noted more than once."""
        wanted = {re.match(r"Update (\d+-\d+):", text).group(1) for text in sends}
        notes = self.stub("GET", "/_notes?offset=0")["bodies"]
        written = Counter(token for body in notes for token in re.findall(r"Update (\d+-\d+):", body))
        return [t for t in wanted if not written.get(t)], [t for t in wanted if written.get(t, 0) > 1]

    def wait_for_notes(self, sends: list[str]) -> float:
        """Wait (bounded) until every send has its note; returns how long it took."""
        started = time.monotonic()
        deadline = started + 120 + len(sends) * self.args.slow_host / self.args.celery_concurrency
        while self.notes_written(sends)[0] and time.monotonic() < deadline:
            time.sleep(0.25)
        return time.monotonic() - started

    def check_notes(self, sends: list[str]) -> None:
        """Every Canvas Kit send gets exactly one note on the conversation, however slow Intercom was."""
        waited = self.wait_for_notes(sends)
        missing, twice = self.notes_written(sends)
        print(f"notes for the {len(sends)} Canvas Kit sends above: {len(sends) - len(missing)} written "
              f"(the last {waited:.0f} s after the last send), {len(missing)} missing, {len(twice)} written twice"
              + ("" if not missing and not twice else "  ← NOT one per send"))
        self.notes_problem = bool(missing or twice)

    def check_canvas(self, turn: Turn) -> None:
        """A submit that sends answers 200 with a canvas either way: only a ✅ canvas is a send."""
        not_sent = [r for r in turn.ok if "message sent" not in r.body.decode(errors="replace")]
        if not_sent:
            turn.problems.append(f"{len(not_sent)} submit(s) answered without sending, e.g. "
                                 f"{not_sent[0].body[:300]!r}")


# =========================================================================== printing


def environment_line(args: argparse.Namespace) -> str:
    load1, load5, _ = os.getloadavg()
    return (f"gunicorn {args.workers} workers × {args.threads} threads (gthread), PostgreSQL, "
            f"{os.cpu_count()} CPUs, load average {load1:.2f} / {load5:.2f} at start; client: Python threads, "
            "one kept-alive connection each; latency is the client's wall time per request")


def print_header() -> None:
    print(f"{'':<2}{'what':<20}{'conns':>6}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'server CPU':>11}{'client CPU':>11}{'jobs CPU':>9}  (CPU in ms per request)")


def print_turn(turn: Turn) -> None:
    p50, p95, p99 = turn.percentiles()
    print(f"  {turn.label:<20}{turn.connections:>6}{len(turn.results):>9}{turn.throughput:>9.0f}{p50:>9.1f}"
          f"{p95:>9.1f}{p99:>9.1f}{turn.cpu / max(len(turn.results), 1) * 1000:>11.2f}"
          f"{turn.client_cpu / max(len(turn.results), 1) * 1000:>11.2f}"
          f"{turn.jobs_cpu / max(len(turn.results), 1) * 1000:>9.2f}"
          + ("" if not turn.problems else "   ← " + "; ".join(turn.problems)), flush=True)


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.median(values))} (" + " – ".join(fmt.format(v) for v in (min(values), max(values))) + ")"


def summarize(api: dict[int, list[tuple[Turn, Turn]]], panels: dict[str, list[Turn]], hosts: dict[str, list[Turn]],
              notes_problem: bool) -> None:
    print("\nSummary: median (min – max) over the turns of this run")
    for connections, pairs in api.items():
        ratio = [h.throughput / c.throughput for c, h in pairs]
        p95 = [h.percentiles()[1] / c.percentiles()[1] for c, h in pairs]
        print(f"  API send @{connections:<3} ceiling {spread([c.throughput for c, _ in pairs], '{:.0f}')} req/s, "
              f"Herald {spread([h.throughput for _, h in pairs], '{:.0f}')} req/s; Herald/ceiling throughput "
              f"{spread(ratio)}×, p95 {spread(p95)}× (Herald p95 {spread([h.percentiles()[1] for _, h in pairs], '{:.1f}')} ms)")
    for name, turns in panels.items():
        print(f"  {name:<22} p95 {spread([t.percentiles()[1] for t in turns], '{:.1f}')} ms, "
              f"{spread([t.throughput for t in turns], '{:.0f}')} req/s")
    for name, turns in hosts.items():
        print(f"  submit, {name:<14} p95 {spread([t.percentiles()[1] for t in turns], '{:.1f}')} ms")
    problems = [p for pairs in api.values() for pair in pairs for t in pair for p in t.problems] + \
               [p for turns in (*panels.values(), *hosts.values()) for t in turns for p in t.problems]
    print("checks: every 2xx stored exactly one message and made exactly one provider call (sandbox sends: none), "
          "every Canvas Kit send got one note" if not problems and not notes_problem
          else f"checks: {len(problems) + notes_problem} problem(s), see the lines marked ←")


# =========================================================================== main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("HERALD_BENCH_POSTGRES_URL", ""),
                        help="a PostgreSQL database of its own (its public schema is recreated)")
    parser.add_argument("--redis", default=os.environ.get("HERALD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
                        help="a Redis database of its own (it is flushed)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="turns of each pair (ceiling, Herald)")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--requests", type=int, default=1500, help="requests per API turn")
    parser.add_argument("--single-requests", type=int, default=300, help="requests per API turn at one connection")
    parser.add_argument("--panel-requests", type=int, default=300)
    parser.add_argument("--host-requests", type=int, default=100)
    parser.add_argument("--slow-host", type=float, default=2.0, help="seconds the slow note endpoint takes")
    parser.add_argument("--celery-concurrency", type=int, default=8)
    parser.add_argument("--sections", nargs="+", choices=["api", "panels", "hosts"], default=["api", "panels", "hosts"],
                        help="what to measure (default: all)")
    parser.add_argument("--stub", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if args.stub:
        serve_stub()
        return
    if not args.postgres:
        parser.error("--postgres is required (or HERALD_BENCH_POSTGRES_URL)")
    bench = Bench(args)

    def stop(signum, _frame) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    finished = False
    try:
        bench.run()
        finished = True
    finally:
        bench.processes.stop_all()
        if bench.engine is not None:
            bench.engine.dispose()
        if finished:  # the servers' logs are kept only when something went wrong
            shutil.rmtree(bench.folder, ignore_errors=True)
        else:
            print(f"the servers' logs are in {bench.folder}", file=sys.stderr)


if __name__ == "__main__":
    main()
