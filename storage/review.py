"""What the review page reads and a coach writes: the inbox, full-text search, one shared
conversation's transcript and safety marks, and a coach's private notes, reviewed flag and
tags.

Every read here takes the ids of the conversations the coach may see *now*, worked out by
the one access check (`bot.review.access`, through `Store.shared_conversations_for`), and
never reaches past them: these queries decide nothing about consent themselves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import from_json

from bot.errors import StorageError
from storage.base import StoreBase

#: Where FTS5's snippet() marks a hit: private-use characters, so the page escapes the text
#: first and then turns these into <mark> (what was said can never open a tag).
HIT_START, HIT_END = "\ue000", "\ue001"


class SearchError(ValueError):
    """A search the index cannot read (the page answers 400)."""


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox is narrowed to; None means any."""

    dialogue: str | None = None
    reviewed: bool | None = None
    later: bool | None = None
    tag: str | None = None
    #: Last activity on or after / on or before these ISO dates.
    since: str | None = None
    until: str | None = None
    limit: int = 100


@dataclass(frozen=True)
class InboxRow:
    """One shared conversation as the inbox lists it (and the CSV has it)."""

    conversation_id: int
    user_id: str
    coachee: str
    dialogue: str
    dialogue_version: int
    status: str
    started_at: str
    last_activity: str
    other_party: str | None
    turns: int
    reviewed: bool
    tags: tuple[str, ...]
    due_steps: int
    later: bool = False


@dataclass(frozen=True)
class SearchHit:
    conversation_id: int
    seq: int
    sender: str
    #: The matching words between HIT_START and HIT_END, unescaped (escape, then mark).
    snippet: str


@dataclass(frozen=True)
class TranscriptLine:
    seq: int
    sender: str
    text: str
    created_at: str


@dataclass(frozen=True)
class SafetyMark:
    category: str
    level: str
    created_at: str


@dataclass(frozen=True)
class Note:
    id: int
    text: str
    created_at: str
    #: The message it is on (its `seq`); None for a note on the whole conversation.
    message_seq: int | None = None


@dataclass(frozen=True)
class ReviewMarks:
    """What a coach marked on one conversation."""

    reviewed: bool = False
    later: bool = False
    tags: tuple[str, ...] = ()
    #: The `seq` of each message they flagged.
    flagged: tuple[int, ...] = ()


@dataclass(frozen=True)
class CoachNote:
    """A note as the page of a coach's notes lists it: with the conversation it is on."""

    conversation_id: int
    user_id: str
    coachee: str
    dialogue: str
    note: Note


@dataclass(frozen=True)
class SavedFilter:
    """A coach's inbox filter kept by name: `query` is the inbox's query string."""

    id: int
    name: str
    query: str


def _ids(ids: Iterable[int]) -> str:
    """The ids as one JSON parameter (read with json_each): any number of them, one `?`."""
    return json.dumps(sorted(int(i) for i in ids))


class ReviewQueries(StoreBase):
    """The review page's reads and a coach's writes (a part of `Store`)."""

    # -- the inbox -----------------------------------------------------------------------

    def inbox(
        self, coach_id: int, ids: Iterable[int], wanted: InboxFilter, today: str
    ) -> list[InboxRow]:
        """The conversations among `ids` that `wanted` lets through, newest activity first."""
        where = ["c.id IN (SELECT value FROM json_each(?))"]
        params: list[Any] = [today, coach_id, _ids(ids)]
        if wanted.dialogue:
            where.append("c.dialogue = ?")
            params.append(wanted.dialogue)
        if wanted.reviewed is not None:
            where.append(f"r.reviewed_at IS {'NOT ' if wanted.reviewed else ''}NULL")
        if wanted.later is not None:
            where.append(f"r.later_at IS {'NOT ' if wanted.later else ''}NULL")
        if wanted.tag:
            where.append("EXISTS (SELECT 1 FROM json_each(r.tags) WHERE value = ?)")
            params.append(wanted.tag)
        if wanted.since:
            where.append("substr(coalesce(c.updated_at, c.started_at), 1, 10) >= ?")
            params.append(wanted.since)
        if wanted.until:
            where.append("substr(coalesce(c.updated_at, c.started_at), 1, 10) <= ?")
            params.append(wanted.until)
        params.append(wanted.limit)
        rows = self._read(
            "SELECT c.id, c.user_id, coalesce(u.name, u.display_name, c.user_id), c.dialogue, "
            "c.dialogue_version, c.status, c.started_at, coalesce(c.updated_at, c.started_at), "
            "coalesce(json_extract(c.slots, '$._about'), json_extract(c.slots, '$.other_party')),"
            " c.turn, r.reviewed_at IS NOT NULL, coalesce(r.tags, '[]'), "
            "(SELECT count(*) FROM next_steps n WHERE n.conversation_id = c.id "
            "AND n.status = 'open' AND n.due_date <= ?), r.later_at IS NOT NULL "
            "FROM conversations c JOIN users u ON u.id = c.user_id "
            "LEFT JOIN coach_reviews r ON r.coach_id = ? AND r.conversation_id = c.id "
            f"WHERE {' AND '.join(where)} "
            "ORDER BY coalesce(c.updated_at, c.started_at) DESC, c.id DESC LIMIT ?",
            params,
        )
        return [
            InboxRow(
                conversation_id=r[0],
                user_id=r[1],
                coachee=str(r[2]),
                dialogue=r[3],
                dialogue_version=r[4] or 0,
                status=r[5],
                started_at=r[6],
                last_activity=r[7],
                other_party=None if r[8] is None else str(r[8]),
                turns=r[9] or 0,
                reviewed=bool(r[10]),
                tags=tuple(str(t) for t in from_json(r[11] or "[]")),
                due_steps=r[12],
                later=bool(r[13]),
            )
            for r in rows
        ]

    def dialogues_among(self, ids: Iterable[int]) -> list[str]:
        """The dialogues of these conversations (the inbox's dialogue filter)."""
        rows = self._read(
            "SELECT DISTINCT dialogue FROM conversations "
            "WHERE id IN (SELECT value FROM json_each(?)) ORDER BY dialogue",
            (_ids(ids),),
        )
        return [r[0] for r in rows]

    def coachees_among(self, ids: Iterable[int]) -> list[tuple[str, str]]:
        """(user id, name) of the coachees of these conversations, by name."""
        rows = self._read(
            "SELECT DISTINCT c.user_id, coalesce(u.name, u.display_name, c.user_id) "
            "FROM conversations c JOIN users u ON u.id = c.user_id "
            "WHERE c.id IN (SELECT value FROM json_each(?)) ORDER BY 2 COLLATE NOCASE",
            (_ids(ids),),
        )
        return [(r[0], str(r[1])) for r in rows]

    # -- full-text search -----------------------------------------------------------------

    def search(self, ids: Iterable[int], query: str, limit: int = 200) -> list[SearchHit]:
        """Messages of these conversations that match `query` (its words, each quoted: no
        FTS5 operators), best first, each with a short snippet."""
        quoted = self.db.quote_fts(query)
        if not quoted.strip('" '):
            return []
        try:
            rows = self._read(
                "SELECT m.conversation_id, m.seq, m.sender, "
                "snippet(messages_fts, 0, ?, ?, '…', 12) "
                "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                "WHERE messages_fts MATCH ? "
                "AND m.conversation_id IN (SELECT value FROM json_each(?)) "
                "ORDER BY rank LIMIT ?",
                (HIT_START, HIT_END, quoted, _ids(ids), limit),
            )
        except StorageError as exc:  # words FTS5 still cannot read (a NUL, say)
            raise SearchError(str(exc)) from None
        return [SearchHit(*r) for r in rows]

    # -- one conversation -----------------------------------------------------------------

    def transcript(self, conversation_id: int, *, offset: int, limit: int) -> list[TranscriptLine]:
        rows = self._read(
            "SELECT seq, sender, text, created_at FROM messages WHERE conversation_id = ? "
            "ORDER BY seq LIMIT ? OFFSET ?",
            (conversation_id, limit, offset),
        )
        return [TranscriptLine(*r) for r in rows]

    def transcript_length(self, conversation_id: int) -> int:
        rows = self._read(
            "SELECT count(*) FROM messages WHERE conversation_id = ?", (conversation_id,)
        )
        return int(rows[0][0])

    def message_position(self, conversation_id: int, seq: int) -> int | None:
        """How many messages of the conversation come before its message `seq` (None when
        it has no such message): which page of the transcript holds it."""
        rows = self._read(
            "SELECT (SELECT count(*) FROM messages WHERE conversation_id = ? AND seq < ?) "
            "WHERE EXISTS (SELECT 1 FROM messages WHERE conversation_id = ? AND seq = ?)",
            (conversation_id, seq, conversation_id, seq),
        )
        return int(rows[0][0]) if rows else None

    def safety_marks(self, conversation_id: int) -> list[SafetyMark]:
        """Where safety interrupted the conversation: category and level, never words."""
        rows = self._read(
            "SELECT category, level, created_at FROM safety_events WHERE conversation_id = ? "
            "ORDER BY id",
            (conversation_id,),
        )
        return [SafetyMark(*r) for r in rows]

    # -- a coach's own notes, flag and tags ------------------------------------------------

    def add_note(
        self,
        coach_id: int,
        conversation_id: int,
        text: str,
        now: str,
        message_seq: int | None = None,
    ) -> bool:
        """A private note of the coach's on a conversation, or on its message `message_seq`
        (the coachee's id kept with it, so `coach forget` erases it); False when there is
        no such message in that conversation."""
        cursor = self.db.execute(
            "INSERT INTO coach_notes (coach_id, user_id, conversation_id, text, created_at, "
            "message_seq) SELECT ?, user_id, id, ?, ?, ? FROM conversations WHERE id = ? "
            "AND (? IS NULL OR EXISTS (SELECT 1 FROM messages WHERE conversation_id = ? "
            "AND seq = ?))",
            (coach_id, text, now, message_seq, conversation_id, message_seq, conversation_id,
             message_seq),
        )  # fmt: skip
        return cursor.rowcount == 1

    def notes(self, coach_id: int, conversation_id: int) -> list[Note]:
        rows = self._read(
            "SELECT id, text, created_at, message_seq FROM coach_notes WHERE coach_id = ? "
            "AND conversation_id = ? ORDER BY id",
            (coach_id, conversation_id),
        )
        return [Note(*r) for r in rows]

    def notes_among(
        self, coach_id: int, ids: Iterable[int], user_id: str | None = None
    ) -> list[CoachNote]:
        """The coach's notes on these conversations (of one coachee, if given), newest
        conversation first, each conversation's notes in the order written."""
        rows = self._read(
            "SELECT n.conversation_id, n.user_id, coalesce(u.name, u.display_name, n.user_id), "
            "c.dialogue, n.id, n.text, n.created_at, n.message_seq FROM coach_notes n "
            "JOIN conversations c ON c.id = n.conversation_id JOIN users u ON u.id = n.user_id "
            "WHERE n.coach_id = ? AND n.conversation_id IN (SELECT value FROM json_each(?)) "
            "AND (? IS NULL OR n.user_id = ?) ORDER BY n.conversation_id DESC, n.id",
            (coach_id, _ids(ids), user_id, user_id),
        )
        return [CoachNote(r[0], r[1], str(r[2]), r[3], Note(*r[4:])) for r in rows]

    # -- a coach's saved filters ----------------------------------------------------------

    def saved_filters(self, coach_id: int) -> list[SavedFilter]:
        rows = self._read(
            "SELECT id, name, query FROM coach_filters WHERE coach_id = ? "
            "ORDER BY name COLLATE NOCASE",
            (coach_id,),
        )
        return [SavedFilter(*r) for r in rows]

    def save_filter(self, coach_id: int, name: str, query: str, now: str) -> None:
        """Keep `query` under `name` (replacing a filter of that name)."""
        self.db.execute(
            "INSERT INTO coach_filters (coach_id, name, query, created_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (coach_id, name) DO UPDATE SET query = excluded.query, "
            "created_at = excluded.created_at",
            (coach_id, name, query, now),
        )

    def delete_filter(self, coach_id: int, filter_id: int) -> bool:
        """False when the coach has no such filter (another coach's included)."""
        cursor = self.db.execute(
            "DELETE FROM coach_filters WHERE coach_id = ? AND id = ?", (coach_id, filter_id)
        )
        return cursor.rowcount == 1

    def review_of(self, coach_id: int, conversation_id: int) -> ReviewMarks:
        """What the coach marked on the conversation: reviewed, saved for later, tags and
        flagged messages."""
        rows = self._read(
            "SELECT reviewed_at IS NOT NULL, later_at IS NOT NULL, tags FROM coach_reviews "
            "WHERE coach_id = ? AND conversation_id = ?",
            (coach_id, conversation_id),
        )
        flagged = self._read(
            "SELECT message_seq FROM coach_flags WHERE coach_id = ? AND conversation_id = ? "
            "ORDER BY message_seq",
            (coach_id, conversation_id),
        )
        seqs = tuple(int(r[0]) for r in flagged)
        if not rows:
            return ReviewMarks(flagged=seqs)
        reviewed, later, tags = rows[0]
        return ReviewMarks(bool(reviewed), bool(later), tuple(from_json(tags or "[]")), seqs)

    def set_reviewed(self, coach_id: int, conversation_id: int, reviewed: bool, now: str) -> None:
        self._upsert_review(coach_id, conversation_id, now, reviewed_at=now if reviewed else None)

    def set_later(self, coach_id: int, conversation_id: int, later: bool, now: str) -> None:
        self._upsert_review(coach_id, conversation_id, now, later_at=now if later else None)

    def set_tags(self, coach_id: int, conversation_id: int, tags: Sequence[str], now: str) -> None:
        self._upsert_review(coach_id, conversation_id, now, tags=json.dumps(list(tags)))

    def set_flag(
        self, coach_id: int, conversation_id: int, message_seq: int, flagged: bool, now: str
    ) -> bool:
        """Flag (or unflag) one message of the conversation; False when it has no such
        message."""
        if self.message_position(conversation_id, message_seq) is None:
            return False
        if flagged:
            self.db.execute(
                "INSERT OR IGNORE INTO coach_flags (coach_id, conversation_id, user_id, "
                "message_seq, created_at) SELECT ?, id, user_id, ?, ? FROM conversations "
                "WHERE id = ?",
                (coach_id, message_seq, now, conversation_id),
            )
        else:
            self.db.execute(
                "DELETE FROM coach_flags WHERE coach_id = ? AND conversation_id = ? "
                "AND message_seq = ?",
                (coach_id, conversation_id, message_seq),
            )
        return True

    def _upsert_review(self, coach_id: int, conversation_id: int, now: str, **values: Any) -> None:
        column, value = next(iter(values.items()))
        assert column in ("reviewed_at", "later_at", "tags")
        self.db.execute(
            f"INSERT INTO coach_reviews (coach_id, conversation_id, user_id, {column}, "
            "updated_at) SELECT ?, id, user_id, ?, ? FROM conversations WHERE id = ? "
            f"ON CONFLICT (coach_id, conversation_id) DO UPDATE SET {column} = excluded.{column},"
            " updated_at = excluded.updated_at",
            (coach_id, value, now, conversation_id),
        )
