"""How fast the marketing check is, and how much memory its model takes: prints numbers.

    .venv/bin/python benchmarks/policy_speed.py [PATH ...] [--rounds 5]

Scores every message of the labelled files (default: the training data, data/policy/train) several
times and prints, per message: the model's score alone (what every send pays), the full check with
its explanation and language (what the policy calls), and the share of it that is the explanation;
then the memory the loaded model holds (tracemalloc) and the process's peak resident size. Run it on
a quiet machine; it uses one core.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "data" / "policy" / "train").glob("*.jsonl"))
    texts = [json.loads(line)["text"] for path in paths for line in path.open(encoding="utf-8") if line.strip()]

    from app.domain import marketing_model
    from app.domain.marketing import check_content

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    model = marketing_model.default_model()
    model_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def per_message(fn) -> list[float]:
        timings = []
        for _ in range(args.rounds):
            for text in texts:
                started = time.perf_counter_ns()
                fn(text)
                timings.append((time.perf_counter_ns() - started) / 1000)
        return timings

    per_message(model.probability)  # warm the caches the way a running worker has them
    score = per_message(model.probability)
    check = per_message(check_content)
    words = statistics.mean(len(t.split()) for t in texts)
    print(f"{len(texts)} messages (mean {words:.0f} words, {statistics.mean(len(t) for t in texts):.0f} characters), "
          f"{args.rounds} rounds, Python {sys.version.split()[0]}")
    for name, timings in (("score (every send)", score), ("check + explanation", check)):
        ordered = sorted(timings)
        print(f"  {name:<22} mean {statistics.mean(timings):7.1f} µs   p50 {ordered[len(ordered) // 2]:7.1f} µs   "
              f"p99 {ordered[int(len(ordered) * 0.99)]:7.1f} µs   max {ordered[-1]:8.1f} µs")
    print(f"  model in memory        {model_bytes / 1e6:.1f} MB (tracemalloc: what loading the artefact keeps)")
    print(f"  process peak RSS       {rss_after / 1024:.1f} MB after loading the model (was {rss_before / 1024:.1f} MB with Herald imported); "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MB after the run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
