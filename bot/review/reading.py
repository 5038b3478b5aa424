"""One shared conversation as a coach reads it: the coachee's (corrected) summary first, the
diagnosis read back, the asymmetry chart, the next steps and how they went, and a page of
the transcript with safety interruptions marked by their category only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from bot.compiler import compile_dialogue
from bot.loader import Catalog
from bot.recap import ABOUT, reading
from bot.review.chart import asymmetry_svg, then_slots
from storage.review import Note, SafetyMark, TranscriptLine
from storage.rows import NextStep
from storage.sharing import SharedConversation
from storage.store import Store

#: Messages on one page of a transcript.
PAGE = 100


@dataclass(frozen=True)
class Turn:
    """Messages written in one turn; a turn where safety stepped in shows its marks in place
    of the coach's words (the category and level, never the safety message)."""

    lines: tuple[TranscriptLine, ...]
    safety: tuple[SafetyMark, ...] = ()


@dataclass(frozen=True)
class ConversationView:
    id: int
    user_id: str
    coachee: str
    title: str
    dialogue: str
    version: int
    status: str
    started_at: str
    last_activity: str
    other_party: str | None
    summary: str | None
    diagnosis: str | None
    answered: list[tuple[str, str]]
    chart: Markup | None
    #: For a revisit: the chart of the ratings it looked back on, and when those were given.
    then_chart: Markup | None
    then_date: str | None
    steps: list[NextStep]
    turns: list[Turn]
    page: int
    pages: int
    safety: list[SafetyMark]
    notes: list[Note]
    reviewed: bool
    tags: tuple[str, ...]
    later: bool = False
    #: The `seq` of each message the coach flagged.
    flagged: tuple[int, ...] = ()
    slots: dict[str, Any] = field(repr=False, default_factory=dict)


def conversation_view(
    store: Store, catalog: Catalog, shared: SharedConversation, coach_id: int, page: int = 1
) -> ConversationView | None:
    """Everything the conversation page shows (None if it is gone). `page` is clamped."""
    row = store.get_conversation(shared.conversation_id)
    if row is None:
        return None
    loaded = catalog.dialogues.get(row.dialogue)
    title, diagnosis, answered = row.dialogue, None, []
    if loaded is not None:
        title = loaded.dialogue.title
        runner = compile_dialogue(loaded).runner
        if row.status == "completed":
            diagnosis = reading(runner, row.slots)
        if diagnosis is None:
            answered = runner.answered(row.slots)
    total = store.transcript_length(row.id)
    pages = max(1, -(-total // PAGE))
    page = min(max(page, 1), pages)
    lines = store.transcript(row.id, offset=(page - 1) * PAGE, limit=PAGE)
    marks = store.safety_marks(row.id)
    review = store.review_of(coach_id, row.id)
    other = row.slots.get(ABOUT) or row.slots.get("other_party")
    then = then_slots(row.slots)
    return ConversationView(
        id=row.id,
        user_id=row.user_id,
        coachee=coachee_name(store, row.user_id),
        title=title,
        dialogue=row.dialogue,
        version=row.dialogue_version,
        status=row.status,
        started_at=row.started_at,
        last_activity=row.updated_at or row.started_at,
        other_party=None if other is None else str(other),
        summary=shared.summary,
        diagnosis=diagnosis,
        answered=answered,
        chart=asymmetry_svg(row.slots),
        then_chart=None if then is None else asymmetry_svg(then, "then"),
        then_date=None if then is None else str(then.get("date") or "") or None,
        steps=store.steps_about(row.id),
        turns=by_turn(lines, marks),
        page=page,
        pages=pages,
        safety=marks,
        notes=store.notes(coach_id, row.id),
        reviewed=review.reviewed,
        tags=review.tags,
        later=review.later,
        flagged=review.flagged,
        slots=row.slots,
    )


def coachee_name(store: Store, user_id: str) -> str:
    return store.name_of(user_id) or user_id.split(":", 1)[-1]


def by_turn(lines: list[TranscriptLine], marks: list[SafetyMark]) -> list[Turn]:
    """The lines grouped by the turn they were written in (one timestamp a turn), each with
    the safety marks recorded in it; in those turns the coach's lines are left out."""
    at: dict[str, list[SafetyMark]] = {}
    for mark in marks:
        at.setdefault(mark.created_at, []).append(mark)
    groups: list[list[TranscriptLine]] = []
    for line in lines:
        if groups and groups[-1][0].created_at == line.created_at:
            groups[-1].append(line)
        else:
            groups.append([line])
    turns = []
    for group in groups:
        safety = tuple(at.get(group[0].created_at, ()))
        shown = [ln for ln in group if ln.sender == "user"] if safety else group
        turns.append(Turn(tuple(shown), safety))
    return turns
