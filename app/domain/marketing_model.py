"""The learned marketing model: the text features it reads, and the scorer that runs in the send path.

Why this shape. A phrase list only knows the wording it was written for; on messages written by
other people it missed about one marketing message in four. A linear model over word and character
n-grams learns the wording from labelled examples instead, generalises to paraphrases (character
n-grams see "gratis", "gratuito", "gratuit" and "free-trial" as relatives), explains itself (each word's
weight is its share of the verdict), and scores in microseconds without any library at run time.

* **Text.** Each token is folded (case, accents, curly quotes), digits become ``0`` (an order number
  and a price differ in shape, not in value), links and e-mail addresses become one token each, and
  ``%``, currency signs, ``!`` and ``?`` are tokens of their own. A token written in capitals with
  letters and digits ("SAVE10") adds a ``<code>`` feature, capitals alone ("FREE") a ``<caps>`` one.
* **Features.** Word unigrams and bigrams within a sentence, and character 3- to 5-grams inside each
  word (padded with a space either side). Each block is scaled by one over the square root of its
  feature count (plus a small prior), so a long message is not more marketing for being long and a
  two-word one does not rest on a single word. Because both blocks are sums
  over sentences (bigrams never cross a sentence, n-grams never cross a word), the whole message's
  score is computed from its sentences' sums at no extra cost.
* **Sentences.** The message and each of its sentences are scored; the verdict takes the highest, so a
  real service sentence followed by a promotional one is caught by the promotional sentence. A
  "sentence" of fewer than three words ("Hi Ana!", "Thanks!") is joined to its neighbour.
* **Kinds.** A second linear model over the same word features names the kind of marketing
  (win-back, upsell, promotion…) for the explanation; it never changes the verdict.

The weights are trained with scikit-learn by ``scripts/policy_train.py`` (a training-only
dependency) and shipped as ``marketing_model.json`` beside this module: the scorer here is pure
Python, reads that file once, and needs a few megabytes. The features are computed by this module
for training too, so the shipped scorer and the trained model agree by construction, up to the
weights pruned and rounded when the artefact is written.

Pure Python and deterministic: reading the shipped artefact (package data, read-only) is its only
contact with the outside, and it happens once per process.
"""

from __future__ import annotations

import base64
import json
import math
import re
import sys
import unicodedata
import zlib
from array import array
from bisect import bisect_left
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping, Sequence

ARTEFACT = "marketing_model.json"
FORMAT = "herald-marketing-model/2"
FORMATS = ("herald-marketing-model/1", FORMAT)  # /1 kept its weights as {feature: weight}; /2 packs them
CHAR_SIZES = (3, 4, 5)
MIN_SENTENCE_WORDS = 3
# Each block is divided by sqrt(count + prior): a text of two words carries less evidence than one of
# twenty, so its score stays nearer the model's bias instead of resting on one word ("Hi!", "One.").
WORD_PRIOR = 2
CHAR_PRIOR = 8

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
                         "`": "'", "\u2010": "-", "\u2011": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-"})
_CURRENCY = set("$€£¥₹₽¢")
# Links (with or without a scheme), e-mail addresses, words (letters and digits, inner apostrophes
# and hyphens kept out), and the few symbols that carry meaning.
_TOKEN = re.compile(
    r"(?P<url>(?:https?://|www\.)\S+|[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|ly|co|me|app|info|biz|shop|store|"
    r"es|pt|fr|de|it|br|be|ch|at|uk|mx|ar|eu|us|ca)(?:/\S*)?(?=$|[\s),.!?;:]))"
    r"|(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?P<word>[^\W_]+(?:'[^\W_]+)?)"
    r"|(?P<sym>[%$€£¥₹₽¢!?+])",
    re.IGNORECASE)
# Sentence ends: . ! ? … (one or more, closing quotes or brackets allowed) before a space, or a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]»”]*\s+|\s*\n+\s*")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Token:
    """One token: its folded form, and where it stands in the original text (to quote it as written)."""

    norm: str
    start: int
    end: int
    word: bool  # a word (char n-grams are taken from words only)


@dataclass(frozen=True)
class Sentence:
    """A stretch of the message judged on its own, with its tokens."""

    start: int
    end: int
    tokens: tuple[Token, ...]


# ----------------------------------------------------------------------------------------------
# Text → tokens → sentences


@lru_cache(maxsize=16384)
def fold(word: str) -> str:
    """A word in the one form the model reads: lower case, no accents, straight quotes, digits as 0."""
    word = word.translate(_QUOTES).casefold()
    if not word.isascii():
        word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    return _DIGIT.sub("0", word)


def tokens(text: str, offset: int = 0) -> list[Token]:
    """The tokens of ``text``; positions are shifted by ``offset``."""
    out: list[Token] = []
    for match in _TOKEN.finditer(text.translate(_QUOTES)):
        kind = match.lastgroup
        start, end = match.span()
        raw = text[start:end]
        if kind == "url":
            out.append(Token("<url>", start + offset, end + offset, False))
        elif kind == "email":
            out.append(Token("<email>", start + offset, end + offset, False))
        elif kind == "sym":
            out.append(Token("¤" if raw in _CURRENCY else raw, start + offset, end + offset, False))
        else:
            out.append(Token(fold(raw), start + offset, end + offset, True))
            if len(raw) >= 3 and raw.isupper():
                marker = "<code>" if any(c.isdigit() for c in raw) else "<caps>"
                out.append(Token(marker, start + offset, end + offset, False))
            elif len(raw) >= 4 and any(c.isdigit() for c in raw) and any(c.isalpha() for c in raw):
                out.append(Token("<alnum>", start + offset, end + offset, False))
    return out


def sentences(text: str) -> list[Sentence]:
    """The message cut into sentences; a piece of fewer than three words joins its neighbour."""
    pieces: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > start:
            pieces.append((start, match.start()))
        start = match.end()
    if start < len(text):
        pieces.append((start, len(text)))
    out: list[list[Any]] = []
    for begin, end in pieces:
        toks = tokens(text[begin:end], begin)
        if not toks:
            continue
        words = sum(1 for t in toks if t.word)
        if out and (words < MIN_SENTENCE_WORDS or out[-1][3] < MIN_SENTENCE_WORDS):
            out[-1][1] = end
            out[-1][2].extend(toks)
            out[-1][3] += words
        else:
            out.append([begin, end, list(toks), words])
    return [Sentence(begin, end, tuple(toks)) for begin, end, toks, _ in out]


def word_features(toks: Sequence[Token]) -> list[str]:
    """Unigrams and bigrams of the sentence's tokens, with repeats."""
    norms = [t.norm for t in toks]
    return norms + [f"{a} {b}" for a, b in zip(norms, norms[1:])]


@lru_cache(maxsize=4096)
def char_features(norm: str) -> tuple[str, ...]:
    """The character 3- to 5-grams of one word, padded with a space each side, with repeats."""
    padded = f" {norm} "
    return tuple(padded[i:i + n] for n in CHAR_SIZES for i in range(len(padded) - n + 1))


def feature_counts(toks: Sequence[Token]) -> tuple[dict[str, int], dict[str, int]]:
    """Word and character feature counts of a run of tokens (for training and for explanations)."""
    words: dict[str, int] = {}
    for feature in word_features(toks):
        words[feature] = words.get(feature, 0) + 1
    chars: dict[str, int] = {}
    for token in toks:
        if token.word:
            for feature in char_features(token.norm):
                chars[feature] = chars.get(feature, 0) + 1
    return words, chars


def message_counts(text: str) -> tuple[dict[str, int], dict[str, int]]:
    """A message's word and character feature counts: the sum of its sentences' (no bigram crosses one)."""
    words: dict[str, int] = {}
    chars: dict[str, int] = {}
    for sentence in sentences(text):
        w, c = feature_counts(sentence.tokens)
        for feature, count in w.items():
            words[feature] = words.get(feature, 0) + count
        for feature, count in c.items():
            chars[feature] = chars.get(feature, 0) + count
    return words, chars


def feature_vector(text: str) -> dict[str, float]:
    """The model's input for one text as a sparse vector ("w|…" words, "c|…" characters), scaled as the
    scorer scales it: the training code feeds exactly this to scikit-learn."""
    return scaled(*message_counts(text))


def scaled(words: Mapping[str, int], chars: Mapping[str, int]) -> dict[str, float]:
    vector: dict[str, float] = {}
    n_words, n_chars = sum(words.values()), sum(chars.values())
    for feature, count in words.items():
        vector["w|" + feature] = count / math.sqrt(n_words + WORD_PRIOR)
    for feature, count in chars.items():
        vector["c|" + feature] = count / math.sqrt(n_chars + CHAR_PRIOR)
    return vector


def sentence_texts(text: str) -> list[str]:
    """The sentences of a text, as text (for training on sentences)."""
    return [text[s.start:s.end] for s in sentences(text)]


# ----------------------------------------------------------------------------------------------
# The scorer


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@dataclass(frozen=True)
class Scored:
    """One sentence's (or the message's) score: the sums it is made of, and the probability."""

    start: int
    end: int
    word_sum: float
    word_n: int
    char_sum: float
    char_n: int
    tokens: tuple[Token, ...]
    probability: float


@dataclass(frozen=True)
class Thresholds:
    """``line``: the probability from which a text reads as marketing; ``unsure_low``–``unsure_high``:
    the band where the model is not sure (an agent answers the two questions); ``near_miss``: from
    here a service verdict names the sentence that came closest."""

    line: float
    unsure_low: float
    unsure_high: float
    near_miss: float
    sentence_shift: float = 0.0  # logit taken off a sentence's score when the message has several


class Weights:
    """Feature → weight, kept as two flat arrays (a 32-bit checksum of the feature, sorted; its weight)
    rather than a dict of strings: about 8 bytes a feature instead of ~150, so the ~130,000 weights
    cost a web worker one or two megabytes. Two features sharing a checksum (about one pair in the
    whole model) share the first one's weight."""

    __slots__ = ("_keys", "_values")

    def __init__(self, weights: Mapping[str, Any]) -> None:
        if isinstance(weights.get("keys"), str) and isinstance(weights.get("weights"), str):  # packed (/2)
            self._keys = array("I")
            self._keys.frombytes(base64.b64decode(weights["keys"]))
            self._values = array("f")
            self._values.frombytes(base64.b64decode(weights["weights"]))
            if sys.byteorder != "little":  # packed little-endian
                self._keys.byteswap()
                self._values.byteswap()
            if len(self._keys) != len(self._values):
                raise ValueError("packed weights: keys and weights differ in length")
            return
        pairs: dict[int, float] = {}
        for feature, weight in weights.items():
            pairs.setdefault(feature_key(feature), float(weight))
        ordered = sorted(pairs)
        self._keys = array("I", ordered)
        self._values = array("f", (pairs[k] for k in ordered))

    def packed(self) -> dict[str, str]:
        """The artefact's form of these weights: base64 of the little-endian key and weight arrays.
        Read back with a copy of two buffers, so loading leaves no scattered small objects behind."""
        keys, values = array("I", self._keys), array("f", self._values)
        if sys.byteorder != "little":
            keys.byteswap()
            values.byteswap()
        return {"keys": base64.b64encode(keys.tobytes()).decode("ascii"),
                "weights": base64.b64encode(values.tobytes()).decode("ascii")}

    def get(self, feature: str, default: float = 0.0) -> float:
        key = feature_key(feature)
        i = bisect_left(self._keys, key)
        if i < len(self._keys) and self._keys[i] == key:
            return self._values[i]
        return default

    def __len__(self) -> int:
        return len(self._keys)


def feature_key(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8"))


class MarketingModel:
    """Weights for "reads as marketing" and for its kind, and the code that applies them."""

    def __init__(self, artefact: Mapping[str, Any]) -> None:
        if artefact.get("format") not in FORMATS:
            raise ValueError(f"not a {FORMAT} artefact")
        marketing = artefact["marketing"]
        self.bias: float = float(marketing["bias"])
        self.word = Weights(marketing["word"])
        self.char = Weights(marketing["char"])
        t = artefact["thresholds"]
        self.thresholds = Thresholds(float(t["line"]), float(t["unsure_low"]), float(t["unsure_high"]),
                                     float(t["near_miss"]), float(t.get("sentence_shift", 0.0)))
        kinds = artefact["kinds"]
        self.kinds: tuple[str, ...] = tuple(kinds["labels"])
        self.kind_bias: tuple[float, ...] = tuple(float(b) for b in kinds["bias"])
        # feature → ((kind index, weight), …): each kind keeps only its strongest features
        self.kind_word: dict[int, tuple[tuple[int, float], ...]] = {
            feature_key(feature): tuple((int(k), float(w)) for k, w in pairs)
            for feature, pairs in kinds["word"].items()}
        self.info: dict[str, Any] = dict(artefact.get("info", {}))
        self._char_cache: dict[str, tuple[float, int]] = {}

    # -- scoring ---------------------------------------------------------------------------------

    def _char_sum(self, norm: str) -> tuple[float, int]:
        cached = self._char_cache.get(norm)
        if cached is None:
            grams = char_features(norm)
            weights = self.char
            cached = (sum(weights.get(g, 0.0) for g in grams), len(grams))
            if len(self._char_cache) > 50_000:  # a bounded cache: a worker stays small
                self._char_cache.clear()
            self._char_cache[norm] = cached
        return cached

    def _score(self, start: int, end: int, toks: tuple[Token, ...]) -> Scored:
        weights = self.word
        word_sum = 0.0
        previous = None
        n_words = 0
        char_sum = 0.0
        n_chars = 0
        for token in toks:
            norm = token.norm
            word_sum += weights.get(norm, 0.0)
            n_words += 1
            if previous is not None:
                word_sum += weights.get(previous + " " + norm, 0.0)
                n_words += 1
            previous = norm
            if token.word:
                s, n = self._char_sum(norm)
                char_sum += s
                n_chars += n
        return Scored(start, end, word_sum, n_words, char_sum, n_chars, toks,
                      self._probability(word_sum, n_words, char_sum, n_chars))

    def _probability(self, word_sum: float, n_words: int, char_sum: float, n_chars: int,
                     shift: float = 0.0) -> float:
        logit = self.bias - shift + word_sum / math.sqrt(n_words + WORD_PRIOR) \
            + char_sum / math.sqrt(n_chars + CHAR_PRIOR)
        return sigmoid(logit)

    def score_sentences(self, text: str) -> tuple[Scored, list[Scored]]:
        """The whole message's score and each sentence's.

        A sentence of a message that has several is a shorter, noisier read than the message, so its
        score must clear a higher bar: ``sentence_shift`` (chosen by cross-validation) is taken off its
        logit, which puts both on one scale against one line.
        """
        parts = [self._score(s.start, s.end, s.tokens) for s in sentences(text)]
        if not parts:
            return Scored(0, 0, 0.0, 0, 0.0, 0, (), self._probability(0.0, 0, 0.0, 0)), []
        if len(parts) == 1:
            return parts[0], parts
        shift = self.thresholds.sentence_shift
        if shift:
            parts = [replace(p, probability=self._probability(p.word_sum, p.word_n, p.char_sum, p.char_n, shift))
                     for p in parts]
        word_sum = sum(p.word_sum for p in parts)
        word_n = sum(p.word_n for p in parts)
        char_sum = sum(p.char_sum for p in parts)
        char_n = sum(p.char_n for p in parts)
        whole = Scored(parts[0].start, parts[-1].end, word_sum, word_n, char_sum, char_n,
                       tuple(t for p in parts for t in p.tokens),
                       self._probability(word_sum, word_n, char_sum, char_n))
        return whole, parts

    def probability(self, text: str) -> float:
        """The highest of the message's and its sentences' probabilities of reading as marketing."""
        whole, parts = self.score_sentences(text)
        return max([whole.probability, *(p.probability for p in parts)])

    def text_probability(self, text: str) -> float:
        """The probability for ``text`` read as one piece (what scikit-learn's model computes)."""
        return self.score_sentences(text)[0].probability

    def sentence_max(self, text: str) -> float:
        """The highest unshifted sentence probability of a message of several sentences (0 for one)."""
        parts = [self._score(s.start, s.end, s.tokens) for s in sentences(text)]
        return max((p.probability for p in parts), default=0.0) if len(parts) > 1 else 0.0

    # -- explaining ------------------------------------------------------------------------------

    def weighed_most(self, scored: Scored, text: str, limit: int = 4) -> list[tuple[str, float]]:
        """The words of a scored sentence that pushed it most toward marketing, quoted as written.

        A word's share is its own weight, half of each bigram it is in, and its character n-grams'.
        """
        toks = [t for t in scored.tokens]
        if not toks:
            return []
        word_scale = 1 / math.sqrt(scored.word_n + WORD_PRIOR)
        char_scale = 1 / math.sqrt(scored.char_n + CHAR_PRIOR)
        share: dict[tuple[int, int], float] = {}
        for i, token in enumerate(toks):
            key = (token.start, token.end)
            value = self.word.get(token.norm, 0.0) * word_scale
            if token.word:
                value += self._char_sum(token.norm)[0] * char_scale
            if i:
                pair = self.word.get(toks[i - 1].norm + " " + token.norm, 0.0) * word_scale / 2
                value += pair
                previous = (toks[i - 1].start, toks[i - 1].end)
                share[previous] = share.get(previous, 0.0) + pair
            share[key] = share.get(key, 0.0) + value
        ranked = sorted((v, k) for k, v in share.items() if v > 0)
        ranked.sort(key=lambda item: (-item[0], item[1]))
        out: list[tuple[str, float]] = []
        seen: set[str] = set()
        for value, (start, end) in ranked:
            quoted = text[start:end]
            if quoted.lower() in seen or not any(c.isalnum() for c in quoted):
                continue
            seen.add(quoted.lower())
            out.append((quoted, value))
            if len(out) == limit:
                break
        return out

    def kind(self, scored: Scored) -> tuple[str, float]:
        """The most likely kind of marketing for a scored sentence, and its probability."""
        if not self.kinds:
            return "promotion", 0.0
        words, _ = feature_counts(scored.tokens)
        n = sum(words.values())
        logits = list(self.kind_bias)
        if n:
            scale = 1 / math.sqrt(n + WORD_PRIOR)
            for feature, count in words.items():
                for k, w in self.kind_word.get(feature_key(feature), ()):
                    logits[k] += w * count * scale
        top = max(logits)
        exps = [math.exp(v - top) for v in logits]
        best = max(range(len(logits)), key=lambda k: (logits[k], -k))
        return self.kinds[best], exps[best] / sum(exps)


@lru_cache(maxsize=1)
def default_model() -> MarketingModel:
    """The model shipped with Herald, read once per process."""
    raw = resources.files(__package__).joinpath(ARTEFACT).read_text(encoding="utf-8")
    return MarketingModel(json.loads(raw))

