"""Copy labelled JSON Lines files into Herald's training data, without duplicates.

    .venv/bin/python scripts/policy_import.py SOURCE.jsonl ... [--into data/policy/train] [--prefix corpus_]

Each row keeps text, label, language, kind and industry. A row whose text (compared case-, accent-
and space-insensitively) is already in the training data — in any file — is dropped, and so is a
text that appears with both labels (it teaches nothing and hides a labelling mistake); both are counted.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("text", "label", "language", "kind", "industry")


def key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).split())


def read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", nargs="+", type=Path)
    parser.add_argument("--into", type=Path, default=ROOT / "data" / "policy" / "train")
    parser.add_argument("--prefix", default="", help="prefix for the copied files' names")
    args = parser.parse_args(argv)
    args.into.mkdir(parents=True, exist_ok=True)
    targets = {args.into / f"{args.prefix}{source.name}" for source in args.sources}
    seen: dict[str, str] = {}
    for existing in sorted(args.into.glob("*.jsonl")):
        if existing in targets:
            continue
        for row in read(existing):
            seen[key(row["text"])] = row["label"]
    labels_of: dict[str, set[str]] = {}
    for source in args.sources:
        for row in read(source):
            labels_of.setdefault(key(row["text"]), set()).add(row["label"])
    for source in args.sources:
        kept, duplicates, conflicting = [], 0, 0
        for row in read(source):
            k = key(row["text"])
            if len(labels_of[k]) > 1:
                conflicting += 1
                continue
            if k in seen:
                duplicates += 1
                continue
            seen[k] = row["label"]
            kept.append({f: row.get(f, "") for f in FIELDS})
        target = args.into / f"{args.prefix}{source.name}"
        with target.open("w", encoding="utf-8") as handle:
            for row in kept:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{source} → {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: {len(kept)} kept, "
              f"{duplicates} duplicate(s), {conflicting} with both labels dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
