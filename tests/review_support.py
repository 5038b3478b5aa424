"""A store with coaches and coachees for the review page's tests: Chris (who is shared
things), Dana (who is not), and coachees alice and bob with conversations, some shared."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from storage.rows import ConversationRow, MessageRow
from storage.sharing import hash_token, token_lookup
from storage.store import Store

NOW = "2026-11-23T09:00:00+00:00"
CHRIS_TOKEN, DANA_TOKEN = "chris-token-1234567890", "dana-token-1234567890"
ADMIN_TOKEN = "admin-token-1234567890"
ALICE, BOB = "terminal:alice", "terminal:bob"
#: What a coachee might type that a page must never run.
HOSTILE = (
    "<script>alert('x')</script> <img src=x onerror=alert(1)> "
    '<a href="javascript:alert(2)">click</a> lanternfish'
)
SLOTS = {
    "dialogue_title": "Diagnose a power situation",
    "situation": "The council is closing the library",
    "other_party": "the council's libraries team",
    "_about": "the council's libraries team",
    "their_resources": 5,
    "my_resources": 2,
    "their_expertise": 4,
    "my_expertise": 3,
    "their_importance": 4,
    "my_importance": 2,
    "their_position": 5,
    "my_position": 1,
}


@dataclass
class Seeded:
    chris: int
    dana: int
    shared: int  # alice's conversation shared with Chris
    private: int  # alice's conversation shared with nobody
    bob_shared: int  # bob's, shared with Dana only
    admin: int  # Ada, an admin: figures only


def conversation(store: Store, user: str, when: str, slots: dict[str, object]) -> int:
    row = ConversationRow(
        0, user, "diagnose", 5, "digest", "end", "completed", None, dict(slots), [], 12, None,
        when, when, when,
    )  # fmt: skip
    return store.create_conversation(row)


def seed(store: Store, *, messages: int = 6) -> Seeded:
    with store.transaction():
        chris = store.add_coach(
            "Chris Lee", hash_token(CHRIS_TOKEN), NOW, token_lookup(CHRIS_TOKEN)
        )
        dana = store.add_coach("Dana", hash_token(DANA_TOKEN), NOW, token_lookup(DANA_TOKEN))
        admin = store.add_coach(
            "Ada", hash_token(ADMIN_TOKEN), NOW, token_lookup(ADMIN_TOKEN), role="admin"
        )
        for user in (ALICE, BOB):
            store.ensure_user(user, "terminal", user.split(":")[1], NOW)
        store.set_name(ALICE, "Alice")
        shared = conversation(store, ALICE, "2026-11-20T10:00:00+00:00", SLOTS)
        private = conversation(store, ALICE, "2026-11-21T10:00:00+00:00", {"situation": "x"})
        bob_shared = conversation(store, BOB, "2026-11-22T10:00:00+00:00", SLOTS)
        lines = [
            MessageRow("user" if i % 2 else "bot", f"line {i} about the library", "s", shared)
            for i in range(messages)
        ]
        lines.append(MessageRow("user", HOSTILE, "s", shared))
        store.add_messages(ALICE, lines, "2026-11-20T10:00:00+00:00")
        store.add_messages(
            ALICE,
            [MessageRow("user", "I'm being bullied, lanternfish", "s", shared)],
            "2026-11-20T10:05:00+00:00",
        )
        store.add_messages(
            ALICE,
            [MessageRow("bot", "SAFETY WORDS the coach said", "s", shared)],
            "2026-11-20T10:05:00+00:00",
        )
        store.record_safety_event(ALICE, shared, "bullying", "2026-11-20T10:05:00+00:00", "concern")
        store.add_messages(
            ALICE, [MessageRow("user", "private lanternfish secret", "s", private)], NOW
        )
        store.add_messages(BOB, [MessageRow("user", "bob's lanternfish", "s", bob_shared)], NOW)
        store.add_next_steps(
            shared,
            ALICE,
            [{"id": "r", "title": "Brief a councillor", "text": "Brief a councillor",
              "idea": "i", "source": "s", "due_date": "2026-11-22"}],
            NOW,
        )  # fmt: skip
        store.share(ALICE, chris, shared, NOW)
        store.set_shared_summary(ALICE, shared, "My corrected summary: the library matters", NOW)
        store.share(BOB, dana, bob_shared, NOW)
    return Seeded(chris, dana, shared, private, bob_shared, admin)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)
