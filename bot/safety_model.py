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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.errors import DialogueError

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


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrainedOn(_Strict):
    """One labelled file the model learned from, and its digest: a test checks that the
    shipped model was trained on the shipped sentences."""

    file: str
    sentences: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class AlertModel(_Strict):
    """Whether to raise at all: per feature, [idf × weight, idf²] (see `LinearScreen`)."""

    bias: float
    features: dict[str, tuple[float, float]]


class CategoryModel(_Strict):
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


class SafetyModelFile(_Strict):
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
    """Scores messages with a trained `SafetyModelFile`."""

    def __init__(self, model: SafetyModelFile) -> None:
        self.model = model
        self._alert = model.alert.features
        self._bias = model.alert.bias
        self._labels = model.categories.labels
        self._label_bias = model.categories.bias
        self._label_weights = model.categories.weights

    def probability(self, sentences: Sequence[Sequence[str]]) -> tuple[float, list[str]]:
        """The highest alert probability of the whole message and of each sentence, and the
        features of the part that scored it.

        Each feature is looked up once: a sentence's score sums its own; the whole
        message's sums every distinct known feature (as in training, where a feature is
        present or not)."""
        get = self._alert.get
        bias = self._bias
        known: dict[str, tuple[float, float]] = {}
        best = -math.inf
        best_part: list[str] | None = None
        for sentence in sentences:
            if len(sentence) < (MIN_WORDS if len(sentences) == 1 else MIN_SENTENCE_WORDS):
                continue
            found = features(sentence)
            weighted = squares = 0.0
            for feature in set(found):
                pair = get(feature)
                if pair is not None:
                    known[feature] = pair
                    weighted += pair[0]
                    squares += pair[1]
            score = bias + weighted / math.sqrt(squares) if squares else bias
            if score > best:
                best, best_part = score, found
        if len(sentences) != 1 and sum(map(len, sentences)) >= MIN_WORDS:
            for sentence in sentences:  # the short ones' features, not looked up above
                if len(sentence) < MIN_SENTENCE_WORDS:
                    for feature in features(sentence):
                        pair = get(feature)
                        if pair is not None:
                            known[feature] = pair
            squares = sum(p[1] for p in known.values())
            whole = (
                bias + sum(p[0] for p in known.values()) / math.sqrt(squares) if squares else bias
            )
            if whole > best or best_part is None:
                best, best_part = whole, message_features(sentences)
        if best_part is None:
            return 0.0, []
        return _sigmoid(best), best_part

    def verdict(self, sentences: Sequence[Sequence[str]]) -> ModelVerdict:
        probability, found = self.probability(sentences)
        return ModelVerdict(probability, self.category(found), self.words(found))

    def category(self, found: Iterable[str], among: frozenset[str] | None = None) -> str:
        """The most likely category of an alert, from the features that raised it (of the
        labels `among`, when given)."""
        unique = set(found)
        squares = sum(self._alert[f][1] for f in unique if f in self._alert) or 1.0
        norm = math.sqrt(squares)
        scores = list(self._label_bias)
        for feature in unique:
            row = self._label_weights.get(feature)
            pair = self._alert.get(feature)
            if row is None or pair is None:
                continue
            x = math.sqrt(pair[1]) / norm
            for i, w in enumerate(row):
                scores[i] += w * x
        allowed = [i for i, label in enumerate(self._labels) if among is None or label in among]
        if not allowed:
            return ""
        return self._labels[max(allowed, key=scores.__getitem__)]

    def words(self, found: Iterable[str], top: int = 6) -> tuple[tuple[str, float], ...]:
        """The features that pushed hardest towards an alert, with their pull."""
        unique = {f for f in found if f in self._alert}
        squares = sum(self._alert[f][1] for f in unique) or 1.0
        norm = math.sqrt(squares)
        pulls = sorted(((f, self._alert[f][0] / norm) for f in unique), key=lambda p: -p[1])
        return tuple(p for p in pulls[:top] if p[1] > 0)
