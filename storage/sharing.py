"""Sharing with a coach: the coaches admins add (a name and a token hash, never the token),
the coachee's consents (`shares`), and the summaries they corrected before sharing.

Nothing is visible to a coach without a consent that is still in force: the one read a
coach's side goes by is `shared_conversations_for`, and it fails closed (a revoked share, a
share with another coach, a 'future' share and a conversation begun before it: nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.base import StoreBase

#: scrypt's cost: about 16 MiB and some tens of milliseconds per check.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
#: What a 'future' share covers: conversations the coachee starts after it (not check-ins,
#: not one left before any answer).
_LISTED = "c.follow_up_of IS NULL AND c.status != 'discarded'"


def new_token() -> str:
    """A coach's personal token: shown once, stored only as `hash_token`'s hash."""
    return secrets.token_urlsafe(32)


def hash_token(token: str, salt: bytes | None = None) -> str:
    """`scrypt$<salt hex>$<hash hex>`: what is stored in place of a token."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(token.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def token_lookup(token: str) -> str:
    """What finds a coach's row by their token alone: its SHA-256. A token is 256 random
    bits, so a fast hash reveals nothing; the scrypt hash still decides (`token_matches`)."""
    return hashlib.sha256(token.encode()).hexdigest()


#: What a token no coach has is checked against, so a miss costs as long as a hit.
_DUMMY_HASH = hash_token("no coach has this token")


def token_matches(token: str, stored: str) -> bool:
    """Whether `token` is the one `stored` is the hash of (in constant time)."""
    try:
        kind, salt, _ = stored.split("$")
        if kind != "scrypt":
            return False
        return hmac.compare_digest(hash_token(token, bytes.fromhex(salt)), stored)
    except ValueError:
        return False


#: What an account may do: a coach reads what is shared with them; an admin sees aggregate
#: figures and no conversation at all (nothing can be shared with an admin).
ROLES = ("coach", "admin")


@dataclass(frozen=True)
class Coach:
    id: int
    name: str
    created_at: str
    role: str = "coach"


@dataclass(frozen=True)
class Share:
    """One consent in force: with which coach, and what (one conversation, or 'future')."""

    id: int
    coach_id: int
    coach_name: str
    scope: str
    conversation_id: int | None
    created_at: str


@dataclass(frozen=True)
class SharedConversation:
    """A conversation a coach may see now, and the summary its coachee corrected (if any)."""

    conversation_id: int
    user_id: str
    dialogue: str
    started_at: str
    summary: str | None


class SharingQueries(StoreBase):
    """Coaches, shares and corrected summaries (a part of `Store`)."""

    # -- coaches (admins) -----------------------------------------------------------------

    def coaches(self) -> list[Coach]:
        """The coaches a coachee may share with (not admins), by name."""
        return [c for c in self.accounts() if c.role == "coach"]

    def accounts(self) -> list[Coach]:
        """Every coach and admin, by name (`coach users list`)."""
        rows = self._read(
            "SELECT id, name, created_at, role FROM coaches ORDER BY name COLLATE NOCASE"
        )
        return [Coach(*r) for r in rows]

    def coach_named(self, name: str) -> Coach | None:
        """The coach or admin of that name (names are unique across both)."""
        rows = self._read(
            "SELECT id, name, created_at, role FROM coaches WHERE name = ? COLLATE NOCASE",
            (name,),
        )
        return Coach(*rows[0]) if rows else None

    def add_coach(
        self, name: str, token_hash: str, now: str, lookup: str | None = None, role: str = "coach"
    ) -> int:
        """A new coach (inside a transaction); the caller checks the name is free. `lookup`
        is `token_lookup(token)`, so they can log in by the token alone."""
        cursor = self.db.execute(
            "INSERT INTO coaches (name, token_hash, created_at, token_set_at, token_lookup, role)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (name, token_hash, now, now, lookup, role),
        )
        return int(cursor.lastrowid or 0)

    def set_coach_token(
        self, coach_id: int, token_hash: str, now: str, lookup: str | None = None
    ) -> None:
        self.db.execute(
            "UPDATE coaches SET token_hash = ?, token_set_at = ?, token_lookup = ? WHERE id = ?",
            (token_hash, now, lookup, coach_id),
        )

    def remove_coach(self, coach_id: int) -> None:
        """The coach and every consent given to them (a later coach of the same name starts
        with nothing) and what they kept about those conversations, inside a transaction."""
        for table in ("coach_notes", "coach_reviews", "coach_flags", "coach_filters"):
            self.db.execute(f"DELETE FROM {table} WHERE coach_id = ?", (coach_id,))
        self.db.execute("DELETE FROM shares WHERE coach_id = ?", (coach_id,))
        self.db.execute("DELETE FROM coaches WHERE id = ?", (coach_id,))

    def coach_for_token(self, token: str) -> Coach | None:
        """The coach whose token this is, else None. Found by `token_lookup`, decided by the
        scrypt hash; coaches added before lookups were kept are each checked in turn. A token
        nobody has still costs one scrypt, so timing tells nothing."""
        rows = self._read(
            "SELECT id, name, created_at, role, token_hash FROM coaches WHERE token_lookup = ? "
            "OR token_lookup IS NULL ORDER BY token_lookup IS NULL",
            (token_lookup(token),),
        )
        for row in rows:
            if token_matches(token, row[4]):
                return Coach(*row[:4])
        if not rows:
            token_matches(token, _DUMMY_HASH)
        return None

    def coach_signed_in(self, coach_id: int) -> tuple[Coach, str] | None:
        """The coach and when their token was last set (a session from before a rotation
        ends); None when they were removed."""
        rows = self._read(
            "SELECT id, name, created_at, role, token_set_at FROM coaches WHERE id = ?",
            (coach_id,),
        )
        return (Coach(*rows[0][:4]), rows[0][4]) if rows else None

    # -- the coachee's consents ----------------------------------------------------------

    def share(self, user_id: str, coach_id: int, conversation_id: int | None, now: str) -> bool:
        """Share one conversation (or, with None, every one started from now on) with a
        coach; False when that share is already in force."""
        scope = "future" if conversation_id is None else "conversation"
        found = self._read(
            "SELECT 1 FROM shares WHERE user_id = ? AND coach_id = ? AND scope = ? "
            "AND conversation_id IS ? AND revoked_at IS NULL",
            (user_id, coach_id, scope, conversation_id),
        )
        if found:
            return False
        self.db.execute(
            "INSERT INTO shares (user_id, coach_id, scope, conversation_id, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (user_id, coach_id, scope, conversation_id, now),
        )
        return True

    def shares_of(self, user_id: str) -> list[Share]:
        """The user's consents in force, oldest first."""
        rows = self._read(
            "SELECT s.id, s.coach_id, c.name, s.scope, s.conversation_id, s.created_at "
            "FROM shares s JOIN coaches c ON c.id = s.coach_id "
            "WHERE s.user_id = ? AND s.revoked_at IS NULL ORDER BY s.id",
            (user_id,),
        )
        return [Share(*r) for r in rows]

    def revoke_shares(self, user_id: str, share_ids: Sequence[int] | None, now: str) -> int:
        """End the user's shares (the given ones, or with None all of them) at once; how
        many were ended. Only the user's own shares are touched."""
        sql = "UPDATE shares SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"
        params: list[Any] = [now, user_id]
        if share_ids is not None:
            if not share_ids:
                return 0
            sql += f" AND id IN ({', '.join('?' * len(share_ids))})"
            params += list(share_ids)
        return int(self.db.execute(sql, params).rowcount)

    def set_shared_summary(self, user_id: str, conversation_id: int, text: str, now: str) -> None:
        """The summary a coach reads first, as the coachee corrected it (their own
        conversation only; the transcript is untouched)."""
        self.db.execute(
            "INSERT INTO shared_summaries (user_id, conversation_id, text, updated_at) "
            "SELECT ?, id, ?, ? FROM conversations WHERE id = ? AND user_id = ? "
            "ON CONFLICT(conversation_id) DO UPDATE SET text = excluded.text, "
            "updated_at = excluded.updated_at",
            (user_id, text, now, conversation_id, user_id),
        )

    def shared_summary(self, conversation_id: int) -> str | None:
        rows = self._read(
            "SELECT text FROM shared_summaries WHERE conversation_id = ?", (conversation_id,)
        )
        return rows[0][0] if rows else None

    # -- what a coach may see --------------------------------------------------------------

    def shared_conversations_for(self, coach_id: int) -> list[SharedConversation]:
        """The conversations shared with the coach now, newest first: each under a share in
        force of its own coachee with this coach (one conversation, or 'future' and started
        after the share). Anything else (revoked, another coach's, begun before a 'future'
        share, a check-in) is not there, and an admin has nothing, whatever `shares` says."""
        # Driven from the coach's shares (indexed by coach), not from every conversation:
        # one share finds its conversation by id, a 'future' one its coachee's by user.
        in_force = (
            "FROM shares s JOIN conversations c ON c.user_id = s.user_id "
            "WHERE s.coach_id = ? AND s.revoked_at IS NULL AND "
            "EXISTS (SELECT 1 FROM coaches k WHERE k.id = s.coach_id AND k.role = 'coach') "
            f"AND {_LISTED} AND "
        )
        rows = self._read(
            "SELECT c.id, c.user_id, c.dialogue, c.started_at, m.text FROM conversations c "
            "LEFT JOIN shared_summaries m ON m.conversation_id = c.id AND m.user_id = c.user_id "
            f"WHERE c.id IN (SELECT c.id {in_force} s.scope = 'conversation' "
            f"AND c.id = s.conversation_id UNION SELECT c.id {in_force} s.scope = 'future' "
            "AND c.started_at > s.created_at) ORDER BY c.id DESC",
            (coach_id, coach_id),
        )
        return [SharedConversation(*r) for r in rows]
