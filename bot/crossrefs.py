"""Problems only the whole catalog can see, each with the path of the field it is about (for
file:line:col): a dialogue `about:` one that is not loaded, a `then.<field>` that dialogue
has no slot for, an end step's `next_dialogue` that is not there.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from bot.expressions import fields_read
from bot.flow import TEMPLATE_GLOBALS
from bot.schema import RECORD_FIELDS, THEN, Dialogue, EndStep
from bot.spelling import did_you_mean
from bot.templates import fields_used, template_names

Loc = tuple[str | int, ...]
#: Step fields that are templates.
_TEMPLATE_FIELDS = (
    "prompt",
    "text",
    "hint",
    "why",
    "due_prompt",
    "more_prompt",
    "insights_heading",
)


def catalog_problems(dialogue: Dialogue, loaded: Mapping[str, Dialogue]) -> list[tuple[Loc, str]]:
    """What stops `dialogue` from working beside the other dialogues `loaded` (by id)."""
    problems: list[tuple[Loc, str]] = []
    known = ", ".join(sorted(loaded)) or "none"
    for step_id, step in dialogue.steps.items():
        following = step.next_dialogue if isinstance(step, EndStep) else None
        if following is not None and following not in loaded:
            problems.append(
                (
                    ("steps", step_id, "next_dialogue"),
                    f"no dialogue '{following}' is loaded (loaded: {known})",
                )
            )
    if dialogue.about is None:
        return problems
    past = loaded.get(dialogue.about.dialogue)
    if past is None:
        problems.append(
            (
                ("about", "dialogue"),
                f"no dialogue '{dialogue.about.dialogue}' is loaded (loaded: {known})",
            )
        )
        return problems
    fields = past.slot_names() | RECORD_FIELDS
    problems.extend(_label_problems(dialogue.about.label, past))
    for loc, source, is_condition in _sources(dialogue):
        try:
            used = fields_read(source, THEN) if is_condition else fields_used(source, THEN)
        except Exception:  # a broken one is reported by the file's own checks
            continue
        for field in sorted(used - fields):
            problems.append(
                (
                    loc,
                    f"`then.{field}`: '{past.id}' has no slot '{field}' (nor is it a field "
                    f"of every past conversation: {', '.join(sorted(RECORD_FIELDS))})",
                )
            )
    return problems


def _label_problems(label: str, past: Dialogue) -> Iterator[tuple[Loc, str]]:
    """`about.label` is worded from each past conversation's own slots and its `date` (not
    from this dialogue's, which has not started yet): any other name renders as nothing."""
    known = past.slot_names() | {"date"}
    try:
        names = template_names(label) - TEMPLATE_GLOBALS
    except Exception:  # a broken one is reported by the file's own checks
        return
    for name in sorted(names - known):
        yield (
            ("about", "label"),
            f"the template names '{name}', which is no slot of a past '{past.id}' conversation "
            "(a label is worded from its slots and `date`)" + did_you_mean(name, known),
        )


def _sources(dialogue: Dialogue) -> Iterator[tuple[Loc, str, bool]]:
    """Every template and condition of a dialogue: (field path, source, is a condition)."""
    for step_id, step in dialogue.steps.items():
        where: Loc = ("steps", step_id)
        for field in _TEMPLATE_FIELDS:
            value = getattr(step, field, None)
            if isinstance(value, str):
                yield (*where, field), value, False
        name = getattr(step, "name", None)
        if name is not None:
            yield (*where, "name", "prompt"), name.prompt, False
        for i, ack in enumerate(step.ack):
            if ack.when:
                yield (*where, "ack", i, "when"), ack.when, True
            yield (*where, "ack", i, "text"), ack.text, False
        nxt = getattr(step, "next", None)
        if isinstance(nxt, list):
            for i, branch in enumerate(nxt):
                if branch.when:
                    yield (*where, "next", i, "when"), branch.when, True
    for i, rec in enumerate(dialogue.recommendations):
        for field in ("when", "unless"):
            value = getattr(rec, field)
            if value:
                yield ("recommendations", i, field), value, True
    for i, insight in enumerate(dialogue.insights):
        yield ("insights", i, "when"), insight.when, True
        yield ("insights", i, "text"), insight.text, False
