"""Trains the safety model (`bot.safety_model`) from labelled sentences, and measures it on
sentences it did not learn from.

scikit-learn does the fitting (logistic regression over binary tf-idf features); it is
needed here only, never at run time (`pip install -e '.[train]'`, part of the dev extra).
Training is deterministic: the same sentences give the same file, so the shipped model can
be checked against the shipped sentences.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.errors import CoachError
from bot.safety_eval import Example, load_corpus
from bot.safety_model import (
    FORMAT,
    AlertModel,
    CategoryModel,
    SafetyModelFile,
    TrainedOn,
    digest,
    message_features,
)
from bot.schema import SafetyConfig

#: Regularisation: found by leaving each corpus file out in turn (README, "Safety").
STRENGTH = 4.0
#: A feature must appear in this many sentences to be learned (one-off words are noise).
MIN_SENTENCES = 2
DIGITS = 4


class TrainingUnavailable(CoachError):
    """scikit-learn is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "training the safety model needs scikit-learn: .venv/bin/pip install -e '.[train]'"
        )


def _sklearn() -> Any:
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise TrainingUnavailable() from None
    return TfidfVectorizer, LogisticRegression


def featurise(config: SafetyConfig, texts: Sequence[str]) -> list[list[str]]:
    """Each text's features, read exactly as the screen reads a message."""
    from bot.safety import SafetyDetector

    reader = SafetyDetector(config, model=None).reader
    out = []
    for text in texts:
        chunks, _ = reader.read(text)
        out.append(message_features(reader.sentences(chunks)))
    return out


def _round(x: float) -> float:
    return float(f"{x:.{DIGITS}g}")


def train(config: SafetyConfig, examples: Sequence[Example]) -> tuple[AlertModel, CategoryModel]:
    """The two models, from labelled examples (labels: category ids or `none`)."""
    vectorizer_type, regression = _sklearn()
    levels = {c.id: c.level for c in config.categories}
    unknown = sorted({e.expect for e in examples} - set(levels) - {"none"})
    if unknown:
        raise CoachError(f"labels not in safety.yaml: {', '.join(unknown)}")
    docs = featurise(config, [e.text for e in examples])
    alerts = [levels.get(e.expect) in ("danger", "concern") for e in examples]
    if all(alerts) or not any(alerts):
        raise CoachError("training needs sentences that should raise an alert and ones that not")

    vectorizer = vectorizer_type(analyzer=lambda doc: doc, binary=True, min_df=MIN_SENTENCES)
    matrix = vectorizer.fit_transform(docs)
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    idf = vectorizer.idf_
    gate = regression(C=STRENGTH, class_weight="balanced", max_iter=5000).fit(matrix, alerts)
    coef = gate.coef_[0]
    alert = AlertModel(
        bias=_round(gate.intercept_[0]),
        features={
            f: (_round(idf[i] * coef[i]), _round(idf[i] * idf[i]))
            for f, i in sorted(vocabulary.items())
        },
    )

    rows = [i for i, a in enumerate(alerts) if a]
    labels = [examples[i].expect for i in rows]
    which = regression(C=STRENGTH, class_weight="balanced", max_iter=5000).fit(matrix[rows], labels)
    names = [str(c) for c in which.classes_]
    weights = which.coef_ if len(names) > 2 else None
    if weights is None:  # two labels: scikit-learn gives one row, for the second
        row = which.coef_[0]
        table = {f: [_round(-row[i]), _round(row[i])] for f, i in vocabulary.items()}
        bias = [_round(-which.intercept_[0]), _round(which.intercept_[0])]
    else:
        table = {
            f: [_round(weights[k][i]) for k in range(len(names))]
            for f, i in sorted(vocabulary.items())
            if any(abs(weights[k][i]) >= 1e-4 for k in range(len(names)))
        }
        bias = [_round(b) for b in which.intercept_]
    return alert, CategoryModel(labels=names, bias=bias, weights=table)


def train_files(config: SafetyConfig, paths: Sequence[Path], root: Path) -> SafetyModelFile:
    """A model file from labelled corpus files (named relative to `root` in the file)."""
    examples: list[Example] = []
    trained_on = []
    for path in sorted(paths):
        found = load_corpus(path)
        examples.extend(found)
        name = path.resolve().relative_to(root.resolve()).as_posix()
        trained_on.append(TrainedOn(file=name, sentences=len(found), sha256=digest(path)))
    alert, categories = train(config, examples)
    return SafetyModelFile(format=FORMAT, trained_on=trained_on, alert=alert, categories=categories)


def write_model(model: SafetyModelFile, path: Path) -> None:
    """JSON with one feature per line: a retrained model's diff shows which words moved."""

    def table(rows: dict[str, Any]) -> str:
        lines = (f"  {json.dumps(k, ensure_ascii=False)}: {json.dumps(v)}" for k, v in rows.items())
        return "{\n" + ",\n".join(lines) + "\n}"

    data = model.model_dump(mode="json")
    parts = [
        f'"format": {data["format"]}',
        f'"trained_on": {json.dumps(data["trained_on"], indent=1)}',
        f'"alert": {{"bias": {data["alert"]["bias"]}, "features": '
        f"{table(data['alert']['features'])}}}",
        f'"categories": {{"labels": {json.dumps(data["categories"]["labels"])}, '
        f'"bias": {json.dumps(data["categories"]["bias"])}, "weights": '
        f"{table(data['categories']['weights'])}}}",
    ]
    path.write_text("{\n" + ",\n".join(parts) + "\n}\n", encoding="utf-8")
