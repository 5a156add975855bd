"""How fast the Intercom sidebar answers: initialize, a step of the flow, and a send.

Starts Herald on the embedded default (SQLite, demo workspace, sandbox provider) in a temporary
instance folder, served on 127.0.0.1 by a threaded server, with a stand-in for Intercom's REST API
on another loopback port so that every send also writes its note to the conversation, as in
production. Then it plays Intercom: signed initialize requests, and for each send the submit that
opens the form followed by the submit that sends. It prints p50/p95/p99 per endpoint.

Targets: initialize p95 under 20 ms; a send p95 under 50 ms with the sandbox provider.

    python benchmarks/intercom_latency.py [-n 300]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
CUSTOMER = "+12015550123"  # the demo customer who wrote in two hours ago
TARGETS = {"initialize": 20.0, "submit (send)": 50.0}


class FakeIntercom(BaseHTTPRequestHandler):
    """Answers every REST call the way Intercom answers a note: 200 and a small JSON body."""

    notes = 0

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        FakeIntercom.notes += 1
        body = b'{"type":"conversation","id":"147"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def serve(server: Any) -> None:
    threading.Thread(target=server.serve_forever, daemon=True).start()


def start_herald(instance: Path, intercom_base: str) -> tuple[Any, str]:
    """The app exactly as `flask run` builds it from the environment, on a loopback port."""
    os.environ.update({"HERALD_INSTANCE_PATH": str(instance), "HERALD_DEMO": "1",
                       "DATABASE_URL": f"sqlite:///{instance / 'herald.db'}",
                       "INTERCOM_API_BASE": intercom_base, "INTERCOM_ACCESS_TOKEN": "benchmark-token",
                       "PUBLIC_BASE_URL": "http://127.0.0.1"})
    sys.path.insert(0, str(ROOT))
    from werkzeug.serving import make_server

    from app import create_app

    app = create_app()
    for name in ("werkzeug", "app", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    serve(server)
    return app, f"http://127.0.0.1:{server.server_port}"


class Intercom:
    """Signs and posts Canvas Kit requests the way Intercom does."""

    def __init__(self, base: str, secret: str) -> None:
        self.base = base
        self.secret = secret.encode()
        self.http = requests.Session()
        self.payload = {
            "workspace_id": "demo-intercom", "workspace_region": "us",
            "admin": {"type": "admin", "id": "814860", "name": "Bench Agent", "email": "bench@example.com"},
            "conversation": {"type": "conversation", "id": "147"},
            "contact": {"type": "contact", "id": "5ba682d23d7cf92bef87bfd4", "name": "Ana García",
                        "email": "ana@example.com", "phone": CUSTOMER},
            "context": {"location": "conversation", "conversation_id": 147, "locale": "en"},
        }

    def post(self, path: str, extra: dict[str, Any] | None = None) -> tuple[float, dict[str, Any]]:
        raw = json.dumps({**self.payload, **(extra or {})}, separators=(",", ":"), ensure_ascii=False).encode()
        signature = hmac.new(self.secret, raw, hashlib.sha256).hexdigest()
        started = time.perf_counter()
        response = self.http.post(self.base + path, data=raw, timeout=10,
                                  headers={"Content-Type": "application/json", "X-Body-Signature": signature})
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        return elapsed, response.json()

    def submit(self, canvas: dict[str, Any], component_id: str, values: dict[str, Any]) -> tuple[float, dict]:
        return self.post("/intercom/submit", {"component_id": component_id, "input_values": values,
                                              "current_canvas": canvas})


def header(body: dict[str, Any]) -> str:
    return body["canvas"]["content"]["components"][0].get("text", "")


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="requests per endpoint (default 300)")
    args = parser.parse_args()

    fake = ThreadingHTTPServer(("127.0.0.1", 0), FakeIntercom)
    serve(fake)
    with tempfile.TemporaryDirectory(prefix="herald-bench-") as folder:
        app, base = start_herald(Path(folder), f"http://127.0.0.1:{fake.server_port}")
        intercom = Intercom(base, app.extensions["herald"].config.intercom_client_secret)
        timings: dict[str, list[float]] = {"initialize": [], "submit (open form)": [], "submit (send)": []}
        failures = 0

        _, home = intercom.post("/intercom/initialize")
        _, compose = intercom.submit(home["canvas"], "compose", {})
        for _ in range(20):  # warm-up: imports, connections, statement caches
            intercom.post("/intercom/initialize")

        for _ in range(args.n):
            elapsed, body = intercom.post("/intercom/initialize")
            timings["initialize"].append(elapsed)
            if body["canvas"]["stored_data"].get("step") != "home":
                failures += 1
        for i in range(args.n):
            elapsed, form = intercom.submit(compose["canvas"], "content:free", {"channel": "whatsapp"})
            timings["submit (open form)"].append(elapsed)
            values = {"to": CUSTOMER, "message": f"Update {i}: your order is on its way.",
                      "purpose": "delivery_update"}
            elapsed, sent = intercom.submit(form["canvas"], "send", values)
            timings["submit (send)"].append(elapsed)
            if header(sent) != "✅ WhatsApp message sent":
                failures += 1
                print(f"send {i} did not succeed: {header(sent)!r}", file=sys.stderr)
        app.extensions["herald"].store.dispose()
    fake.shutdown()

    print(f"Herald Intercom sidebar latency, {args.n} requests each, client-side wall time (ms)")
    print(f"{'endpoint':<22}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}   target")
    for name, samples in timings.items():
        p50, p95, p99 = percentiles(samples)
        target = TARGETS.get(name)
        verdict = "" if target is None else f"p95 < {target:.0f} ms: {'met' if p95 < target else 'MISSED'}"
        print(f"{name:<22}{p50:>8.1f}{p95:>8.1f}{p99:>8.1f}{max(samples):>8.1f}   {verdict}")
    print(f"notes written to the stand-in Intercom: {FakeIntercom.notes}; failed requests: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
