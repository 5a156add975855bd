"""Measure the marketing-content check on a labelled set of proactive messages.

    .venv/bin/python scripts/policy_eval.py [PATH] [--threshold 0.95] [--split NAME] [--quiet]

PATH is a JSON Lines file, one object per line with "text", "label" ("marketing" or "service"),
"language" and "kind" (an optional "split" is reported on its own); it defaults to the frozen
evaluation split, data/policy/eval/frozen.jsonl. The check is the one the send path runs
(app.domain.marketing.check_content, with the row's language as the only hint).

Prints counts, precision, recall and F1 for "marketing" overall, per language and per split, how
often each kind is read as marketing, how many verdicts fell in the unsure band (where an agent is
asked), then every misclassified message with its score and the words that weighed most. Exits 1
when overall precision or recall falls below the threshold, so CI can run it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.domain.marketing import check_content  # noqa: E402

DEFAULT_PATH = ROOT / "data" / "policy" / "eval" / "frozen.jsonl"
MARKETING, SERVICE = "marketing", "service"


@dataclass
class Tally:
    """Confusion counts for the "marketing" label."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, expected: str, predicted: str) -> None:
        if expected == MARKETING:
            if predicted == MARKETING:
                self.tp += 1
            else:
                self.fn += 1
        elif predicted == MARKETING:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        flagged = self.tp + self.fp
        return self.tp / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        actual = self.tp + self.fn
        return self.tp / actual if actual else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None
        return 2 * p * r / (p + r)


def load(path: Path) -> list[dict]:
    """Read the labelled set, refusing a malformed line with its number rather than guessing."""
    rows: list[dict] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("label") not in (MARKETING, SERVICE) or not row.get("text"):
                raise SystemExit(f"{path}:{number}: needs a text and a label of marketing or service")
            rows.append(row)
    return rows


@dataclass
class Results:
    overall: Tally
    by_language: dict[str, Tally]
    by_split: dict[str, Tally]
    by_kind: dict[str, list[int]]  # kind → [read as marketing, total]
    unsure: int
    misses: list[tuple[dict, str, object]]


def evaluate(rows: list[dict]) -> Results:
    """Run the check on every row: overall, per-language, per-split and per-kind counts, and the misses."""
    overall = Tally()
    by_language: dict[str, Tally] = defaultdict(Tally)
    by_split: dict[str, Tally] = defaultdict(Tally)
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    unsure = 0
    misses: list[tuple[dict, str, object]] = []
    for row in rows:
        language = row.get("language") or "en"
        result = check_content(row["text"], (language,))
        predicted = MARKETING if result.marketing else SERVICE
        for tally in (overall, by_language[language], by_split[row.get("split", "main")]):
            tally.add(row["label"], predicted)
        kind = by_kind[f"{row['label']}/{row.get('kind') or '?'}"]
        kind[0] += result.marketing
        kind[1] += 1
        unsure += result.unsure
        if predicted != row["label"]:
            misses.append((row, predicted, result))
    return Results(overall, dict(by_language), dict(by_split), dict(by_kind), unsure, misses)


def _pct(value: float | None) -> str:
    return "  n/a " if value is None else f"{value:6.1%}"


def _line(name: str, tally: Tally) -> str:
    return (f"{name:<10} n={tally.total:<4} tp={tally.tp:<4} fp={tally.fp:<3} fn={tally.fn:<3} "
            f"tn={tally.tn:<4} precision={_pct(tally.precision)} recall={_pct(tally.recall)} F1={_pct(tally.f1)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--threshold", type=float, default=0.95,
                        help="minimum precision and recall for marketing (default 0.95)")
    parser.add_argument("--split", help='only evaluate rows with this "split" (e.g. holdout, main)')
    parser.add_argument("--quiet", action="store_true", help="do not list the misclassified messages")
    args = parser.parse_args(argv)

    rows = load(args.path)
    if args.split:
        rows = [row for row in rows if row.get("split", "main") == args.split]
    if not rows:
        print("no labelled messages to evaluate")
        return 1

    results = evaluate(rows)
    overall = results.overall
    labels = defaultdict(int)
    for row in rows:
        labels[row["label"]] += 1
    print(f"{args.path}: {len(rows)} messages "
          f"({labels[MARKETING]} marketing, {labels[SERVICE]} service)")
    print(_line("all", overall))
    print("\nper language")
    for language in sorted(results.by_language):
        print(_line(language, results.by_language[language]))
    if len(results.by_split) > 1:
        print("\nper split")
        for split in sorted(results.by_split):
            print(_line(split, results.by_split[split]))
    print("\nread as marketing, per kind")
    for kind, (flagged, total) in sorted(results.by_kind.items()):
        print(f"  {kind:<30} {flagged:>4}/{total:<4} {flagged / total:6.1%}")
    print(f"\nunsure (an agent would be asked): {results.unsure} of {len(rows)} ({results.unsure / len(rows):.1%})")

    print(f"\nmisclassified: {len(results.misses)}")
    if not args.quiet:
        for row, predicted, result in results.misses:
            closest = result.flagged[0] if result.flagged else result.near_miss
            words = ", ".join(closest.words) if closest else ""
            print(f"- expected {row['label']}, got {predicted} ({result.probability:.2f}"
                  f"{', unsure' if result.unsure else ''}) [{row.get('language', 'en')}/{row.get('kind', '?')}] "
                  f"{row['text']}\n    weighed most: {words or '-'}")

    precision = overall.precision if overall.precision is not None else 0.0
    recall = overall.recall if overall.recall is not None else 0.0
    if precision < args.threshold or recall < args.threshold:
        print(f"\nFAIL: precision {precision:.1%}, recall {recall:.1%}; both must be at least "
              f"{args.threshold:.0%}")
        return 1
    print(f"\nOK: precision {precision:.1%}, recall {recall:.1%} (threshold {args.threshold:.0%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
