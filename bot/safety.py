"""Spots signals of harm, harassment, threats or legal trouble in what a user writes.

The phrases live in `dialogues/safety.yaml` so admins can tune them. A phrase matches as
whole words (case-insensitive); a trailing `*` matches any ending (`harass*`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.schema import SafetyCategory, SafetyConfig


@dataclass(frozen=True)
class SafetySignal:
    category: SafetyCategory


def _pattern(phrase: str) -> str:
    phrase = phrase.strip().lower()
    prefix = phrase.endswith("*")
    words = re.escape(phrase.rstrip("*").strip()).replace(r"\ ", r"\s+")
    return words + ("" if prefix else r"(?!\w)")


class SafetyDetector:
    """Matches messages against each category's phrases, most serious category first."""

    def __init__(self, config: SafetyConfig | None) -> None:
        self.config = config
        self._patterns: list[tuple[SafetyCategory, re.Pattern[str]]] = []
        for category in config.categories if config else []:
            joined = "|".join(_pattern(p) for p in category.phrases if p.strip())
            if joined:
                # One word-start check outside the alternation, and text lower-cased once
                # instead of IGNORECASE: many times faster on long messages.
                self._patterns.append((category, re.compile(rf"(?<!\w)(?:{joined})")))

    def detect(self, text: str) -> SafetySignal | None:
        """The first category whose phrases appear in `text`, or None."""
        normal = text.replace("’", "'").lower()
        for category, pattern in self._patterns:
            if pattern.search(normal):
                return SafetySignal(category)
        return None
