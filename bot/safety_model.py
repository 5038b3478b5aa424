"""A second listener beside the rules: a linear model over word stems, trained on the
labelled sentences in tests/safety/ (`coach dialogues safety-train`).

Why: the rules in safety.yaml hear what they were written for, and on sentences written
apart from them (by people who never saw them) they caught four danger sentences in five.
People say "I bought a rope on Saturday and it's in the boot" or "gave the dog to my
neighbour and cancelled my direct debits" in more ways than patterns can list. A linear
model learns from every labelled sentence which words and pairs of words lean towards
danger or distress, and on the same unseen sentences it hears most of what the rules miss
(the figures: `coach dialogues safety-eval --cross`, and the README).

How it is kept explainable and cheap:
- Two linear models over the same features (each stem, and each pair of stems side by side
  within a sentence): `alert` says whether a message should raise danger or concern at all;
  `categories` says which category, and runs only when `alert` does. Every feature's
  weight is in the JSON file; `coach dialogues safety-explain "…"` lists the words that
  raised a message, with their weights.
- A message is scored whole and sentence by sentence, and the highest score counts: one
  clause of distress inside a long message about a budget is not diluted by the rest.
- Scoring is a dictionary look-up per feature and a sum: no libraries at run time.
  scikit-learn is needed only to train (the `train` extra).
- Rules still decide first. The model can only add an alert (or raise a concern to danger)
  when its probability is at least `model.alert_at` in safety.yaml; it never removes one.
"""

from __future__ import annotations

import hashlib
import json
import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from pydantic import Field, ValidationError, model_validator

from bot.errors import DialogueError
from bot.schema import Strict

FORMAT = 1
#: Pairs are written stem + this + stem: no stem contains it.
PAIR = "_"
#: The fewest words the model judges: in two or three words ("start diagnose", "yes")
#: one word's weight is the whole score, and the rules alone listen to answers that short.
MIN_WORDS = 5
#: The fewest words of one sentence of several that the model judges alone: "Honestly I
#: don't even know." before an ordinary answer is no clause of distress; shorter sentences
#: count in the whole message's score.
MIN_SENTENCE_WORDS = 8


class TrainedOn(Strict):
    """One labelled file the model learned from, and its digest: a test checks that the
    shipped model was trained on the shipped sentences."""

    file: str
    sentences: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class AlertModel(Strict):
    """Whether to raise at all: per feature, [idf × weight, idf²] (see `LinearScreen`)."""

    bias: float
    features: dict[str, tuple[float, float]]


class CategoryModel(Strict):
    """Which category: one weight per label for each feature, and a bias per label."""

    labels: list[str] = Field(min_length=1)
    bias: list[float]
    weights: dict[str, list[float]]

    @model_validator(mode="after")
    def _lengths(self) -> CategoryModel:
        width = len(self.labels)
        if len(self.bias) != width:
            raise ValueError(f"categories.bias: expected {width} numbers, one per label")
        for feature, row in self.weights.items():
            if len(row) != width:
                raise ValueError(f"categories.weights.{feature}: expected {width} numbers")
        return self


class SafetyModelFile(Strict):
    """The JSON file `coach dialogues safety-train` writes next to safety.yaml."""

    format: int = Field(description=f"{FORMAT}")
    trained_on: list[TrainedOn]
    alert: AlertModel
    categories: CategoryModel


def load_model(path: Path) -> SafetyModelFile:
    """The model file, validated; DialogueError naming the file if it cannot be used.

    The model is part of the screen, so a missing or broken file stops the coach from
    starting, as a broken safety.yaml does."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DialogueError(
            str(path),
            [
                f"{path}: missing; safety.yaml names it under `model:` (train it with "
                "`coach dialogues safety-train`, or remove `model:`)"
            ],
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogueError(
            str(path), [f"{path}: cannot be read ({exc.__class__.__name__})"]
        ) from None
    except json.JSONDecodeError as exc:
        raise DialogueError(
            str(path), [f"{path}:{exc.lineno}:{exc.colno}: error: not JSON: {exc.msg}"]
        ) from None
    if isinstance(data, dict) and data.get("format") != FORMAT:
        raise DialogueError(
            str(path),
            [
                f"{path}: error: format {data.get('format')!r} is not known (expected {FORMAT}): "
                "train it again with `coach dialogues safety-train`"
            ],
        )
    try:
        return SafetyModelFile.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{path}: error: {'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}"
            for e in exc.errors()[:20]
        ]
        raise DialogueError(str(path), lines) from None


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- features --------------------------------------------------------------------------


#: Words too common to mean anything alone: learned only in pairs ("i am", "my arm").
#: Alone they taught the model a style (first person, "and", "my") rather than a meaning,
#: and every ordinary answer is in the first person.
_FUNCTION_WORDS = """
    a an the and or but to of in on at for with i me my we our you your it is am are was were
    be been have has had do did that this so just if they them their he she his her as by from
    about
"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())


def features(sentence: Sequence[str]) -> list[str]:
    """Each stem (bar function words), and each pair of stems side by side."""
    found = [w for w in sentence if w not in FUNCTION_WORDS]
    found.extend(a + PAIR + b for a, b in pairwise(sentence))
    return found


def message_features(sentences: Iterable[Sequence[str]]) -> list[str]:
    found: list[str] = []
    for sentence in sentences:
        found.extend(features(sentence))
    return found


# -- scoring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelVerdict:
    """What the model made of a message: how likely an alert, the category it leans to,
    and the words that weighed most (for admins' eyes only; never logged)."""

    probability: float
    category: str
    words: tuple[tuple[str, float], ...]

    def describe(self) -> str:
        shown = ", ".join(f"{w.replace(PAIR, ' ')} {v:+.2f}" for w, v in self.words)
        return f"model {self.probability:.2f}: {shown}"


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


class LinearScreen:
    """Scores messages with a trained `SafetyModelFile`.

    Built once when safety.yaml is loaded, and kept compact: every message is screened, so
    a stem's weights are one dictionary look-up and a pair of stems is looked up by the
    pair itself (no string built per pair); the category table, used only when the model
    speaks, is one flat array rather than thousands of small lists."""

    def __init__(self, model: SafetyModelFile) -> None:
        self._unigrams: dict[str, tuple[float, float]] = {}
        self._pairs: dict[tuple[str, str], tuple[float, float]] = {}
        for feature, weights in model.alert.features.items():
            first, sep, second = feature.partition(PAIR)
            if sep and first and second and PAIR not in second:
                self._pairs[(first, second)] = weights
            else:
                self._unigrams[feature] = weights
        self._bias = model.alert.bias
        self._labels = list(model.categories.labels)
        self._label_bias = list(model.categories.bias)
        width = len(self._labels)
        self._rows: dict[str, int] = {}
        self._table = array("d")
        for feature, row in model.categories.weights.items():
            self._rows[feature] = len(self._rows) * width
            self._table.extend(row)

    def _weights(self, feature: str) -> tuple[float, float] | None:
        first, sep, second = feature.partition(PAIR)
        if sep and first and second and PAIR not in second:
            return self._pairs.get((first, second))
        return self._unigrams.get(feature)

    def _sums(
        self, sentence: Sequence[str], known: dict[object, tuple[float, float]]
    ) -> tuple[float, float]:
        """The sentence's weighted sum and sum of squares over its distinct known
        features, each also noted in `known` (for the whole message's score)."""
        unigrams = self._unigrams.get
        pairs = self._pairs.get
        weighted = squares = 0.0
        seen: set[object] = set()
        for stem_ in sentence:
            if stem_ in seen or stem_ in FUNCTION_WORDS:
                continue
            seen.add(stem_)
            weights = unigrams(stem_)
            if weights is not None:
                known[stem_] = weights
                weighted += weights[0]
                squares += weights[1]
        for key in pairwise(sentence):
            if key in seen:
                continue
            seen.add(key)
            weights = pairs(key)
            if weights is not None:
                known[key] = weights
                weighted += weights[0]
                squares += weights[1]
        return weighted, squares

    def probability(
        self, sentences: Sequence[Sequence[str]]
    ) -> tuple[float, Sequence[Sequence[str]]]:
        """The highest alert probability of the whole message and of each sentence, and the
        part that scored it (its sentences; `message_features` gives its features).

        A sentence's score sums its own distinct known features; the whole message's sums
        every distinct known feature (as in training, where a feature is present or not)."""
        bias = self._bias
        known: dict[object, tuple[float, float]] = {}
        best = -math.inf
        best_part: Sequence[str] | None = None
        several = len(sentences) > 1
        shortest = MIN_SENTENCE_WORDS if several else MIN_WORDS
        for sentence in sentences:
            if len(sentence) < shortest and not several:
                continue
            weighted, squares = self._sums(sentence, known)
            if len(sentence) < shortest:
                continue  # its features count in the whole message's score only
            score = bias + weighted / math.sqrt(squares) if squares else bias
            if score > best:
                best, best_part = score, sentence
        if several and sum(map(len, sentences)) >= MIN_WORDS:
            squares = sum(w[1] for w in known.values())
            weighted = sum(w[0] for w in known.values())
            whole = bias + weighted / math.sqrt(squares) if squares else bias
            if whole > best or best_part is None:
                return _sigmoid(whole), sentences
        if best_part is None:
            return 0.0, ()
        return _sigmoid(best), (best_part,)

    def verdict(self, sentences: Sequence[Sequence[str]]) -> ModelVerdict:
        probability, part = self.probability(sentences)
        found = message_features(part)
        return ModelVerdict(probability, self.category(found), self.words(found))

    def category(self, found: Iterable[str], among: frozenset[str] | None = None) -> str:
        """The most likely category of an alert, from the features that raised it (of the
        labels `among`, when given)."""
        known = {f: w for f in set(found) if (w := self._weights(f)) is not None}
        norm = math.sqrt(sum(w[1] for w in known.values()) or 1.0)
        width = len(self._labels)
        scores = list(self._label_bias)
        for feature, weights in known.items():
            at = self._rows.get(feature)
            if at is None:
                continue
            x = math.sqrt(weights[1]) / norm
            for i in range(width):
                scores[i] += self._table[at + i] * x
        allowed = [i for i, label in enumerate(self._labels) if among is None or label in among]
        if not allowed:
            return ""
        return self._labels[max(allowed, key=scores.__getitem__)]

    def words(self, found: Iterable[str], top: int = 6) -> tuple[tuple[str, float], ...]:
        """The features that pushed hardest towards an alert, with their pull."""
        known = {f: w for f in set(found) if (w := self._weights(f)) is not None}
        norm = math.sqrt(sum(w[1] for w in known.values()) or 1.0)
        pulls = sorted(((f, w[0] / norm) for f, w in known.items()), key=lambda p: -p[1])
        return tuple(p for p in pulls[:top] if p[1] > 0)
