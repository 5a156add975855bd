"""The shipped marketing model: it loads, reads the labelled examples sensibly, and the pure-Python
scorer agrees with the scikit-learn model the training code fits (the features are computed by the
same code; the artefact only prunes and rounds weights)."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import pytest

from app.domain import marketing_model as mm

ROOT = Path(__file__).resolve().parent.parent.parent
LABELLED = ROOT / "tests" / "data" / "proactive_messages.jsonl"
TRAINING = ROOT / "data" / "policy" / "train"


def rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_the_shipped_artefact_loads_and_describes_its_training():
    model = mm.default_model()
    assert model.info["rows"] >= 3000 and model.info["word_prior"] == mm.WORD_PRIOR
    assert model.info["char_prior"] == mm.CHAR_PRIOR
    assert len(model.word) > 1000 and len(model.char) > 1000
    with pytest.raises(ValueError):
        mm.MarketingModel({"format": "something else"})


def test_the_shipped_model_reads_the_labelled_examples_sensibly():
    model = mm.default_model()
    line = model.thresholds.line
    marketing = [r["text"] for r in rows(LABELLED) if r["label"] == "marketing"]
    service = [r["text"] for r in rows(LABELLED) if r["label"] == "service"]
    assert sum(model.probability(t) >= line for t in marketing) / len(marketing) >= 0.95
    assert sum(model.probability(t) < line for t in service) / len(service) >= 0.95
    assert sum(model.probability(t) for t in marketing) / len(marketing) > 0.8
    assert sum(model.probability(t) for t in service) / len(service) < 0.2


def test_sentences_join_short_pieces_and_keep_their_place_in_the_text():
    text = "Hi Ana! Your parcel has shipped today. Use code SAVE10 for 10% off your next order.\nThanks!"
    pieces = [text[s.start:s.end] for s in mm.sentences(text)]
    assert pieces == ["Hi Ana! Your parcel has shipped today.",
                      "Use code SAVE10 for 10% off your next order.\nThanks!"]
    assert [t.norm for t in mm.tokens("SAVE10 at example.com/x, 50 €!")] == [
        "save00", "<code>", "at", "<url>", "00", "¤", "!"]


def test_a_message_score_is_the_sum_of_its_sentences():
    model = mm.default_model()
    text = "Your parcel has shipped today. Use code SAVE10 for 10% off your next order."
    whole, parts = model.score_sentences(text)
    assert len(parts) == 2
    assert whole.word_n == sum(p.word_n for p in parts) and whole.char_n == sum(p.char_n for p in parts)
    assert whole.probability == pytest.approx(model.text_probability(text))
    assert model.probability(text) == max(whole.probability, *(p.probability for p in parts))


@pytest.mark.skipif(importlib.util.find_spec("sklearn") is None, reason="needs the train extra (scikit-learn)")
def test_the_scorer_agrees_with_the_scikit_learn_model_it_was_exported_from():
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import policy_train
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    sample = random.Random(7).sample(policy_train.load(sorted(TRAINING.glob("*.jsonl"))), 400)
    thresholds = {"line": 0.5, "unsure_low": 0.3, "unsure_high": 0.7, "near_miss": 0.2}
    artefact = policy_train.build(sample, thresholds, kinds=False)
    vectoriser, fitted = artefact.pop("_sklearn")
    scorer = mm.MarketingModel(json.loads(policy_train.serialise(artefact)))
    texts = [r["text"] for r in rows(LABELLED)][:150]
    expected = fitted.predict_proba(policy_train._matrix(vectoriser, [mm.feature_vector(t) for t in texts]))[:, 1]
    got = [scorer.text_probability(t) for t in texts]
    differences = [abs(a - b) for a, b in zip(got, expected)]
    assert max(differences) < 0.03, max(differences)
    assert sum(differences) / len(differences) < 0.005
    assert all((a >= 0.5) == (b >= 0.5) for a, b in zip(got, expected) if abs(b - 0.5) > 0.03)
