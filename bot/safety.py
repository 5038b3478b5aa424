"""Spots signals of harm, harassment, threats or legal trouble in what a user writes.

The phrases live in `dialogues/safety.yaml` so admins can tune them. A phrase matches as
whole words (case-insensitive); a trailing `*` matches any ending (`harass*`).

Every message is screened, so screening must be cheap: Python's regex engine tries each of
a category's alternatives at every word of the text. A category's pattern therefore only
runs when the message holds the key word of one of its phrases (its longest whole word,
which a match must contain); the pattern alone decides whether it matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.schema import SafetyCategory, SafetyConfig

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SafetySignal:
    category: SafetyCategory


def _normal(text: str) -> str:
    return text.replace("’", "'").lower()


def _pattern(phrase: str) -> str:
    phrase = _normal(phrase.strip())
    prefix = phrase.endswith("*")
    words = re.escape(phrase.rstrip("*").strip()).replace(r"\ ", r"\s+")
    return words + ("" if prefix else r"(?!\w)")


@dataclass(frozen=True)
class _Screen:
    """One category: its full pattern, and the key words one of its phrases must bring."""

    category: SafetyCategory
    pattern: re.Pattern[str]
    key_words: frozenset[str]
    key_prefixes: tuple[str, ...]  # `harass*`: any word that starts so
    always: bool  # a phrase with no word in it: always run the pattern

    def could_match(self, words: set[str]) -> bool:
        if self.always or not self.key_words.isdisjoint(words):
            return True
        if self.key_prefixes:
            return any(word.startswith(self.key_prefixes) for word in words)
        return False


def _screen(category: SafetyCategory) -> _Screen | None:
    phrases = [_normal(p.strip()) for p in category.phrases if p.strip()]
    if not phrases:
        return None
    joined = "|".join(_pattern(p) for p in phrases)
    key_words: set[str] = set()
    prefixes: set[str] = set()
    always = False
    for phrase in phrases:
        words = _WORD.findall(phrase.rstrip("*"))
        # A trailing `*` leaves the last word open: it is whole only without one.
        whole = words[:-1] if phrase.endswith("*") else words
        if whole:
            key_words.add(max(whole, key=len))
        elif words:
            prefixes.add(words[-1])
        else:
            always = True
    return _Screen(
        category,
        # One word-start check outside the alternation, and text lower-cased once
        # instead of IGNORECASE: many times faster on long messages.
        re.compile(rf"(?<!\w)(?:{joined})"),
        frozenset(key_words),
        tuple(sorted(prefixes)),
        always,
    )


class SafetyDetector:
    """Matches messages against each category's phrases, most serious category first."""

    def __init__(self, config: SafetyConfig | None) -> None:
        self.config = config
        screens = (_screen(c) for c in (config.categories if config else []))
        self._screens = [s for s in screens if s is not None]
        #: Every category's key words together: most messages share none of them, and one
        #: set operation says so.
        self._any_key = frozenset().union(*(s.key_words for s in self._screens))
        self._always_screen = any(s.always or s.key_prefixes for s in self._screens)

    def detect(self, text: str) -> SafetySignal | None:
        """The first category whose phrases appear in `text`, or None."""
        normal = _normal(text)
        words = set(_WORD.findall(normal))
        if not self._always_screen and self._any_key.isdisjoint(words):
            return None
        for screen in self._screens:
            if screen.could_match(words) and screen.pattern.search(normal):
                return SafetySignal(screen.category)
        return None

    def detect_unscreened(self, text: str) -> SafetySignal | None:
        """The same answer by the patterns alone: what `detect` must always agree with."""
        normal = _normal(text)
        for screen in self._screens:
            if screen.pattern.search(normal):
                return SafetySignal(screen.category)
        return None
