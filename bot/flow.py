"""Checks of a dialogue that need its flow, not just its fields: which steps can reach an
end, which slots can have been set when a step speaks or a condition is tested, which names
a template reads, and whether a recommendation's `when:` can ever hold.

Run by the loader after the schema (`bot.schema`) has accepted the file, so every `next`
names a step. Each problem comes with the path of the field it is about (the loader turns it
into file:line:col) and a severity: an error keeps the file from loading, a warning does not.
Every walk is linear in steps and links, except the recommendation check, which tries at
most `MAX_PROFILES` answer profiles per recommendation.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from bot.expressions import Condition, ExpressionError, check_expression, names_in
from bot.schema import (
    BUILTIN_SLOTS,
    NOTED_KINDS,
    SLOT_KINDS,
    THEN,
    ChoiceStep,
    Dialogue,
    ScaleStep,
    Step,
    TextStep,
    targets_of,
)
from bot.slotsets import SlotIndex, SlotSet
from bot.spelling import slot_hint
from bot.templates import template_names

Loc = tuple[str | int, ...]
Severity = Literal["error", "warning"]
#: The most answer profiles tried to see whether a recommendation can ever be selected.
MAX_PROFILES = 4096
#: Names every template may read besides slots: the sandbox's own helpers.
TEMPLATE_GLOBALS = frozenset({"range", "dict", "namespace", "max", "min", "abs", "loop"})
#: Step fields that are templates said when the step is entered, before its answer.
_SPOKEN = ("prompt", "text", "hint", "why", "more_prompt", "insights_heading")
#: What a name question's prompt and a remembered answer's prompt get besides slots.
_SUGGESTION = frozenset({"suggestion"})
_KNOWN = frozenset({"known"})


@dataclass(frozen=True)
class FlowProblem:
    loc: Loc
    severity: Severity
    message: str


def flow_problems(dialogue: Dialogue) -> list[FlowProblem]:
    """Every flow problem of a dialogue the schema accepted, in file order."""
    reachable_steps = reachable(dialogue)
    problems = list(_no_way_out(dialogue, reachable_steps))
    problems.extend(_names_used(dialogue, reachable_steps))
    problems.extend(_unselectable(dialogue))
    return problems


@dataclass(frozen=True)
class WayOut:
    """One way out of a step: the field it is written in, its condition, where it goes."""

    loc: Loc
    label: str
    target: str


def ways_out(step_id: str, step: Step) -> Iterator[WayOut]:
    """Each way out of a step in the order the machine tries them: a choice's own `next`
    (labelled with the slot's value), then `next` (its `when:`, or "otherwise")."""
    where: Loc = ("steps", step_id)
    slot = getattr(step, "slot", None)
    for i, option in enumerate(getattr(step, "choices", None) or []):
        if option.next:
            yield WayOut((*where, "choices", i, "next"), f"{slot} == '{option.value}'", option.next)
    nxt = getattr(step, "next", None)
    if isinstance(nxt, str):
        yield WayOut((*where, "next"), "", nxt)
    elif isinstance(nxt, list):
        for i, branch in enumerate(nxt):
            label = " ".join(branch.when.split()) if branch.when else "otherwise"
            yield WayOut((*where, "next", i), label, branch.to)


def _onward(dialogue: Dialogue, step: Step) -> list[str]:
    """The steps `step` leads to (one that is not there is the schema's to report)."""
    return [target for target in targets_of(step) if target in dialogue.steps]


def reachable(dialogue: Dialogue) -> set[str]:
    """The steps some path from the start reaches."""
    seen: set[str] = set()
    todo = [dialogue.start_step]
    while todo:
        step_id = todo.pop()
        if step_id in seen or step_id not in dialogue.steps:
            continue
        seen.add(step_id)
        todo.extend(_onward(dialogue, dialogue.steps[step_id]))
    return seen


def _no_way_out(dialogue: Dialogue, reachable: set[str]) -> Iterator[FlowProblem]:
    """Steps a conversation can reach but never leave for an end: it would go round for ever
    (questions leading back to each other) with no way to finish."""
    leads_from: dict[str, list[str]] = {step_id: [] for step_id in dialogue.steps}
    for step_id, step in dialogue.steps.items():
        for target in _onward(dialogue, step):
            leads_from[target].append(step_id)
    # A step leading to one that is not there is reported as such; count it as a way out.
    finishing = {
        step_id
        for step_id, step in dialogue.steps.items()
        if step.kind == "end" or len(_onward(dialogue, step)) < len(targets_of(step))
    }
    todo = list(finishing)
    while todo:
        for before in leads_from[todo.pop()]:
            if before not in finishing:
                finishing.add(before)
                todo.append(before)
    for step_id in dialogue.steps:
        if step_id in reachable and step_id not in finishing:
            yield FlowProblem(
                ("steps", step_id),
                "error",
                "no way out: no path from this step reaches an `end` step, so a conversation "
                "here could never finish (lead one of its `next` to an end)",
            )


def _sets(step: Step) -> set[str]:
    """The slots a step fills once answered."""
    filled: set[str] = set()
    if step.kind in SLOT_KINDS:
        slot: str = step.slot  # type: ignore[union-attr]
        filled.add(slot)
        if step.kind in ("choice", "recall"):
            filled.add(f"{slot}_label")
        if step.kind == "choice":
            filled.add(f"{slot}_more")
        if step.kind in NOTED_KINDS or (isinstance(step, TextStep) and step.name is not None):
            filled.add(f"{slot}_note")
    if step.kind == "commit":
        filled |= {"pick", "commitments"}
    return filled


def _may_have_set(dialogue: Dialogue, index: SlotIndex) -> dict[str, SlotSet]:
    """For each step, the slots some path from the start can have filled on entering it."""
    always = set(BUILTIN_SLOTS) | ({THEN} if dialogue.about is not None else set())
    empty = SlotSet(index)
    before: dict[str, SlotSet] = {step_id: empty for step_id in dialogue.steps}
    if dialogue.start_step not in dialogue.steps:
        return before
    before[dialogue.start_step] = index.of(always)
    sets = {step_id: index.of(_sets(step)) for step_id, step in dialogue.steps.items()}
    todo = [dialogue.start_step]
    while todo:  # each step's set only grows, and is bounded by the slots: this ends
        step_id = todo.pop()
        step = dialogue.steps[step_id]
        after = before[step_id] | sets[step_id]
        for target in _onward(dialogue, step):
            if not after <= before[target]:
                before[target] = before[target] | after
                todo.append(target)
    return before


def _condition_names(source: str) -> frozenset[str]:
    try:
        return names_in(source)
    except SyntaxError:  # reported by the schema's own check
        return frozenset()


def _names_used(dialogue: Dialogue, reachable: set[str]) -> Iterator[FlowProblem]:
    """Templates naming what is no slot, and slots read before any path can have set them."""
    slots = dialogue.slot_names()
    index = SlotIndex()
    before = _may_have_set(dialogue, index)
    template = partial(_named_in_template, filled_by=dialogue.step_slots())
    for step_id, step in dialogue.steps.items():
        if step_id not in reachable:
            continue  # reported as unreachable; what it reads is moot
        where: Loc = ("steps", step_id)
        set_here = before[step_id] | _sets(step)
        spoken = set_here if step.kind == "commit" else before[step_id]
        for field in (*_SPOKEN, "due_prompt"):
            value = getattr(step, field, None)
            if isinstance(value, str):
                yield from template((*where, field), value, slots, spoken)
        if isinstance(step, TextStep) and step.name is not None:
            yield from template(
                (*where, "name", "prompt"), step.name.prompt, slots, set_here, _SUGGESTION
            )
        if step.remember is not None and step.remember.prompt is not None:
            yield from template(
                (*where, "remember", "prompt"), step.remember.prompt, slots, set_here, _KNOWN
            )
        for i, ack in enumerate(step.ack):
            if ack.when:
                names = _condition_names(ack.when) & slots
                yield from _read((*where, "ack", i, "when"), names, set_here)
            yield from template((*where, "ack", i, "text"), ack.text, slots, set_here)
        nxt = getattr(step, "next", None)
        for i, branch in enumerate(nxt if isinstance(nxt, list) else []):
            if branch.when:
                names = _condition_names(branch.when) & slots
                yield from _read((*where, "next", i, "when"), names, set_here)
    yield from _advice_names(dialogue, slots, before, reachable, index)


def _advice_names(
    dialogue: Dialogue,
    slots: set[str],
    before: dict[str, SlotSet],
    reachable: set[str],
    index: SlotIndex,
) -> Iterator[FlowProblem]:
    """Recommendations are chosen at recommend and commit steps, insights at summaries with
    `insights: true`: what they read must be settable by then."""
    template = partial(_named_in_template, filled_by=dialogue.step_slots())
    at_advice = SlotSet(index)
    at_summary = SlotSet(index)
    for step_id, step in dialogue.steps.items():
        if step_id not in reachable:
            continue
        if step.kind in ("recommend", "commit"):
            at_advice = at_advice | before[step_id]
        if step.kind == "summary" and getattr(step, "insights", False):
            at_summary = at_summary | before[step_id]
    if at_advice:
        for i, rec in enumerate(dialogue.recommendations):
            for field in ("when", "unless"):
                source = getattr(rec, field)
                if source:
                    names = _condition_names(source) & slots
                    yield from _read(("recommendations", i, field), names, at_advice)
    if at_summary:
        for i, insight in enumerate(dialogue.insights):
            names = _condition_names(insight.when) & slots
            yield from _read(("insights", i, "when"), names, at_summary)
            yield from template(("insights", i, "text"), insight.text, slots, at_summary)
    if dialogue.topic is not None:
        everything = SlotSet(index)
        for step_id, step in dialogue.steps.items():
            everything = everything | before[step_id] | _sets(step)
        yield from template(("topic",), dialogue.topic, slots, everything)
    if dialogue.about is not None:
        yield from template(
            ("about", "none"),
            dialogue.about.none,
            set(),
            SlotSet(index),
            unknown="but `none` is said before anything is asked, with no past conversation, "
            "so there are no slots to name",
        )


def _named_in_template(
    loc: Loc,
    source: str,
    known: set[str],
    set_by_now: SlotSet,
    extras: frozenset[str] = frozenset(),
    unknown: str = "which is not a slot of this dialogue",
    filled_by: Mapping[str, str] | None = None,
) -> Iterator[FlowProblem]:
    """A template's names: each a slot (or one of `extras`, what this field is rendered with
    besides slots, such as `suggestion`), and each settable by the time it is rendered."""
    try:
        names = template_names(source) - TEMPLATE_GLOBALS - extras
    except Exception:  # a template that does not compile is reported by the schema
        return
    for name in sorted(names - known):
        yield FlowProblem(
            loc,
            "error",
            f"the template names '{name}', {unknown}" + slot_hint(name, known, filled_by or {}),
        )
    yield from _read(loc, names & known, set_by_now)


def _read(loc: Loc, names: Iterable[str], set_by_now: SlotSet) -> Iterator[FlowProblem]:
    for name in sorted(set(names) - TEMPLATE_GLOBALS - set_by_now):
        yield FlowProblem(
            loc,
            "error",
            f"'{name}' is read here before any path from the start can have set it (ask its "
            "question earlier, or test it later)",
        )


# -- recommendations no answers can select ----------------------------------------------------


def _domains(dialogue: Dialogue) -> dict[str, list[Any] | None]:
    """Each answer slot's possible values, or None where they cannot be listed (free text,
    dates, several steps of which one has no list)."""
    domains: dict[str, list[Any] | None] = {}
    for step in dialogue.steps.values():
        if step.kind not in SLOT_KINDS:
            continue
        slot: str = step.slot  # type: ignore[union-attr]
        values: list[Any] | None
        if isinstance(step, ChoiceStep) and step.multiple:
            options = [c.value for c in step.choices]
            most = min(step.max or len(options), len(options))
            values = [
                list(pick)
                for n in range(1, most + 1)
                for pick in itertools.combinations(options, n)
            ]
            values = values if len(values) <= MAX_PROFILES else None
        elif isinstance(step, ChoiceStep):
            values = [c.value for c in step.choices]
        elif isinstance(step, ScaleStep):
            values = list(range(step.min, step.max + 1))
        elif step.kind == "yesno":
            values = [True, False]
        else:
            values = None
        if slot in domains:
            known = domains[slot]
            values = None if known is None or values is None else known + values
        domains[slot] = values
    return domains


def _unselectable(dialogue: Dialogue) -> Iterator[FlowProblem]:
    """Recommendations whose `when:` (and not `unless:`) no combination of answers satisfies.

    Only conditions over answers with listed values (choices, ratings, yes/no) are tried;
    one that reads anything else (free text, a past conversation) is taken on trust.
    """
    domains = _domains(dialogue)
    slots = dialogue.slot_names()
    for i, rec in enumerate(dialogue.recommendations):
        if not rec.when:
            continue
        names = sorted(_condition_names(rec.when) | _condition_names(rec.unless or ""))
        lists = [domains.get(name) for name in names]
        if not names or any(values is None for values in lists):
            continue
        count = 1
        for values in lists:
            count *= len(values or [])
        if count > MAX_PROFILES:
            continue
        try:  # a condition that is not sound is reported by the schema, not tried here
            for source in (rec.when, rec.unless):
                if source:
                    check_expression(source, slots)
        except ExpressionError:
            continue
        when = Condition(rec.when)
        unless = Condition(rec.unless) if rec.unless else None
        if not any(
            when(profile) and not (unless and unless(profile))
            for combo in itertools.product(*[values or [] for values in lists])
            for profile in [dict(zip(names, combo, strict=True))]
        ):
            yield FlowProblem(
                ("recommendations", i, "when"),
                "error",
                f"no answers can select this recommendation: its condition is false for every "
                f"one of the {count} combinations of {', '.join(names)}",
            )
