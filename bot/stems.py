"""Words compared by their stems, so "meetings" finds a recommendation that lists "meeting".

Snowball's English stemmer (the maintained `snowballstemmer` package, which uses PyStemmer's
C code when it is installed) turns each word into its stem; a phrase of several words is
found when its stems appear together, in order, in something the user wrote.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any

import snowballstemmer

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_local = threading.local()


def _stemmer() -> Any:
    """One stemmer per thread: a stemmer keeps state between calls."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


def stems(text: str) -> tuple[str, ...]:
    """The stems of the words in `text`, in order: "Our meetings" → ('our', 'meet')."""
    words = _WORD.findall(text.lower().replace("’", "'"))
    return tuple(_stemmer().stemWords(words)) if words else ()


class Written:
    """What a user wrote, as stems, ready to be asked whether it holds a phrase.

    Phrases are matched within one piece of writing, never across two answers.
    """

    def __init__(self, texts: Iterable[str], longest: int) -> None:
        self._grams: set[tuple[str, ...]] = set()
        for text in texts:
            words = stems(text)
            for n in range(1, longest + 1):
                self._grams.update(words[i : i + n] for i in range(len(words) - n + 1))

    def has(self, phrase: tuple[str, ...]) -> bool:
        """Whether the stems of a phrase (from `stems`) appear together, in order."""
        return bool(phrase) and phrase in self._grams
