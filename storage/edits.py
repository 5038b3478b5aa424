"""A channel's own handle on a line of the transcript: which delivery made which message.

Slack tells the coach that a person edited or deleted a message by naming that message (its
channel and timestamp), never our row. A delivery is linked here, by that handle, to the
transcript line its turn wrote, so a deletion can remove the words from that line (the turn
stays, marked as deleted by the person), and an edit can be told apart from a message the
coach never read.
"""

from __future__ import annotations

from storage.base import StoreBase


class EditQueries(StoreBase):
    """Writes here run inside the caller's transaction (`Store.transaction`)."""

    def last_user_seq(self, user_id: str) -> int:
        """The number of the person's latest line in their transcript (0 if none)."""
        rows = self._read(
            "SELECT max(seq) FROM messages WHERE user_id = ? AND sender = 'user'", (user_id,)
        )
        return int(rows[0][0] or 0)

    def link_delivery(self, delivery_id: str, ref: str, seq: int | None) -> None:
        """Note the channel's name for the delivered message (`ref`) and the person's line
        its turn wrote (`seq`; None when the turn wrote none, e.g. an answer refused).

        Inside the caller's transaction: `Store.delivered` notes it in the commit that lets
        the inbox entry go, so it costs no commit of its own."""
        self.db.execute(
            "UPDATE deliveries SET message_ref = ?, message_seq = ? WHERE delivery_id = ?",
            (ref, seq, delivery_id),
        )

    def delivered_line(self, ref: str) -> tuple[str, int | None] | None:
        """(user, their line's seq or None) of the message the channel calls `ref`, if it
        was turned into a turn; else None (a message the coach never read)."""
        rows = self._read(
            "SELECT user_id, message_seq FROM deliveries WHERE message_ref = ?", (ref,)
        )
        return (str(rows[0][0]), rows[0][1]) if rows else None
