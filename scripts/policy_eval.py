"""Measure the marketing-content check against Herald's labelled proactive messages.

    .venv/bin/python scripts/policy_eval.py [PATH] [--threshold 0.95] [--split NAME]

PATH defaults to tests/data/proactive_messages.jsonl: one JSON object per line with "text",
"label" ("marketing" or "service"), "language" and "kind"; an optional "split" (e.g. "holdout")
marks messages kept aside while the phrase lists were written, and is reported on its own.

Prints counts, precision and recall for "marketing" overall, per language and per split, then every
misclassified message with the signals that fired (or nearly fired). Exits 1 when precision or
recall falls below the threshold, so CI can run it.
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

from app.domain.marketing import check_content, find_signals  # noqa: E402

DEFAULT_PATH = ROOT / "tests" / "data" / "proactive_messages.jsonl"
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


def evaluate(rows: list[dict]) -> tuple[Tally, dict[str, Tally], dict[str, Tally], list[tuple[dict, str]]]:
    """Run the check on every row: overall, per-language and per-split tallies, and the misses."""
    overall = Tally()
    by_language: dict[str, Tally] = defaultdict(Tally)
    by_split: dict[str, Tally] = defaultdict(Tally)
    misses: list[tuple[dict, str]] = []
    for row in rows:
        language = row.get("language", "en")
        result = check_content(row["text"], (language,))
        predicted = MARKETING if result.marketing else SERVICE
        for tally in (overall, by_language[language], by_split[row.get("split", "main")]):
            tally.add(row["label"], predicted)
        if predicted != row["label"]:
            misses.append((row, predicted))
    return overall, dict(by_language), dict(by_split), misses


def _pct(value: float | None) -> str:
    return "  n/a " if value is None else f"{value:6.1%}"


def _line(name: str, tally: Tally) -> str:
    return (f"{name:<10} n={tally.total:<4} tp={tally.tp:<4} fp={tally.fp:<3} fn={tally.fn:<3} "
            f"tn={tally.tn:<4} precision={_pct(tally.precision)} recall={_pct(tally.recall)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--threshold", type=float, default=0.95,
                        help="minimum precision and recall for marketing (default 0.95)")
    parser.add_argument("--split", help='only evaluate rows with this "split" (e.g. holdout, main)')
    args = parser.parse_args(argv)

    rows = load(args.path)
    if args.split:
        rows = [row for row in rows if row.get("split", "main") == args.split]
    if not rows:
        print("no labelled messages to evaluate")
        return 1

    overall, by_language, by_split, misses = evaluate(rows)
    labels = defaultdict(int)
    for row in rows:
        labels[row["label"]] += 1
    print(f"{args.path}: {len(rows)} messages "
          f"({labels[MARKETING]} marketing, {labels[SERVICE]} service)")
    print(_line("all", overall))
    print("\nper language")
    for language in sorted(by_language):
        print(_line(language, by_language[language]))
    if len(by_split) > 1:
        print("\nper split")
        for split in sorted(by_split):
            print(_line(split, by_split[split]))

    print(f"\nmisclassified: {len(misses)}")
    for row, predicted in misses:
        signals = find_signals(row["text"], (row.get("language", "en"),))
        shown = ", ".join(f'{s.code}: "{s.phrase}"' for s in signals) or "no signal"
        print(f"- expected {row['label']}, got {predicted} "
              f"[{row.get('language', 'en')}/{row.get('kind', '?')}] {row['text']}\n    signals: {shown}")

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
