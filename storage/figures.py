"""The aggregate figures admins see: counts over everyone, never who, never what was said.

Every query here groups and counts; none returns a user id, a message, an answer or a name,
so the admin page built on them cannot show a transcript however it is changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.base import StoreBase


@dataclass(frozen=True)
class DialogueFigures:
    """Conversations of one dialogue (check-ins not counted): begun, finished, left."""

    dialogue: str
    started: int
    finished: int
    under_way: int
    left_before_an_answer: int


@dataclass(frozen=True)
class DropOff:
    """Conversations of a dialogue not finished, by the step they stopped at."""

    dialogue: str
    step: str
    conversations: int


class FigureQueries(StoreBase):
    """Counts for the admin page (a part of `Store`)."""

    def dialogue_figures(self) -> list[DialogueFigures]:
        rows = self._read(
            "SELECT dialogue, count(*), sum(status = 'completed'), "
            "sum(status IN ('active', 'paused')), sum(status = 'discarded') "
            "FROM conversations WHERE follow_up_of IS NULL GROUP BY dialogue ORDER BY dialogue"
        )
        return [DialogueFigures(str(r[0]), *(int(n or 0) for n in r[1:])) for r in rows]

    def drop_off(self) -> list[DropOff]:
        """Where unfinished conversations stand or stopped, most first within a dialogue."""
        rows = self._read(
            "SELECT dialogue, state, count(*) FROM conversations WHERE follow_up_of IS NULL "
            "AND status IN ('active', 'paused') GROUP BY dialogue, state "
            "ORDER BY dialogue, count(*) DESC, state"
        )
        return [DropOff(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    def step_outcomes(self) -> dict[str, int]:
        """Next steps by how they went ('done', 'partly', 'not_yet', 'dropped'), and those
        not checked in on yet ('open')."""
        rows = self._read(
            "SELECT coalesce(outcome, status), count(*) FROM next_steps GROUP BY 1 ORDER BY 1"
        )
        return {str(r[0]): int(r[1]) for r in rows}
