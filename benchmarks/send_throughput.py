"""Sends per second and memory through the send service with the sandbox provider.

Usage:
    .venv/bin/python benchmarks/send_throughput.py [--sends 3000] [--preload 10000 1000000] [--threads 1 4]
                                                  [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]

For each database and each preload size the script fills the messages table with that many stored
messages (in a child process, so the filling does not count against this process's memory), then
sends through ``services.send`` from one process (one thread, then several, as a threaded server
serves) and prints sends/s, the per-send p50/p99, the CPU this process spent per send (so a
result from a slower or busier machine can be read against it) and the peak resident memory of
the sending process. PostgreSQL runs only with --postgres (its tables are
dropped and recreated).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KEY = "zL7E7c1m4bZ1lq2u6d4Cq9gI9xk8Vv0nP3Yc2e5tQ0A="


def make_app(url: str, instance: str, migrate: bool = True):
    """The demo workspace, with the per-person daily cap and quiet hours off: a load test sends many
    messages to a few thousand numbers at whatever hour it runs."""
    from app import create_app
    from app.services.workspaces import update_settings

    app = create_app({"database_url": url, "encryption_keys": (KEY,), "secret_key": "bench",
                      "instance_path": instance, "demo": True}, migrate=migrate)
    update_settings(app.extensions["herald"], "demo", {"daily_cap": None, "quiet_start": "00:00",
                                                       "quiet_end": "00:00"})
    return app


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def preload(url: str, instance: str, count: int) -> None:
    """Store ``count`` messages to 50k recipients spread over 90 days, as months of traffic leave them.

    The recipients include the numbers the timed run sends to, so its lookups walk real index
    entries rather than empty ranges."""
    import logging

    from sqlalchemy import insert, select

    from app.store.models import Message, Sender

    logging.disable(logging.INFO)
    app = make_app(url, instance)
    store = app.extensions["herald"].store
    now = datetime.now(timezone.utc)
    minutes = 90 * 24 * 60
    with store.session() as session:
        sender = session.scalar(select(Sender).where(Sender.channel == "sms"))
        sender_id, workspace_id = sender.id, sender.workspace_id
    batch = 20_000
    for start in range(0, count, batch):
        rows = [{"public_id": f"msg_pre{n:012d}", "workspace_id": workspace_id, "sender_id": sender_id,
                 "channel": "sms", "recipient": f"+1201{5550000 + n % 50_000:07d}", "kind": "text", "params": {},
                 "text": "Your parcel is out for delivery.", "origin": "api", "surface": "api",
                 "requested_by": "bench", "context": {}, "policy_reasons": [], "status": "delivered",
                 "provider_message_id": f"sbx_pre{n}", "purpose": "delivery_update",
                 "created_at": now - timedelta(minutes=(n * 7919) % minutes + 24 * 60),
                 "updated_at": now}
                for n in range(start, min(start + batch, count))]
        with store.engine.begin() as connection:
            connection.execute(insert(Message), rows)


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run(url: str, instance: str, sends: int, threads: int) -> dict[str, float]:
    """Send from ``threads`` threads of this one process, as a threaded server would."""
    import logging
    from concurrent.futures import ThreadPoolExecutor

    from app.services.send import SendRequest, send

    logging.disable(logging.INFO)
    app = make_app(url, instance, migrate=False)  # the preloading child migrated it
    ctx = app.extensions["herald"]
    numbers = [f"+1201555{n:04d}" for n in range(200, 1200)]
    for n in range(50):  # warm up
        send(ctx, SendRequest(workspace="demo", channel="sms", to=numbers[n], text="warm up"))
    timings: list[float] = []

    def one(n: int) -> None:
        t0 = time.perf_counter()
        result = send(ctx, SendRequest(workspace="demo", channel="sms", to=numbers[n % len(numbers)],
                                       text=f"Your order {n} has shipped.", idempotency_key=f"bench-{n}",
                                       purpose="delivery_update", surface="api", origin="api"))
        timings.append(time.perf_counter() - t0)
        assert result.message and result.message["status"] == "accepted"

    started, cpu_started = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(sends)))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    timings.sort()
    return {"sends_per_s": sends / elapsed, "cpu_ms": cpu / sends * 1000,
            "p50_ms": statistics.median(timings) * 1000,
            "p99_ms": timings[int(len(timings) * 0.99) - 1] * 1000, "peak_rss_mb": peak_rss_mb()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=3000)
    parser.add_argument("--preload", type=int, nargs="*", default=[10_000, 1_000_000])
    parser.add_argument("--threads", type=int, nargs="*", default=[1, 4])
    parser.add_argument("--postgres", default=os.environ.get("HERALD_BENCH_POSTGRES_URL", ""))
    parser.add_argument("--child", nargs=5, metavar=("MODE", "URL", "INSTANCE", "N", "THREADS"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, url, instance, n, threads = args.child
        if mode == "preload":
            preload(url, instance, int(n))
        else:
            result = run(url, instance, int(n), int(threads))
            print(" ".join(f"{k}={v:.2f}" for k, v in result.items()))
        return
    backends = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
    print(f"{'database':<11} {'stored':>9} {'threads':>7} {'sends/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'CPU ms/send':>12} {'peak RSS MB':>12}")
    for name, pg_url in backends:
        for stored in args.preload:
            with tempfile.TemporaryDirectory() as instance:
                url = pg_url or f"sqlite:///{instance}/herald.db"
                if pg_url:
                    reset_postgres(pg_url)
                subprocess.run([sys.executable, __file__, "--child", "preload", url, instance, str(stored), "1"],
                               check=True)
                for threads in args.threads:
                    out = subprocess.run([sys.executable, __file__, "--child", "run", url, instance, str(args.sends),
                                          str(threads)], check=True, capture_output=True,
                                         text=True).stdout.strip().splitlines()[-1]
                    values = dict(item.split("=") for item in out.split())
                    print(f"{name:<11} {stored:>9,} {threads:>7} {float(values['sends_per_s']):>9.0f} "
                          f"{float(values['p50_ms']):>8.2f} {float(values['p99_ms']):>8.2f} "
                          f"{float(values['cpu_ms']):>12.2f} {float(values['peak_rss_mb']):>12.1f}", flush=True)


if __name__ == "__main__":
    main()
