"""Latency of GET /hubspot/card as HubSpot calls it: signed (v3), against a running server.

Usage:
    .venv/bin/python benchmarks/hubspot_card_latency.py [--requests 2000] [--warmup 200] [--contact 101]

The script prepares Herald's embedded default (SQLite and the demo workspace, in a temporary
instance folder), gives the demo contact a few sent messages so the card has a full list, and starts
Werkzeug's threaded server on 127.0.0.1 in a child process (so the client does not share its
interpreter). It then sends the requests one after another over a kept-alive connection, each with
a fresh v3 signature, and prints p50/p95/p99 of the wall time per request as the client sees it.
The demo portal answers from its built-in contact directory, so no request leaves the machine.
Target: p95 under 20 ms.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PUBLIC_BASE_URL = "https://herald.bench.example"  # what HubSpot would call; the server rebuilds it


def sign(secret: str, url: str, timestamp: str) -> str:
    message = f"GET{url}{timestamp}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def seed_messages(app, contact_id: str, count: int = 6) -> None:
    """Replies inside the demo customer's open WhatsApp window, recorded against the HubSpot contact."""
    from app.services.demo import DEMO
    from app.services.hubspot import DEMO_CONTACTS
    from app.services.send import SendRequest, send

    ctx = app.extensions["herald"]
    number = DEMO_CONTACTS[contact_id][3]
    for i in range(count):
        send(ctx, SendRequest(workspace=DEMO, channel="whatsapp", to=number, text=f"Update {i + 1} on your order.",
                              purpose="delivery_update", surface="hubspot", contact_ref=contact_id))


def environment(instance: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "HERALD_DEMO", "SECRET_KEY",
                                                             "ENCRYPTION_KEY", "HUBSPOT_CLIENT_SECRET")}
    env.update({"HERALD_INSTANCE_PATH": instance, "PUBLIC_BASE_URL": PUBLIC_BASE_URL})
    return env


def serve() -> None:
    """The child process: Herald on the embedded default, on a free loopback port it prints."""
    from werkzeug.serving import make_server

    from app import create_app

    app = create_app()
    logging.disable(logging.INFO)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--contact", default="101")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return

    import requests

    instance = tempfile.mkdtemp(prefix="herald-bench-")
    env = environment(instance)
    for name in set(os.environ) - set(env):
        del os.environ[name]
    os.environ.update(env)
    from app import create_app

    app = create_app()  # migrates, seeds the demo workspace, and keeps its keys in the instance folder
    logging.disable(logging.INFO)
    secret = app.extensions["herald"].config.hubspot_client_secret
    seed_messages(app, args.contact)
    app.extensions["herald"].store.dispose()

    child = subprocess.Popen([sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True,
                             env=env, cwd=str(ROOT))
    try:
        port = int(child.stdout.readline())
        local = f"http://127.0.0.1:{port}"
        path = f"/hubspot/card?portalId=900001&contactId={args.contact}&appId=4242"
        session = requests.Session()

        def get() -> tuple[float, requests.Response]:
            timestamp = str(int(time.time() * 1000))
            headers = {"X-HubSpot-Signature-v3": sign(secret, PUBLIC_BASE_URL + path, timestamp),
                       "X-HubSpot-Request-Timestamp": timestamp}
            started = time.perf_counter()
            response = session.get(local + path, headers=headers, timeout=10)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"the card answered {response.status_code}: {response.text[:200]}")
            return elapsed, response

        body = get()[1].json()
        for _ in range(args.warmup):
            get()
        samples = [get()[0] for _ in range(args.requests)]
    finally:
        child.terminate()
        child.wait(timeout=10)

    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    print(f"GET /hubspot/card (signed v3, demo contact {args.contact}: {len(body['channels'])} channels, "
          f"{len(body['messages'])} messages), SQLite, Werkzeug threaded server on 127.0.0.1 (own process)")
    print(f"requests {len(samples)} (after {args.warmup} warm-up), sequential, keep-alive")
    print(f"p50 {cuts[49]:.2f} ms   p95 {cuts[94]:.2f} ms   p99 {cuts[98]:.2f} ms   "
          f"mean {statistics.fmean(samples):.2f} ms   max {max(samples):.2f} ms")
    print(f"target p95 < 20 ms: {'met' if cuts[94] < 20 else 'NOT met'}")


if __name__ == "__main__":
    main()
