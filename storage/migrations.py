"""The database schema, as named migrations applied once each (sqlite-utils' Migrations)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("influence_coach")


@migrations()
def m001_core_tables(db: Database) -> None:
    """Users, their conversations, every message, next steps, safety interruptions, deliveries."""
    db.table("users").create(
        {
            "id": str,
            "channel": str,
            "display_name": str,
            "message_seq": int,
            "created_at": str,
            "last_seen_at": str,
        },
        pk="id",
        not_null={"channel", "created_at"},
        defaults={"message_seq": 0},
    )
    db.table("conversations").create(
        {
            "id": int,
            "user_id": str,
            "dialogue": str,
            "dialogue_version": int,
            "dialogue_digest": str,
            "state": str,
            "status": str,
            "pending": str,
            "slots": str,
            "history": str,
            "turn": int,
            "follow_up_of": int,
            "started_at": str,
            "updated_at": str,
            "completed_at": str,
        },
        pk="id",
        not_null={"user_id", "dialogue", "status", "slots", "history", "turn", "started_at"},
        defaults={"turn": 0, "slots": "{}", "history": "[]"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db.table("conversations").create_index(["user_id", "status"])
    db.table("messages").create(
        {
            "id": int,
            "user_id": str,
            "conversation_id": int,
            "seq": int,
            "sender": str,
            "text": str,
            "state": str,
            "created_at": str,
        },
        pk="id",
        not_null={"user_id", "seq", "sender", "text", "created_at"},
        foreign_keys=[("user_id", "users", "id"), ("conversation_id", "conversations", "id")],
    )
    db.table("messages").create_index(["user_id", "seq"], unique=True)
    db.table("messages").create_index(["conversation_id", "seq"])
    db.table("next_steps").create(
        {
            "id": int,
            "conversation_id": int,
            "user_id": str,
            "recommendation_id": str,
            "title": str,
            "text": str,
            "idea": str,
            "source": str,
            "due_date": str,
            "status": str,
            "outcome": str,
            "learned": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"conversation_id", "user_id", "text", "due_date", "status", "created_at"},
        foreign_keys=[("user_id", "users", "id"), ("conversation_id", "conversations", "id")],
    )
    db.table("next_steps").create_index(["user_id", "status", "due_date"])
    db.table("safety_events").create(
        {
            "id": int,
            "user_id": str,
            "conversation_id": int,
            "category": str,
            "created_at": str,
        },
        pk="id",
        not_null={"user_id", "category", "created_at"},
        foreign_keys=[("user_id", "users", "id"), ("conversation_id", "conversations", "id")],
    )
    db.table("deliveries").create(
        {"delivery_id": str, "user_id": str, "created_at": str},
        pk="delivery_id",
        not_null={"user_id", "created_at"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db.table("deliveries").create_index(["user_id"])


@migrations()
def m002_next_step_reminders(db: Database) -> None:
    """When a due next step's check-in was pushed to the user, so it is pushed exactly once."""
    db.table("next_steps").add_column("reminded_at", str)


@migrations()
def m003_inbox(db: Database) -> None:
    """Deliveries received but not yet turned into turns, written before they are acknowledged.

    A channel that acknowledges before it runs the turn (Slack must hear back within three
    seconds) keeps what it acknowledged here, so a crash between the two loses nothing: the
    next start runs what is left. Its turn sets `turned_at` in the turn's own transaction;
    the row goes once the reply is out, so a crash between those two is made good by
    showing the user their question again.
    """
    db.table("inbox").create(
        {
            "id": int,
            "delivery_id": str,
            "user_id": str,
            "kind": str,
            "payload": str,
            "attempts": int,
            "received_at": str,
            "turned_at": str,
        },
        pk="id",
        not_null={"delivery_id", "user_id", "kind", "payload", "received_at"},
        defaults={"attempts": 0},
    )
    db.table("inbox").create_index(["delivery_id"], unique=True)
    db.table("inbox").create_index(["user_id", "id"])


@migrations()
def m004_safety_levels(db: Database) -> None:
    """How serious each safety signal was (danger, concern or a note), and a question the
    coach asked at the menu (a safety check) that the user's next message answers.

    Interruptions of older rows were all the stopping kind: they count as `danger`.
    """
    db.table("safety_events").add_column("level", str, not_null_default="danger")
    db.table("safety_events").create_index(["category", "level"])
    db.table("users").add_column("pending", str)


@migrations()
def m005_what_the_coach_remembers(db: Database) -> None:
    """What the coach calls each person and what it knows of them, and indexes for reading
    their own record back.

    `users.name` is the name the coach uses (asked once, or a channel's display name; "call
    me Sam" changes it); `users.known` holds, as JSON by slot, the answers dialogues declare
    `remember: {scope: person}` (their role), offered back in later conversations. A
    person's conversations are listed newest first (`history`), each with its next steps.
    """
    db.table("users").add_column("name", str)
    db.table("users").add_column("known", str)
    # The conversations a record lists (not check-ins), newest first. Partial on a column
    # a turn never writes, so the UPDATE of every turn leaves this index alone.
    db.execute(
        "CREATE INDEX idx_conversations_listed ON conversations (user_id, id) "
        "WHERE follow_up_of IS NULL"
    )
    db.table("next_steps").create_index(["conversation_id"])


@migrations()
def m006_revisits(db: Database) -> None:
    """A conversation about a past one names it (`revisit_of`: a revisit of a diagnosis), so
    the change between them can be seen later, by the user and by coaches. A next step knows
    when it was last checked in (`checked_at`, for "two steps in a row not done"), and until
    when a check-in the user put off ("later") waits (`snoozed_until`).
    """
    db.table("conversations").add_column("revisit_of", int)
    db.table("conversations").create_index(["revisit_of"])
    db.table("next_steps").add_column("checked_at", str)
    db.table("next_steps").add_column("snoozed_until", str)


@migrations()
def m007_sharing(db: Database) -> None:
    """Sharing with a coach, by the coachee's consent only.

    `coaches` are the people admins add (`coach users add-coach`): a name and the hash of
    their token, never the token. A row of `shares` is one consent of a coachee (`user_id`)
    to one coach: one conversation (`scope` 'conversation', `conversation_id`) or every
    conversation started after it (`scope` 'future'); `revoked_at` ends it at once.
    `shared_summaries` holds the summary a coachee corrected before sharing a conversation
    (what the coach reads first); the transcript is never changed.
    """
    db.table("coaches").create(
        {"id": int, "name": str, "token_hash": str, "created_at": str, "token_set_at": str},
        pk="id",
        not_null={"name", "token_hash", "created_at", "token_set_at"},
    )
    db.table("coaches").create_index(["name"], unique=True)
    db.table("shares").create(
        {
            "id": int,
            "user_id": str,
            "coach_id": int,
            "scope": str,
            "conversation_id": int,
            "created_at": str,
            "revoked_at": str,
        },
        pk="id",
        not_null={"user_id", "coach_id", "scope", "created_at"},
        foreign_keys=[
            ("user_id", "users", "id"),
            ("coach_id", "coaches", "id"),
            ("conversation_id", "conversations", "id"),
        ],
    )
    db.table("shares").create_index(["coach_id", "revoked_at"])
    db.table("shares").create_index(["user_id"])
    db.table("shared_summaries").create(
        {"id": int, "user_id": str, "conversation_id": int, "text": str, "updated_at": str},
        pk="id",
        not_null={"user_id", "conversation_id", "text", "updated_at"},
        foreign_keys=[("user_id", "users", "id"), ("conversation_id", "conversations", "id")],
    )
    db.table("shared_summaries").create_index(["conversation_id"], unique=True)
    db.table("shared_summaries").create_index(["user_id"])


@migrations()
def m008_review(db: Database) -> None:
    """What coaches keep about what was shared with them, and the index they search it by.

    `coach_notes` are a coach's private notes on a conversation (never shown to its coachee,
    nor in their export); `coach_reviews` holds a coach's reviewed flag and rubric tags for
    one conversation. Both carry the coachee's `user_id`, so `coach forget` erases them.

    `messages_fts` (FTS5) indexes the messages of people who share something (a share in
    force when the message is written, or a conversation share backfilling what was said
    before it): the turns of everyone else pay for no index. It is only ever read joined to
    the conversations a coach may see now, so what it holds beyond that is never found; a
    deleted message leaves it by trigger.
    """
    db.table("coach_notes").create(
        {
            "id": int,
            "coach_id": int,
            "user_id": str,
            "conversation_id": int,
            "text": str,
            "created_at": str,
        },
        pk="id",
        not_null={"coach_id", "user_id", "conversation_id", "text", "created_at"},
        foreign_keys=[
            ("coach_id", "coaches", "id"),
            ("user_id", "users", "id"),
            ("conversation_id", "conversations", "id"),
        ],
    )
    db.table("coach_notes").create_index(["coach_id", "conversation_id"])
    db.table("coach_notes").create_index(["user_id"])
    db.table("coach_reviews").create(
        {
            "coach_id": int,
            "conversation_id": int,
            "user_id": str,
            "reviewed_at": str,
            "tags": str,
            "updated_at": str,
        },
        pk=("coach_id", "conversation_id"),
        not_null={"coach_id", "conversation_id", "user_id", "tags", "updated_at"},
        defaults={"tags": "[]"},
        foreign_keys=[
            ("coach_id", "coaches", "id"),
            ("user_id", "users", "id"),
            ("conversation_id", "conversations", "id"),
        ],
    )
    db.table("coach_reviews").create_index(["user_id"])
    for statement in _FTS_SCHEMA:
        db.execute(statement)


@migrations()
def m009_review_more(db: Database) -> None:
    """Logging in by the token alone, notes on one message, flags, saved filters, admins.

    `coaches.token_lookup` is the SHA-256 of a coach's token: a token is 256 random bits, so
    this finds the row without revealing the token, and the scrypt hash still decides. Rows
    from before it (NULL) are checked one by one until the coach's token is next rotated.
    `coaches.role` is 'coach' or 'admin' (admins see aggregate figures, never transcripts).
    `coach_notes.message_seq` pins a note to one message of the transcript (NULL: on the
    whole conversation). `coach_reviews.later_at` is when a coach saved a conversation for
    later; `coach_flags` are the messages a coach flagged (with the coachee's `user_id`, so
    `coach forget` erases them). `coach_filters` are a coach's saved inbox filters, by name.
    """
    db.table("coaches").add_column("token_lookup", str)
    db.table("coaches").create_index(["token_lookup"])
    db.table("coaches").add_column("role", str, not_null_default="coach")
    db.table("coach_notes").add_column("message_seq", int)
    db.table("coach_reviews").add_column("later_at", str)
    db.table("coach_flags").create(
        {
            "coach_id": int,
            "conversation_id": int,
            "user_id": str,
            "message_seq": int,
            "created_at": str,
        },
        pk=("coach_id", "conversation_id", "message_seq"),
        not_null={"coach_id", "conversation_id", "user_id", "message_seq", "created_at"},
        foreign_keys=[
            ("coach_id", "coaches", "id"),
            ("user_id", "users", "id"),
            ("conversation_id", "conversations", "id"),
        ],
    )
    db.table("coach_flags").create_index(["user_id"])
    db.table("coach_filters").create(
        {"id": int, "coach_id": int, "name": str, "query": str, "created_at": str},
        pk="id",
        not_null={"coach_id", "name", "query", "created_at"},
        foreign_keys=[("coach_id", "coaches", "id")],
    )
    db.table("coach_filters").create_index(["coach_id", "name"], unique=True)


@migrations()
def m010_dialogue_versions(db: Database) -> None:
    """Each version of a dialogue that a conversation started on: its declared `version`, the
    digest of its file (what `conversations.dialogue_digest` names) and its YAML source. A
    conversation is pinned to its version: after an edit and a reload it finishes on the
    source stored here, while new conversations take the newest. (Named m010: m009 is taken
    on another branch.)"""
    db.table("dialogue_versions").create(
        {
            "dialogue": str,
            "digest": str,
            "version": int,
            "source": str,
            "first_used_at": str,
        },
        pk=("dialogue", "digest"),
        not_null={"version", "source", "first_used_at"},
    )


@migrations()
def m011_listing_indexes(db: Database) -> None:
    """The conversations a record lists, indexed without the discarded ones as well; their
    next steps indexed in the order a record shows them.

    `history 50` skips the 490 newest listed conversations: with discarded ones in the index,
    each skipped entry cost a look-up of its table row to read its status (about 150 µs for
    a person with 500 conversations, against 20 µs with the status in the index's WHERE).
    A turn's UPDATE names `status` only when it changes (a conversation ending or set
    aside), so ordinary turns leave this index alone, as before.

    A page's next steps are read by conversation, soonest first: with the due date in the
    index, SQLite reads them in that order instead of sorting them (about 5 µs of the 35 µs
    that read takes for a page). A step's due date changes only when it is put off or dated
    again.

    Migrations run in the order they are written here: later ones go after it.
    """
    db.execute("DROP INDEX IF EXISTS idx_conversations_listed")
    db.execute(
        "CREATE INDEX idx_conversations_listed ON conversations (user_id, id) "
        "WHERE follow_up_of IS NULL AND status != 'discarded'"
    )
    db.execute("DROP INDEX IF EXISTS idx_next_steps_conversation_id")
    db.execute(
        "CREATE INDEX idx_next_steps_conversation_id ON next_steps (conversation_id, due_date)"
    )


@migrations()
def m012_slack_deletions_and_removals(db: Database) -> None:
    """Which transcript line each delivery wrote (`deliveries.message_seq`), found by the
    channel's own name for the message (`message_ref`: Slack's channel and timestamp), so a
    person's deletion finds its line; when they deleted it (`messages.deleted_at`: its text
    is then empty, the turn kept); a person's time zone as their channel gives it
    (`users.time_zone`, an IANA name); and the workspaces that removed the coach
    (`removed_workspaces`: their people's id prefix, and when their data is erased)."""
    db.table("deliveries").add_column("message_ref", str)
    db.table("deliveries").add_column("message_seq", int)
    db.table("deliveries").create_index(["message_ref"])
    db.table("messages").add_column("deleted_at", str)
    db.table("users").add_column("time_zone", str)
    db.table("removed_workspaces").create(
        {"user_prefix": str, "removed_at": str, "erase_after": str},
        pk="user_prefix",
        not_null={"removed_at", "erase_after"},
    )


@migrations()
def m013_about(db: Database) -> None:
    """What a conversation was about, in a column of its own.

    A record's listing read what each conversation was about with `json_extract` of its
    slots, which parses all of them (about 3.4 KB for a finished diagnosis) for one short
    string: about 8 µs a conversation, ten or eleven a page. A save now copies the hidden
    slot `_about` to `about` (a bound NULL while under way); old rows are filled from
    their slots here.
    """
    db.execute("ALTER TABLE conversations ADD COLUMN about TEXT")
    db.execute(
        "UPDATE conversations SET about = json_extract(slots, '$._about') "
        "WHERE json_extract(slots, '$._about') IS NOT NULL"
    )


@migrations()
def m014_reading(db: Database) -> None:
    """The reading a finished conversation ended with, as it was said.

    `show N` rendered the dialogue's summary template again (in Jinja's sandbox, about half
    of that command's time) for a reading the person was given when the conversation
    finished. It is now rendered once then, from the slots it finished with (what `show N`
    always rendered), and stored in the same transaction as the rest of that turn; it reads
    the same even if the dialogue is reworded since. Conversations finished before have none
    (NULL) and are rendered from their slots as before; "" is a dialogue without a reading.
    """
    db.execute("ALTER TABLE conversations ADD COLUMN reading TEXT")


@migrations()
def m015_outbox(db: Database) -> None:
    """Messages a channel made but could not send yet (Slack said 429 with a Retry-After,
    or was down), kept so a restart still sends them.

    One row a message, sent in `place` order for each person (`id` among rows of one place:
    the note telling someone where the conversation is, written when it is due, takes the
    place of the row that stood for it). `kind` is a reply, a note, or `where` (that note
    before it is written: `message` then names only the DM). `not_before` is when it may be
    tried (an ISO time), `tries` how often it was. A row goes once Slack took the message,
    or when it was given up on; a person's rows go with them when they are erased.
    """
    db.table("outbox").create(
        {
            "id": int,
            "user_id": str,
            "place": int,
            "kind": str,
            "message": str,
            "not_before": str,
            "tries": int,
            "created_at": str,
        },
        pk="id",
        not_null={"user_id", "place", "kind", "message", "not_before", "tries", "created_at"},
        defaults={"tries": 1},
    )
    db.table("outbox").create_index(["user_id", "place", "id"])


#: The full-text index of shared transcripts and the triggers that keep it (m008).
_FTS_SCHEMA = (
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "text, tokenize = 'porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages "
    "WHEN new.conversation_id IS NOT NULL AND EXISTS ("
    "SELECT 1 FROM shares WHERE user_id = new.user_id AND revoked_at IS NULL) BEGIN "
    "INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "DELETE FROM messages_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN "
    "UPDATE messages_fts SET text = new.text WHERE rowid = new.id; END",
    "CREATE TRIGGER shares_fts_backfill AFTER INSERT ON shares "
    "WHEN new.conversation_id IS NOT NULL BEGIN "
    "INSERT INTO messages_fts (rowid, text) SELECT id, text FROM messages "
    "WHERE conversation_id = new.conversation_id "
    "AND id NOT IN (SELECT rowid FROM messages_fts); END",
    "INSERT INTO messages_fts (rowid, text) SELECT m.id, m.text FROM messages m "
    "WHERE m.conversation_id IS NOT NULL AND EXISTS (SELECT 1 FROM shares s "
    "WHERE s.user_id = m.user_id AND s.revoked_at IS NULL)",
)
