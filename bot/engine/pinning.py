"""A conversation finishes on the dialogue version it started on.

An admin's edit (picked up by a reload or a restart) must never break a conversation in
progress: a step renamed, removed or turned into a message would otherwise leave it nowhere
to go. So when a conversation starts, the version it starts on (the file's YAML, named by
its digest) is stored in `dialogue_versions` in the same transaction; when it is taken up
again and the file has changed since, it is rebuilt from that stored YAML, not the new file.
New conversations take the newest version.

A dialogue deleted outright is not kept alive this way: its conversations are set aside as
before. Nor is one that started before versions were stored: it goes on with the newest
version if its question is still there.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

from bot.errors import DialogueError
from bot.loader import Catalog, LoadedDialogue, load_dialogue_text
from storage.store import ConversationRow, Store

#: Earlier versions rebuilt from the store, by (dialogue, digest), most recently used last.
Rebuilt = OrderedDict[tuple[str, str], LoadedDialogue]

log = logging.getLogger("coach.engine")

#: The most earlier versions kept rebuilt in memory (most recently used last).
_MOST_REBUILT = 32


def keep(store: Store, loaded: LoadedDialogue, now: str) -> None:
    """Store the version a conversation is starting on (once; in the turn's transaction)."""
    store.keep_dialogue_version(
        loaded.dialogue.id, loaded.dialogue.version, loaded.digest, loaded.source, now
    )


def pinned(
    store: Store, catalog: Catalog, cache: Rebuilt, row: ConversationRow
) -> LoadedDialogue | None:
    """The version `row` runs on: the one it started on if it is stored, else the newest;
    None when the dialogue is no longer loaded at all. `cache` keeps versions rebuilt."""
    current = catalog.dialogues.get(row.dialogue)
    if current is None or current.digest == row.dialogue_digest:
        return current
    key = (row.dialogue, row.dialogue_digest)
    rebuilt = cache.get(key)
    if rebuilt is None:
        source = store.dialogue_source(*key)
        if source is None:
            return current
        name = Path(f"{current.path}@v{row.dialogue_version}")
        try:
            rebuilt = load_dialogue_text(name, source)
        except DialogueError as exc:  # stricter checks since: go on with the newest
            log.warning("stored version %s no longer loads: %d problem(s)", name, len(exc.problems))
            return current
        cache[key] = rebuilt
        while len(cache) > _MOST_REBUILT:
            cache.popitem(last=False)
    cache.move_to_end(key)
    return rebuilt
