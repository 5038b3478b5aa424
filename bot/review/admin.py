"""The admin's page: aggregate figures only (conversations per dialogue, where unfinished ones
stand, how next steps went, safety interruptions by category), never a conversation. Its
figures come from `storage.figures` and `Store.safety_counts`, which only count."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.review import access
from bot.review.web import render

#: How a next step can have gone, in the order the page lists them.
OUTCOMES = ("done", "partly", "not_yet", "dropped", "open")


def rates(outcomes: dict[str, int]) -> list[tuple[str, int, int]]:
    """(outcome, count, percent of all steps) in `OUTCOMES` order, then any other."""
    total = sum(outcomes.values())
    order = [o for o in OUTCOMES if o in outcomes] + sorted(set(outcomes) - set(OUTCOMES))
    return [(o, outcomes[o], round(100 * outcomes[o] / total) if total else 0) for o in order]


async def figures(request: Request) -> Response:
    access.require_admin(request)
    store = access.store(request)
    return render(
        request,
        "admin.html",
        dialogues=store.dialogue_figures(),
        drop_off=store.drop_off(),
        steps=rates(store.step_outcomes()),
        safety=store.safety_counts(),
    )


routes = [Route("/admin", figures, name="admin.figures")]
