"""What a dialogue recommends and notices, chosen by its rules and by the user's own words.

Recommendations fit by their `when:`, are ruled out by their `unless:`, and rank higher for
each of their `words:` the user wrote:

    rank = weight + WORD_BONUS × (phrases of `words` found, COUNTED_WORDS at most)

best first, file order breaking ties. A recommendation without `when:` is general advice: it
fits when one of its words was said, and otherwise only makes up a step's minimum. Insights
are a coach's reading: those whose `when:` holds, highest weight first.

Built once per dialogue version (in the StepRunner); stems are worked out only when a
recommend step runs, never on the turn's ordinary path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.expressions import Condition
from bot.schema import Dialogue, Insight, Recommendation
from bot.stems import Written, stems
from bot.templates import render

log = logging.getLogger("coach.recommending")

#: What one phrase of `words:` found in the user's writing adds to a recommendation's rank.
WORD_BONUS = 10
#: At most this many phrases count, so a long list of words cannot outweigh every rule.
COUNTED_WORDS = 3
#: Where a question keeps the user's own sentence; everything in one is read for `words:`.
NOTE_SUFFIX = "_note"


@dataclass(frozen=True)
class _Rule:
    rec: Recommendation
    when: Condition | None
    unless: Condition | None


class Recommender:
    """Chooses a dialogue's recommendations for one conversation's slots."""

    def __init__(self, dialogue: Dialogue) -> None:
        self._rules = [
            _Rule(
                rec,
                Condition(rec.when) if rec.when else None,
                Condition(rec.unless) if rec.unless else None,
            )
            for rec in dialogue.recommendations
        ]
        #: Slots that hold what the user wrote in their own words (text questions).
        self._text_slots = tuple(
            step.slot for step in dialogue.steps.values() if step.kind == "text"
        )
        self._phrases: dict[str, tuple[tuple[str, ...], ...]] | None = None

    def written(self, slots: dict[str, Any]) -> list[str]:
        """Everything the user wrote in this conversation: text answers and kept notes."""
        texts = [slots.get(slot) for slot in self._text_slots]
        texts.extend(v for k, v in slots.items() if k.endswith(NOTE_SUFFIX))
        return [t for t in texts if isinstance(t, str) and t.strip()]

    def _stemmed_phrases(self) -> dict[str, tuple[tuple[str, ...], ...]]:
        if self._phrases is None:  # the first recommend step of this dialogue version
            self._phrases = {
                rule.rec.id: tuple(p for p in (stems(w) for w in rule.rec.words) if p)
                for rule in self._rules
            }
        return self._phrases

    def matched(self, slots: dict[str, Any]) -> dict[str, int]:
        """For each recommendation, how many of its `words:` phrases the user wrote."""
        phrases = self._stemmed_phrases()
        longest = max((len(p) for ps in phrases.values() for p in ps), default=0)
        if not longest:
            return {}
        written = Written(self.written(slots), longest)
        return {rec_id: sum(written.has(p) for p in ps) for rec_id, ps in phrases.items()}

    def choose(self, slots: dict[str, Any], least: int, most: int) -> list[Recommendation]:
        """The recommendations to show, best first: every one that fits (at most `most`),
        then general advice (no `when:`) by weight until there are `least`."""
        matched = self.matched(slots)
        fits: list[tuple[int, Recommendation]] = []
        general: list[Recommendation] = []
        for rule in self._rules:
            if rule.unless is not None and rule.unless(slots):
                continue
            found = matched.get(rule.rec.id, 0)
            if rule.when is None:
                if not found:
                    general.append(rule.rec)
                    continue
            elif not rule.when(slots):
                continue
            fits.append((rule.rec.weight + WORD_BONUS * min(found, COUNTED_WORDS), rule.rec))
        # sorted() is stable: equal ranks keep the file's order.
        chosen = [rec for _, rec in sorted(fits, key=lambda pair: -pair[0])][:most]
        if len(chosen) < least:
            fill = sorted(general, key=lambda rec: -rec.weight)
            chosen.extend(fill[: least - len(chosen)])
        return chosen


class Insights:
    """Chooses and words a dialogue's insights for one conversation's slots."""

    def __init__(self, dialogue: Dialogue) -> None:
        ordered = sorted(dialogue.insights, key=lambda i: -i.weight)  # stable: file order
        self._rules = [(insight, Condition(insight.when)) for insight in ordered]

    def applying(self, slots: dict[str, Any]) -> list[dict[str, str]]:
        """Every insight whose `when` holds, best first, as {id, text, source}."""
        return list(self._applying(slots))

    def _applying(self, slots: dict[str, Any]) -> Iterator[dict[str, str]]:
        for insight, rule in self._rules:
            if not rule(slots):
                continue
            text = _worded(insight, slots)
            if text:
                yield {"id": insight.id, "text": text, "source": insight.source}


def _worded(insight: Insight, slots: dict[str, Any]) -> str:
    """An insight's text for these slots; empty (so left out) if it cannot be worded, such as
    arithmetic on a question not answered: a reading must never break the conversation."""
    try:
        return render(insight.text, slots)
    except Exception as exc:
        log.warning("insight %s left out: %s", insight.id, type(exc).__name__)
        return ""


def bullets(heading: str, insights: list[dict[str, str]]) -> str:
    """The insights under their heading, one bullet each with its source in brackets."""
    lines = [heading, *(f"• {i['text']} ({i['source']})" for i in insights)]
    return "\n".join(lines)
