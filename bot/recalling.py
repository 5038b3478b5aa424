"""Looking back in a dialogue with `about:`: the `recall` step (which past conversation is
this about?) and the open steps of that conversation a `commit` step with `redate` offers
again. The engine fills `then` and the list offered; these read the user's answer.
"""

from __future__ import annotations

from typing import Any

from bot import answers, messages, understanding
from bot.schema import RECALLED_PAST, THEN, RecallStep
from bot.turns import Choice

#: A hidden slot: the past conversations a `recall` step offers, [{id, label}], latest first
#: (the one in `then` at the start first of all). Filled by the engine as the dialogue starts.
PAST = "_past"
#: A hidden slot: the id of the past conversation picked at a `recall` step, which the engine
#: then brings into `then`.
RECALLED = "_recalled"
#: The value of an open step offered again at a commit step: `again_<next step id>`.
AGAIN = "again_"
#: Words for "the one you suggested": the first in the list, the one already in `then`.
_THE_FIRST = (
    "yes",
    "yes please",
    "that one",
    "this one",
    "the latest",
    "latest",
    "the most recent",
    "most recent",
    "the same one",
    "same one",
    "the same",
    "ok",
    "okay",
    "sure",
)


def recall_options(step: RecallStep, slots: dict[str, Any]) -> list[understanding.Option]:
    """What a recall step offers: the past conversations, then the step's own choices."""
    offered = [p for p in slots.get(PAST) or [] if isinstance(p, dict)]
    options = [
        understanding.Option(f"past_{p['id']}", str(p["label"]), _THE_FIRST if i == 0 else ())
        for i, p in enumerate(offered)
    ]
    options += [understanding.Option(c.value, c.label, tuple(c.also)) for c in step.choices]
    return options


def recall_choices(step: RecallStep, slots: dict[str, Any]) -> tuple[Choice, ...]:
    return tuple(Choice(o.value, o.label) for o in recall_options(step, slots))


def read_recall(step: RecallStep, slots: dict[str, Any], text: str) -> dict[str, Any]:
    """The slots an answer to a recall step sets: `<slot>` (`past`, or a choice's value),
    `<slot>_label`, and the id of the past conversation picked; or InvalidAnswer."""
    options = recall_options(step, slots)
    reading = understanding.read_choices(text, understanding.ChoiceTable(options))
    if reading.outcome != "picked":
        raise answers.InvalidAnswer(messages.PICK_ONE)
    value = reading.values[0]
    label = next(o.label for o in options if o.value == value)
    if value.startswith("past_"):
        return {step.slot: RECALLED_PAST, f"{step.slot}_label": label, RECALLED: int(value[5:])}
    return {step.slot: value, f"{step.slot}_label": label}


def open_again(slots: dict[str, Any], chosen: set[str]) -> list[Choice]:
    """The open next steps of the past conversation in `then`, to take on again with a new
    date, leaving out those already picked."""
    then = slots.get(THEN)
    steps = then.get("steps") if isinstance(then, dict) else None
    options = []
    for step in steps or []:
        value = f"{AGAIN}{step.get('id')}"
        if step.get("status") == "open" and value not in chosen:
            title = step.get("title") or step.get("text") or ""
            options.append(Choice(value, messages.AGAIN_LABEL.format(title=title)))
    return options


def again_pick(slots: dict[str, Any], value: str) -> dict[str, Any] | None:
    """The commitment an open step picked again makes: the step as it was, and its id, so it
    is given a new date rather than added twice."""
    then = slots.get(THEN)
    for step in (then.get("steps") if isinstance(then, dict) else None) or []:
        if f"{AGAIN}{step.get('id')}" == value:
            return {
                "id": step.get("recommendation_id"),
                "title": step.get("title") or step.get("text"),
                "text": step.get("text"),
                "idea": step.get("idea"),
                "source": step.get("source"),
                "step_id": step.get("id"),
            }
    return None


def picked_value(commitment: dict[str, Any]) -> str:
    """The option a commitment was picked by: a recommendation's id, or an open step's."""
    step_id = commitment.get("step_id")
    return f"{AGAIN}{step_id}" if step_id else str(commitment.get("id"))
