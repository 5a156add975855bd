"""Does a proactive message read as marketing? A learned check that explains every verdict.

Meta (WhatsApp) and Rakuten (Viber) classify a message by what it says: a service update that also
sells something is marketing. Herald applies the same rule before a send, so an agent learns *why*
a message needs marketing consent instead of finding out from a provider rejection.

The verdict comes from the marketing model (:mod:`.marketing_model`): a linear model over word and
character n-grams, trained on labelled messages in English, Spanish, Portuguese, French, German and
Italian, that scores the whole message and each of its sentences. A message reads as marketing when
its most promotional part reaches the model's line; between the unsure thresholds the model is not
sure, and the policy asks an agent rather than deciding alone. A phrase a workspace lists as
marketing (``marketing_phrases``) marks the text as marketing whatever the model says.

Every verdict says why, in words an agent reads:

* marketing: the sentence that reads as marketing, the kind of marketing (win-back, upsell,
  promotion…) and the words that weighed most — and, for a mixed message, that the rest reads as
  service but this sentence makes it marketing;
* unsure: the sentence the model hesitates on, with the same detail;
* no marketing: that Herald *found no marketing* in it (not that it is certainly service), and the
  sentence that came closest when it came close (a near miss is shown, not hidden).

The message's language is identified too (:mod:`.languages`): text outside the six languages is
still scored, but :attr:`ContentCheck.checked` is false, and the policy does not let it pass as
service unchecked.

Measured by ``scripts/policy_eval.py`` on labelled sets; ``scripts/policy_train.py`` reports its
cross-validation. Pure Python: no I/O beyond reading the shipped model once, nothing of Herald's
outside the domain imported.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Iterable, Mapping, Sequence

from .languages import CHECKED, Language, identify
from .marketing_model import MarketingModel, Scored, default_model

__all__ = [
    "Signal",
    "Reading",
    "ContentCheck",
    "KINDS",
    "LANGUAGES",
    "check_content",
    "find_signals",
    "explain",
    "kind_label",
]

LANGUAGES: tuple[str, ...] = CHECKED

# The marketing kinds the model names, in an agent's words (from the labelled corpus's definitions).
KINDS: Mapping[str, str] = MappingProxyType({
    "win_back": "win-back", "upsell": "upsell", "cross_sell": "cross-sell", "cart": "abandoned cart",
    "promotion": "promotion", "promo_code": "promo code", "trial_offer": "trial offer", "referral": "referral ask",
    "loyalty": "loyalty push", "seasonal": "seasonal campaign", "new_product": "product news",
    "event_invite": "event invitation", "survey_incentive": "survey paid with a reward",
    "urgency_only": "sales pressure", "mixed": "service message carrying marketing",
})


def kind_label(kind: str) -> str:
    """The words for a kind code; an unknown code is shown as it is."""
    return KINDS.get(kind, kind.replace("_", " "))


@dataclass(frozen=True)
class Signal:
    """A phrase the workspace lists as marketing, quoting the message's own words."""

    code: str
    phrase: str
    explanation: str


@dataclass(frozen=True)
class Reading:
    """How the model read one sentence (or the whole message): quoted as written."""

    text: str
    start: int
    end: int
    probability: float
    kind: str
    words: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start": self.start, "end": self.end, "probability": round(self.probability, 3),
                "kind": self.kind, "words": list(self.words)}


@dataclass(frozen=True)
class ContentCheck:
    """The verdict on a message's content, with what led to it.

    ``marketing``: the text reads as marketing (the model's line, or a workspace phrase);
    ``probability``: the highest of the message's and its sentences' probabilities;
    ``unsure``: the probability is in the band where the model is not sure;
    ``flagged``: the sentences that read as marketing (or, when unsure, the one it hesitates on);
    ``near_miss``: on a verdict of no marketing, the sentence that came closest, when it came close;
    ``mixed``: a marketing verdict on a message that also has a sentence reading as service;
    ``signals``: the workspace phrases that matched; ``language``: what the text is written in.
    """

    marketing: bool
    signals: tuple[Signal, ...] = ()
    probability: float = 0.0
    unsure: bool = False
    flagged: tuple[Reading, ...] = ()
    near_miss: Reading | None = None
    mixed: bool = False
    language: Language | None = None

    @property
    def checked(self) -> bool:
        """The text is in a language the model was trained on (or has no words to tell)."""
        return self.language is None or self.language.checked

    @property
    def kind(self) -> str | None:
        """The kind of marketing of the most promotional sentence, when there is one to show."""
        if self.mixed:
            return "mixed"
        if self.flagged:
            return self.flagged[0].kind
        return None

    def reasons(self) -> list[str]:
        """The explanations to show an agent, most telling first."""
        out = [s.explanation for s in dict.fromkeys(self.signals)]
        if self.marketing and not self.unsure:
            if self.mixed and self.flagged:
                out.append("The rest reads as service, but the sentence below reads as marketing, and a service "
                           "message that also sells is marketing.")
            out.extend(_marketing_sentence(r) for r in self.flagged)
        elif self.unsure and self.flagged:
            out.extend(_unsure_sentence(r) for r in self.flagged[:1])
        elif not self.marketing:
            out.append(self.no_marketing())
        return list(dict.fromkeys(out))

    def no_marketing(self) -> str:
        """What a verdict of no marketing says: what was found, not a promise."""
        closest = self.near_miss or (self.flagged[0] if self.unsure and not self.marketing and self.flagged else None)
        if closest is not None:
            return (f"Herald found no marketing in it. Closest to marketing, below Herald's line "
                    f"({_percent(closest.probability)}): {_quote(closest)}{_words(closest)}.")
        return "Herald found no marketing in it."

    def as_dict(self) -> dict[str, Any]:
        return {"marketing": self.marketing, "probability": round(self.probability, 3), "unsure": self.unsure,
                "kind": self.kind, "mixed": self.mixed,
                "language": self.language.code if self.language else None,
                "language_name": self.language.name if self.language else None, "checked": self.checked,
                "sentences": [r.as_dict() for r in self.flagged],
                "near_miss": self.near_miss.as_dict() if self.near_miss else None,
                "workspace_phrases": [s.phrase for s in self.signals]}


def _percent(probability: float) -> str:
    return f"{round(probability * 100)} %"


def _quote(reading: Reading) -> str:
    text = " ".join(reading.text.split())
    if len(text) > 220:
        text = text[:217].rstrip() + "…"
    return f"“{text}”"


def _words(reading: Reading) -> str:
    if not reading.words:
        return ""
    return " — the words that weighed most: " + ", ".join(f"“{w}”" for w in reading.words)


def _marketing_sentence(reading: Reading) -> str:
    return (f"Reads as marketing ({_percent(reading.probability)}, {kind_label(reading.kind)}): "
            f"{_quote(reading)}{_words(reading)}.")


def _unsure_sentence(reading: Reading) -> str:
    return (f"Herald is not sure whether this reads as marketing ({_percent(reading.probability)}, closest to "
            f"{kind_label(reading.kind)}): {_quote(reading)}{_words(reading)}.")


# --------------------------------------------------------------------------------------------
# Workspace phrases: literal text matched on a folded copy (case, accents, quotes and spaces
# ignored) as whole words. Each code's sentence says what the workspace meant by listing it.

_EXPLANATIONS: Mapping[str, str] = MappingProxyType({
    "discount": 'Mentions a discount ("{phrase}"): that is a promotion, not a service update.',
    "promo_code": 'Offers a promo code ("{phrase}"): codes for money off are marketing, '
                  "unlike one-time passcodes.",
    "urgency": 'Pushes the customer to buy quickly ("{phrase}"): sales pressure is marketing.',
    "win_back": 'Tries to win back a customer who has gone quiet ("{phrase}"): '
                "re-engagement is marketing.",
    "cart": 'Chases an unfinished purchase ("{phrase}"): abandoned-cart reminders are marketing.',
    "upsell": 'Sells something beyond what the customer already has ("{phrase}"): '
              "upsell and cross-sell are marketing.",
    "promotion": 'Advertises a sale, deal or offer ("{phrase}"): promotional content is marketing.',
    "new_product": 'Announces a new product or collection ("{phrase}"): product news is marketing.',
    "free_offer": 'Offers something free as an incentive ("{phrase}"): a giveaway to prompt a '
                  "purchase is marketing.",
})
_WORKSPACE_EXPLANATION = 'Uses a phrase this workspace lists as marketing ("{phrase}").'

_CHAR_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
}


def explain(code: str, phrase: str) -> str:
    """The sentence shown for a workspace phrase; codes without their own get a generic one."""
    return _EXPLANATIONS.get(code, _WORKSPACE_EXPLANATION).format(phrase=phrase)


def _fold(text: str) -> tuple[str, list[int]]:
    """Strip accents, straighten quotes and dashes, collapse whitespace; keep an index map back."""
    out: list[str] = []
    index: list[int] = []
    for position, char in enumerate(text):
        char = _CHAR_MAP.get(char, char)
        if char.isspace():
            if out and out[-1] != " ":
                out.append(" ")
                index.append(position)
            continue
        for piece in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(piece):
                continue
            out.append(_CHAR_MAP.get(piece, piece))
            index.append(position)
    return "".join(out), index


def _phrase_pattern(phrase: str) -> re.Pattern[str] | None:
    """A workspace phrase is literal text, matched as whole words; no regex syntax applies."""
    folded, _ = _fold(phrase.strip())
    words = folded.split()
    if not words:
        return None
    body = " ".join(re.escape(word) for word in words).replace("'", "'?")
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def find_signals(text: str, extra_phrases: Mapping[str, Sequence[str]] | None = None) -> tuple[Signal, ...]:
    """Every workspace phrase in the text, in text order, quoted as written."""
    if not extra_phrases or not text:
        return ()
    folded, index = _fold(text)
    spans: list[tuple[int, int, str]] = []
    for code, phrases in extra_phrases.items():
        for phrase in (phrases,) if isinstance(phrases, str) else phrases:
            pattern = _phrase_pattern(phrase)
            if pattern is not None:
                spans.extend((m.start(), m.end(), code) for m in pattern.finditer(folded))
    return tuple(Signal(code=code, phrase=(quoted := text[index[start]: index[end - 1] + 1]),
                        explanation=explain(code, quoted))
                 for start, end, code in sorted(set(spans)))


# --------------------------------------------------------------------------------------------
# The check


def check_content(
    text: str,
    languages: Iterable[str] = ("en",),
    extra_phrases: Mapping[str, Sequence[str]] | None = None,
    model: MarketingModel | None = None,
) -> ContentCheck:
    """Judge whether ``text`` reads as marketing, and say why.

    ``languages``: the languages the message is expected in (the template's, the workspace's) — hints
    for naming the text's language when it has few words; the model itself reads all six.
    ``extra_phrases``: signal code → phrases the workspace lists as marketing (any language), matched
    as whole words, case- and accent-insensitively; a code without its own sentence gets a generic one.
    ``model``: the marketing model; Herald's shipped one by default.
    """
    text = text or ""
    language = identify(text, languages)
    signals = find_signals(text, extra_phrases)
    if not text.strip():
        return ContentCheck(marketing=bool(signals), signals=signals, language=language)
    model = model or default_model()
    limits = model.thresholds
    whole, parts = model.score_sentences(text)
    top = max([*parts, whole], key=lambda s: (s.probability, -(s.end - s.start)))
    probability = top.probability
    marketing = probability >= limits.line or bool(signals)
    unsure = not signals and limits.unsure_low <= probability < limits.unsure_high

    def read(scored: Scored) -> Reading:
        kind, _ = model.kind(scored)
        words = tuple(word for word, _ in model.weighed_most(scored, text))
        return Reading(text[scored.start:scored.end].strip(), scored.start, scored.end, scored.probability, kind,
                       words)

    flagged: tuple[Reading, ...] = ()
    near_miss = None
    mixed = False
    if probability >= limits.line:
        chosen = [p for p in parts if p.probability >= limits.line] or [top]
        flagged = tuple(read(p) for p in chosen)
        mixed = len(parts) > 1 and any(p.probability < limits.unsure_low for p in parts)
    elif unsure:
        flagged = (read(top),)
    elif probability >= limits.near_miss:
        near_miss = read(top)
    return ContentCheck(marketing=marketing, signals=signals, probability=probability, unsure=unsure,
                        flagged=flagged, near_miss=near_miss, mixed=mixed, language=language)
