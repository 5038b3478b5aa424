"""`coach transcripts`: the review page's reading for coaches who prefer a terminal. The same
rule (`access.may_see`), the same inbox query and the same exports as the page: a coach
lists, shows and exports only what is shared with them now.

A coach proves who they are with their token, as on the page: from `COACH_TOKEN`, or asked
for without echo. A conversation that is not shared with them gets the same one line as one
that does not exist.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import sys

from bot.errors import CoachError
from bot.loader import Catalog
from bot.review.access import may_see
from bot.review.exports import export_conversation
from bot.text import visible
from storage.review import InboxFilter
from storage.sharing import Coach
from storage.store import Store

TOKEN_VARIABLE = "COACH_TOKEN"


def sign_in(store: Store, name: str) -> Coach:
    """The coach `name`, if the token given is theirs (CoachError otherwise)."""
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        if not sys.stdin.isatty():
            raise CoachError(
                f"Give your personal token in {TOKEN_VARIABLE} (or run this in a terminal to "
                "be asked for it)."
            )
        token = getpass.getpass("Your personal token: ").strip()
    found = store.coach_for_token(token) if token else None
    if found is None or found.name.casefold() != name.casefold():
        raise CoachError(f"That token is not {name}'s: check it, or ask an admin for a new one.")
    return found


def listing(store: Store, coach: Coach, limit: int) -> str:
    """The conversations shared with the coach now, newest activity first, one a line."""
    ids = may_see(store, coach)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    rows = store.inbox(coach.id, ids, InboxFilter(limit=limit), today)
    if not rows:
        return "Nothing is shared with you."
    lines = ["id\tcoachee\tdialogue\tlast activity\tturns\treviewed\ttags"]
    for r in rows:
        lines.append(
            f"{r.conversation_id}\t{r.coachee}\t{r.dialogue} v{r.dialogue_version}\t"
            f"{r.last_activity[:16].replace('T', ' ')}\t{r.turns}\t"
            f"{'yes' if r.reviewed else 'no'}\t{', '.join(r.tags)}"
        )
    return visible("\n".join(lines))


def export(store: Store, catalog: Catalog, coach: Coach, conversation_id: int, kind: str) -> str:
    """One shared conversation as Markdown or JSON, as the page exports it."""
    shared = may_see(store, coach).get(conversation_id)
    text = None if shared is None else export_conversation(store, catalog, shared, coach.id, kind)
    if text is None:
        raise CoachError(
            f"Conversation {conversation_id} is not shared with {coach.name} (or there is no "
            "such conversation): see `coach transcripts list`."
        )
    return text
