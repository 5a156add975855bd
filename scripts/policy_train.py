"""Train Herald's marketing model and write the artefact the send path reads.

    .venv/bin/python scripts/policy_train.py                 # train on data/policy/train, write the artefact
    .venv/bin/python scripts/policy_train.py --cv 5          # also: 5-fold cross-validation, per language
    .venv/bin/python scripts/policy_train.py --cv industry   # leave one industry out at a time
    .venv/bin/python scripts/policy_train.py --check         # train, compare with the shipped artefact, write nothing

Needs the training extra (``pip install -e '.[train]'``: scikit-learn). Every step is deterministic —
rows sorted, folds and solvers seeded — so the same data gives the same artefact, byte for byte.

How it trains (the reasons are in app/domain/marketing_model.py):

1. A logistic regression over word and character n-grams (features computed by Herald's own scorer
   code) on the whole messages.
2. Sentence examples are added: every sentence of a service message is service; the sentence of a
   marketing message that the first model finds most promotional is marketing (a mixed message is
   marketing because of that sentence). The model is trained again on messages and sentences.
3. A second, multinomial regression names the kind of marketing, from the marketing messages that
   are not mixed.
4. The thresholds come from out-of-fold probabilities (5 folds on the training data, never the
   frozen evaluation split): the line is where precision and recall for marketing are balanced, the
   unsure band holds the scores where out-of-fold errors concentrate.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.domain import marketing_model as mm  # noqa: E402

TRAIN_DIR = ROOT / "data" / "policy" / "train"
OUT = ROOT / "app" / "domain" / mm.ARTEFACT
SEED = 20261122
C_MARKETING = 100.0
C_KINDS = 8.0
PRUNE = 0.02          # smaller weights change no verdict (checked by --check and the agreement test)
PRUNE_KINDS = 0.05
KIND_FEATURES = 500  # per kind
SENTENCE_WEIGHT = 0.3  # a sentence example counts a little less than a whole message
MARKETING, SERVICE = "marketing", "service"


def load(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The labelled rows of every file, in a stable order."""
    rows = []
    for path in sorted(paths):
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                row = json.loads(line)
                if row.get("label") not in (MARKETING, SERVICE) or not str(row.get("text", "")).strip():
                    raise SystemExit(f"{path}:{number}: needs a text and a label of marketing or service")
                row.setdefault("language", "en")
                row.setdefault("kind", "")
                row.setdefault("industry", "")
                rows.append(row)
    rows.sort(key=lambda r: (r["language"], r["label"], r["kind"], r["text"]))
    return rows


def training_files() -> list[Path]:
    return sorted(TRAIN_DIR.glob("*.jsonl"))


# ----------------------------------------------------------------------------------------------
# Fitting


def _vectors(texts: Sequence[str]) -> list[dict[str, float]]:
    return [mm.feature_vector(t) for t in texts]


def _matrix(vectoriser, vectors: list[dict[str, float]], fit: bool = False):
    """A CSR matrix with 32-bit indices (liblinear wants them)."""
    import numpy as np

    matrix = (vectoriser.fit_transform(vectors) if fit else vectoriser.transform(vectors)).tocsr()
    matrix.indices = matrix.indices.astype(np.int32)
    matrix.indptr = matrix.indptr.astype(np.int32)
    return matrix


def _fit_binary(vectors: list[dict[str, float]], labels: list[int], weights: list[float]):
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = DictVectorizer(sort=True)
    matrix = _matrix(vectoriser, vectors, fit=True)
    model = LogisticRegression(C=C_MARKETING, solver="liblinear", class_weight="balanced", max_iter=1000,
                               random_state=SEED)
    model.fit(matrix, labels, sample_weight=weights)
    return vectoriser, model


def _weights(vectoriser, coefficients, prune: float) -> tuple[dict[str, float], dict[str, float]]:
    word: dict[str, float] = {}
    char: dict[str, float] = {}
    for name, weight in zip(vectoriser.get_feature_names_out(), coefficients):
        if abs(weight) < prune:
            continue
        block, feature = name.split("|", 1)
        (word if block == "w" else char)[feature] = round(float(weight), 4)
    return dict(sorted(word.items())), dict(sorted(char.items()))


def fit_marketing(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The binary model's bias and pruned weights, trained on messages and then on their sentences."""
    texts = [r["text"] for r in rows]
    labels = [1 if r["label"] == MARKETING else 0 for r in rows]
    vectors = _vectors(texts)
    vectoriser, first = _fit_binary(vectors, labels, [1.0] * len(rows))
    extra_vectors, extra_labels = [], []
    for row, label in zip(rows, labels):
        parts = mm.sentence_texts(row["text"])
        if len(parts) < 2:
            continue
        if label == 0:
            chosen = parts
        else:
            probabilities = first.predict_proba(_matrix(vectoriser, _vectors(parts)))[:, 1]
            chosen = [parts[max(range(len(parts)), key=lambda i: (probabilities[i], -i))]]
        extra_vectors.extend(_vectors(chosen))
        extra_labels.extend([label] * len(chosen))
    vectoriser, model = _fit_binary(vectors + extra_vectors, labels + extra_labels,
                                    [1.0] * len(vectors) + [SENTENCE_WEIGHT] * len(extra_vectors))
    word, char = _weights(vectoriser, model.coef_[0], PRUNE)
    return {"bias": round(float(model.intercept_[0]), 6), "word": word, "char": char,
            "_sklearn": (vectoriser, model)}


def fit_kinds(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A multinomial regression over the word features of marketing messages that are not mixed."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    chosen = [r for r in rows if r["label"] == MARKETING and r["kind"] and r["kind"] != "mixed"]
    counts = Counter(r["kind"] for r in chosen)
    chosen = [r for r in chosen if counts[r["kind"]] >= 3]
    if len({r["kind"] for r in chosen}) < 2:
        return {"labels": [], "bias": [], "word": {}}
    vectors = []
    for row in chosen:
        words, _ = mm.message_counts(row["text"])
        vectors.append({k: v for k, v in mm.scaled(words, {}).items()})
    vectoriser = DictVectorizer(sort=True)
    matrix = vectoriser.fit_transform(vectors)
    model = LogisticRegression(C=C_KINDS, max_iter=2000, random_state=SEED)
    model.fit(matrix, [r["kind"] for r in chosen])
    names = vectoriser.get_feature_names_out()
    word: dict[str, list[list[float]]] = {}
    for k, row in enumerate(model.coef_):
        # Each kind keeps its strongest features: enough to name the kind, small enough to carry.
        strongest = sorted(range(len(names)), key=lambda i: (-abs(float(row[i])), i))[:KIND_FEATURES]
        for i in sorted(strongest):
            if abs(float(row[i])) >= PRUNE_KINDS:
                word.setdefault(names[i].split("|", 1)[1], []).append([k, round(float(row[i]), 3)])
    return {"labels": [str(k) for k in model.classes_], "bias": [round(float(b), 4) for b in model.intercept_],
            "word": dict(sorted(word.items()))}


def build(rows: Sequence[dict[str, Any]], thresholds: dict[str, float], info: dict[str, Any] | None = None,
          kinds: bool = True) -> dict[str, Any]:
    """The artefact as a mapping (and, under "_sklearn", the fitted scikit-learn objects)."""
    marketing = fit_marketing(rows)
    sklearn_objects = marketing.pop("_sklearn")
    artefact = {"format": mm.FORMAT, "info": info or {}, "thresholds": thresholds, "marketing": marketing,
                "kinds": fit_kinds(rows) if kinds else {"labels": [], "bias": [], "word": {}}}
    return {**artefact, "_sklearn": sklearn_objects}


# ----------------------------------------------------------------------------------------------
# Cross-validation and thresholds


def folds(rows: Sequence[dict[str, Any]], how: str) -> list[tuple[str, list[int], list[int]]]:
    """(name, train indices, test indices) for k stratified folds or one industry left out at a time."""
    if how == "industry":
        industries = sorted({r["industry"] or "unknown" for r in rows})
        return [(industry, [i for i, r in enumerate(rows) if (r["industry"] or "unknown") != industry],
                 [i for i, r in enumerate(rows) if (r["industry"] or "unknown") == industry])
                for industry in industries]
    from sklearn.model_selection import StratifiedKFold

    k = int(how)
    strata = [f"{r['language']}:{r['label']}" for r in rows]
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=SEED)
    return [(f"fold {n + 1}", list(train), list(test))
            for n, (train, test) in enumerate(splitter.split(list(range(len(rows))), strata))]


def out_of_fold(rows: Sequence[dict[str, Any]], how: str,
                progress: bool = True) -> tuple[list[float], list[float]]:
    """Each row's whole-message probability, and its highest sentence probability (0 for a message of
    one sentence), from a model that did not see it."""
    probabilities = [0.0] * len(rows)
    sentence = [0.0] * len(rows)
    for name, train, test in folds(rows, how):
        started = time.perf_counter()
        artefact = build([rows[i] for i in train], dict(line=0.5, unsure_low=0.5, unsure_high=0.5, near_miss=0.5),
                         kinds=False)
        artefact.pop("_sklearn")
        model = mm.MarketingModel(artefact)
        for i in test:
            probabilities[i] = model.text_probability(rows[i]["text"])
            sentence[i] = model.sentence_max(rows[i]["text"])
        if progress:
            print(f"  {name}: trained on {len(train)}, scored {len(test)} "
                  f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return probabilities, sentence


def tally(labels: Sequence[int], predicted: Sequence[int]) -> dict[str, float | int]:
    tp = sum(1 for y, p in zip(labels, predicted) if y and p)
    fp = sum(1 for y, p in zip(labels, predicted) if not y and p)
    fn = sum(1 for y, p in zip(labels, predicted) if y and not p)
    tn = len(labels) - tp - fp - fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": len(labels), "tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall,
            "f1": f1}


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def combined(whole: Sequence[float], sentence: Sequence[float], shift: float) -> list[float]:
    """The production score: the message's probability, or a sentence's with ``shift`` taken off its
    logit, whichever is higher."""
    return [max(w, mm.sigmoid(_logit(s) - shift) if s else 0.0) for w, s in zip(whole, sentence)]


def choose_thresholds(rows: Sequence[dict[str, Any]], whole: Sequence[float],
                      sentence: Sequence[float]) -> tuple[dict[str, float], list[float]]:
    """The line and sentence bar that maximise the worse of precision and recall (ties: F1, then a
    line closer to 0.5); the unsure band around the line that holds at least 60 % of the out-of-fold
    errors; the near-miss floor below it."""
    labels = [1 if r["label"] == MARKETING else 0 for r in rows]
    best = None
    for step in range(20, 81, 2):
        line = step / 100
        for bar in [*range(max(step, 50), 100, 3), 100]:
            shift = _logit(bar / 100) - _logit(line) if bar < 100 else 50.0
            scores = combined(whole, sentence, shift)
            t = tally(labels, [1 if p >= line else 0 for p in scores])
            key = (round(min(t["precision"], t["recall"]), 3), round(t["f1"], 3), -abs(line - 0.5), -bar)
            if best is None or key > best[0]:
                best = (key, line, round(shift, 3), scores)
    assert best is not None
    _, line, shift, scores = best
    errors = [p for p, y in zip(scores, labels) if (p >= line) != bool(y)]
    low, high = line, line
    for width in range(1, 60):
        low, high = max(0.01, line - width / 100), min(0.99, line + width / 100)
        inside = sum(1 for p in errors if low <= p < high)
        if not errors or inside >= 0.6 * len(errors):
            break
    return ({"line": line, "unsure_low": round(low, 2), "unsure_high": round(high, 2),
             "near_miss": round(max(0.05, low - 0.1), 2), "sentence_shift": shift}, scores)


def report(rows: Sequence[dict[str, Any]], probabilities: Sequence[float], thresholds: dict[str, float],
           title: str) -> None:
    line = thresholds["line"]
    print(f"\n{title} (line {line:.2f}, unsure {thresholds['unsure_low']:.2f}–{thresholds['unsure_high']:.2f})")
    groups: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[row["language"]].append(i)
    print(f"  {'language':<9}{'n':>6}{'precision':>11}{'recall':>9}{'F1':>8}{'fp':>5}{'fn':>5}{'unsure':>8}")
    for name, indices in [("all", list(range(len(rows)))), *sorted(groups.items())]:
        labels = [1 if rows[i]["label"] == MARKETING else 0 for i in indices]
        t = tally(labels, [1 if probabilities[i] >= line else 0 for i in indices])
        unsure = sum(1 for i in indices if thresholds["unsure_low"] <= probabilities[i] < thresholds["unsure_high"])
        print(f"  {name:<9}{t['n']:>6}{t['precision']:>11.3f}{t['recall']:>9.3f}{t['f1']:>8.3f}{t['fp']:>5}"
              f"{t['fn']:>5}{unsure / max(1, len(indices)):>8.1%}")


def data_digest(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def serialise(artefact: dict[str, Any]) -> str:
    clean = {k: v for k, v in artefact.items() if not k.startswith("_")}
    return json.dumps(clean, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="training JSONL files (default: data/policy/train)")
    parser.add_argument("--cv", help="also cross-validate: a number of folds, or 'industry'")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the artefact")
    parser.add_argument("--check", action="store_true", help="compare with the artefact at --out; write nothing")
    args = parser.parse_args(argv)

    paths = args.paths or training_files()
    rows = load(paths)
    labels = Counter(r["label"] for r in rows)
    print(f"{len(rows)} training messages ({labels[MARKETING]} marketing, {labels[SERVICE]} service) from "
          f"{len(paths)} file(s); languages: "
          + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r['language'] for r in rows).items())))

    started = time.perf_counter()
    whole, sentence = out_of_fold(rows, "5")
    thresholds, probabilities = choose_thresholds(rows, whole, sentence)
    report(rows, probabilities, thresholds, "5-fold cross-validation on the training data")
    if args.cv and args.cv != "5":
        other = combined(*out_of_fold(rows, args.cv), thresholds["sentence_shift"])
        report(rows, other, thresholds, f"cross-validation: {args.cv}")
        if args.cv == "industry":
            print(f"\n  per industry left out (line {thresholds['line']:.2f})")
            by_industry: dict[str, list[int]] = defaultdict(list)
            for i, row in enumerate(rows):
                by_industry[row["industry"] or "unknown"].append(i)
            for industry, indices in sorted(by_industry.items()):
                t = tally([1 if rows[i]["label"] == MARKETING else 0 for i in indices],
                          [1 if other[i] >= thresholds["line"] else 0 for i in indices])
                print(f"  {industry:<14} n={t['n']:<4} precision={t['precision']:.3f} recall={t['recall']:.3f}")

    info = {"rows": len(rows), "marketing": labels[MARKETING], "service": labels[SERVICE],
            "languages": dict(sorted(Counter(r["language"] for r in rows).items())),
            "data": data_digest(paths), "seed": SEED, "c": C_MARKETING, "prune": PRUNE,
            "word_prior": mm.WORD_PRIOR, "char_prior": mm.CHAR_PRIOR}
    artefact = build(rows, thresholds, info)
    artefact.pop("_sklearn")
    text = serialise(artefact)
    print(f"\nartefact: {len(artefact['marketing']['word'])} word and {len(artefact['marketing']['char'])} "
          f"character weights, {len(artefact['kinds']['labels'])} kinds, {len(text) / 1e6:.2f} MB "
          f"(trained in {time.perf_counter() - started:.0f} s)")
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print("the shipped artefact matches the training code" if same else
              f"the shipped artefact at {args.out} differs from what the training code produces")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
