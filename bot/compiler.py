"""Turns a validated dialogue into a python-statemachine class, once per dialogue version.

Each step becomes a state; `next` branches become guarded `answer` transitions (or `proceed`
ones for steps that ask nothing, sent at once after entering them); `back` and `restart` are
transitions too, so the machine, not a side table, decides where a conversation can go.
Classes are cached by dialogue id, version and file digest: building one is far costlier
than a turn.

The library is python-statemachine 2.6 on purpose: its `send` costs about a third of 3.x's
SCXML-style event loop, which alone cost as much as the durable commit of a turn (see the
README's benchmark section). Classes are built through the library's own metaclass and
`State.to`, the same way a hand-written machine class is.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from statemachine import State, StateMachine
from statemachine.exceptions import InvalidDefinition
from statemachine.factory import StateMachineMetaclass

from bot.errors import DialogueError, DialogueLoop
from bot.expressions import Condition
from bot.loader import LoadedDialogue
from bot.schema import (
    ChoiceStep,
    CommitStep,
    Dialogue,
    Next,
    RecallStep,
    Step,
    TextStep,
    targets_of,
)
from bot.session import Session
from bot.steps import (
    DUE_SUFFIX,
    NAME_SUFFIX,
    NOTE_SUFFIX,
    StepRunner,
    is_asking,
    resolve,
    state_ids_of,
)

Guard = Callable[[Session], bool]

#: The event sent on entering a step that asks nothing (a message, a summary), to move on.
PROCEED = "proceed"
#: More steps than any real dialogue passes through in one turn without asking anything: a
#: bound, so a looping file (reached by a reload) ends its own turn instead of holding the
#: store and every other user.
MAX_STEPS_PER_TURN = 200


def _guard(label: str, test: Guard) -> Guard:
    """A guard labelled with what diagrams show on its transition (the admin's condition).

    Its `__name__` has a space in it on purpose: python-statemachine looks a callback's name
    up on the model and the machine, and a bare slot name like `point_coming` would find the
    state of that name instead.
    """

    def guard(model: Session) -> bool:
        return test(model)

    guard.__name__ = guard.__qualname__ = f"when {label}"
    guard.label = label  # type: ignore[attr-defined]
    return guard


def _slot_is(slot: str, value: str) -> Guard:
    return lambda model: model.slots.get(slot) == value


def _room_for_more(most: int) -> Guard:
    return lambda model: len(model.slots.get("commitments") or []) < most


def _kept_a_long_answer(note: str) -> Guard:
    # A remembered answer kept as it was ("still them?" "yes") needs no new short name.
    return lambda model: bool(model.slots.get(note)) and not model.known


def _going_back_to(state_id: str) -> Guard:
    return lambda model: model.back_target == state_id


def _slots_guard(source: str) -> Guard:
    condition = Condition(source)
    return _guard(source, lambda model: condition(model.slots))


def _branches(nxt: Next | None) -> list[dict[str, Any]]:
    if nxt is None:
        return []
    if isinstance(nxt, str):
        return [{"target": nxt}]
    out: list[dict[str, Any]] = []
    for branch in nxt:
        transition: dict[str, Any] = {"target": branch.to}
        if branch.when:
            transition["cond"] = _slots_guard(branch.when)
        out.append(transition)
    return out


#: What is told of every state entered, when set: (dialogue id, state id, the slots after
#: entering). `coach dialogues test` sets it to see which steps, links, recommendations and
#: insights its scripts exercised; a running coach leaves it unset. A context variable, so
#: it is seen only by the thread (and the run) that set it.
ENTERED: ContextVar[Callable[[str, str, dict[str, Any]], None] | None] = ContextVar(
    "entered", default=None
)


class CompiledDialogue:
    """A dialogue ready to run: its machine class, its step runner and its question graph."""

    def __init__(self, loaded: LoadedDialogue) -> None:
        self.loaded = loaded
        self.dialogue: Dialogue = loaded.dialogue
        self.runner = StepRunner(self.dialogue)
        #: Questions taken without asking when their answer is remembered (`ask: false`).
        self.silent_states = frozenset(
            step_id
            for step_id, step in self.dialogue.steps.items()
            if step.remember is not None and not step.remember.ask
        )
        self.class_name = re.sub(
            r"\W", "_", f"Dialogue_{self.dialogue.id}_v{self.dialogue.version}_{loaded.digest}"
        )
        definition = self._definition()
        # The factory mutates what it is given: hand it a copy, keep ours for inspection.
        self.definition = definition
        self.machine_class: type[StateMachine] = _machine_class(
            self.class_name, copy.deepcopy(definition)
        )
        #: States of steps that ask nothing: the machine moves on from them by itself.
        self.passing_states = frozenset(
            state_id
            for state_id, spec in definition.items()
            if PROCEED in spec.get("on", {}) and state_id not in self.silent_states
        )

    @property
    def start_state(self) -> str:
        return self.dialogue.start_step

    # -- building ----------------------------------------------------------------------

    def _answer_transitions(self, step_id: str, step: Step) -> dict[str, list[dict[str, Any]]]:
        """The `answer` event of an asking state: per-choice targets first, then `next`."""
        nxt = getattr(step, "next", None)
        if isinstance(step, (ChoiceStep, RecallStep)):
            transitions = [
                {
                    "target": c.next,
                    "cond": _guard(f"{step.slot} == '{c.value}'", _slot_is(step.slot, c.value)),
                }
                for c in step.choices
                if c.next
            ]
            return {step_id: transitions + _branches(nxt)}
        if isinstance(step, CommitStep):
            due = step_id + DUE_SUFFIX
            picked = _guard("picked a step", lambda m: bool(m.slots.get("pick")))
            room = _guard(f"fewer than {step.max} steps", _room_for_more(step.max))
            return {
                step_id: [{"target": due, "cond": picked}, *_branches(nxt)],
                # Steps picked together get their dates one after another.
                due: [
                    {"target": due, "cond": picked},
                    {"target": step_id, "cond": room},
                    *_branches(nxt),
                ],
            }
        if isinstance(step, TextStep) and step.name is not None:
            # A long answer was kept as the note: ask for a short name before moving on.
            named = step_id + NAME_SUFFIX
            note = f"{step.slot}{NOTE_SUFFIX}"
            long = _guard(f"more than {step.name.max_words} words", _kept_a_long_answer(note))
            return {
                step_id: [{"target": named, "cond": long}, *_branches(nxt)],
                named: _branches(nxt),
            }
        return {step_id: _branches(nxt)}

    def _definition(self) -> dict[str, dict[str, Any]]:
        states: dict[str, dict[str, Any]] = {}
        start = self.start_state
        for step_id, step in self.dialogue.steps.items():
            for state_id in state_ids_of(step_id, step):
                title = step.title or step_id.replace("_", " ")
                if state_id.endswith(DUE_SUFFIX):
                    title = f"{title} (date)"
                elif state_id.endswith(NAME_SUFFIX):
                    title = f"{title} (short name)"
                states[state_id] = {"name": title, "on": {}}
                if state_id == start:
                    states[state_id]["initial"] = True
                if step.kind == "end":
                    states[state_id]["final"] = True
                    states[state_id].pop("on")
            if is_asking(step):
                for state_id, transitions in self._answer_transitions(step_id, step).items():
                    states[state_id]["on"]["answer"] = transitions
                if step_id in self.silent_states:
                    # Its answer remembered, it is taken without asking: on as if answered.
                    states[step_id]["on"][PROCEED] = states[step_id]["on"]["answer"]
            elif step.kind != "end" and (onward := _branches(getattr(step, "next", None))):
                states[step_id]["on"][PROCEED] = onward
        for state_id, preds in self.question_predecessors().items():
            if preds:
                states[state_id]["on"]["back"] = [
                    {
                        "target": p,
                        "cond": _guard(f"back to {p}", _going_back_to(p)),
                    }
                    for p in sorted(preds)
                ]
        for state in states.values():
            if not state.get("final") and "answer" in state.get("on", {}):
                state["on"]["restart"] = [{"target": start}]
        for state in states.values():
            if state.get("on") == {}:
                state.pop("on")
        return states

    # -- the question graph ---------------------------------------------------------------

    def state_ids(self) -> list[str]:
        ids: list[str] = []
        for step_id, step in self.dialogue.steps.items():
            ids.extend(state_ids_of(step_id, step))
        return ids

    def _successors(self, state_id: str) -> list[str]:
        _, step, phase = resolve(self.dialogue, state_id)
        if isinstance(step, CommitStep):
            other = state_id.removesuffix(DUE_SUFFIX) if phase else state_id + DUE_SUFFIX
            # A date leads to the next date when steps were picked together.
            again = [state_id] if phase else []
            return [*again, other, *targets_of(step)]
        if isinstance(step, TextStep) and step.name is not None and not phase:
            return [state_id + NAME_SUFFIX, *targets_of(step)]
        return targets_of(step)

    def question_predecessors(self) -> dict[str, set[str]]:
        """For each asking state, the asking states whose answer can lead straight to it.

        Steps that ask nothing (messages, summaries) are passed through, so `back` always
        lands on the last question answered.
        """
        preds: dict[str, set[str]] = {s: set() for s in self.state_ids()}
        for source in self.state_ids():
            if not is_asking(resolve(self.dialogue, source)[1]):
                continue
            seen: set[str] = set()
            todo = list(self._successors(source))
            while todo:
                target = todo.pop()
                if target in seen:
                    continue
                seen.add(target)
                if is_asking(resolve(self.dialogue, target)[1]):
                    preds[target].add(source)
                    if target in self.silent_states:  # it may have been passed unasked
                        todo.extend(self._successors(target))
                else:
                    todo.extend(self._successors(target))
        return preds

    # -- machines -------------------------------------------------------------------------

    def knows_state(self, state_id: str | None) -> bool:
        return state_id is not None and state_id in self.machine_class.states_map

    def waits_at(self, state_id: str | None) -> bool:
        """Whether a stored conversation can carry on at this state: a question still there.

        After an edit, a state of that name may have become a message or an end; the
        conversation cannot answer it, so it has to be set aside.
        """
        if state_id is None or not self.knows_state(state_id):
            return False
        return is_asking(resolve(self.dialogue, state_id)[1])

    def start(self, session: Session) -> StateMachine:
        """A new machine at the start: entering the first state says its words."""
        session.state = None
        machine = self.machine_class(model=session)
        self._say(self.start_state, session)
        self._move_on(machine)
        return machine

    def send(self, machine: StateMachine, event: str) -> None:
        """Send `answer`, `back` or `restart`, then pass through steps that ask nothing.

        Raises TransitionNotAllowed when no transition of the event is allowed.
        """
        self._fire(machine, event)
        self._move_on(machine)

    def _fire(self, machine: StateMachine, event: str) -> None:
        """Take the event's transition, then say the step it entered.

        Every transition here enters its target (none is internal) and nothing runs after
        entering, so saying the step once `send` returns is what an entry callback would do.
        Done here rather than as the library's entry callback: the library calls each
        callback through a signature adapter that binds its nine keyword arguments, about
        4 µs a send, as much as the step's own work. The event is fired through the
        machine's bound event, which `StateMachine.send` looks up too (after building a
        spare one as the default of its `getattr`); an event no state of this dialogue has
        goes through `send`, which raises TransitionNotAllowed.
        """
        bound = getattr(machine, event, None)
        if bound is None:
            machine.send(event)
        else:
            bound()
        self._say(machine.current_state_value, machine.model)  # type: ignore[arg-type]

    def _say(self, state_id: str, session: Session) -> None:
        """Say the step just entered, and tell `ENTERED` of it when a script run is tracing."""
        self.runner.enter(state_id, session)
        told = ENTERED.get()
        if told is not None:
            told(self.dialogue.id, state_id, session.slots)

    def _move_on(self, machine: StateMachine) -> None:
        model: Session = machine.model  # type: ignore[assignment]
        passed = 0
        while machine.current_state_value in self.passing_states or model.skip:
            passed += 1
            if passed > MAX_STEPS_PER_TURN:  # a loop of steps that ask nothing: end the turn
                raise DialogueLoop(self.dialogue.id, machine.current_state_value, passed - 1)
            model.skip = False
            self._fire(machine, PROCEED)

    def restore(self, session: Session) -> StateMachine:
        """A machine at the session's stored state, without saying its step again."""
        if not self.knows_state(session.state):
            raise KeyError(session.state)
        return self.machine_class(model=session)


class _State(State):
    """A state hashed by its id, not by its repr.

    python-statemachine 2.6 hashes a state by formatting its repr (five fields), and looks
    the current state up in a dict by it twice each time it is read, about 1.3 µs a read
    (0.35 µs by id); a turn reads it a few times. The id is what the library's `__eq__`
    compares (with the name), so equal states still hash alike.
    """

    def __hash__(self) -> int:
        return hash(self._id)


class _Factory(StateMachineMetaclass):
    """python-statemachine's class factory without its check that every state can reach a
    final one: it walks the graph from every state (quadratic: 10 s for 1,000 steps), and
    the flow checks (`bot.flow`, "no way out") already refuse such a file in linear time."""

    def _check_reachable_final_states(cls) -> None:
        return None


def _machine_class(name: str, definition: dict[str, dict[str, Any]]) -> type[StateMachine]:
    """A StateMachine subclass with one state per entry and its `on` transitions."""
    states = {
        state_id: _State(
            spec["name"],
            initial=spec.get("initial", False),
            final=spec.get("final", False),
        )
        for state_id, spec in definition.items()
    }
    for state_id, spec in definition.items():
        for event, transitions in spec.get("on", {}).items():
            for t in transitions:
                states[state_id].to(states[t["target"]], event=event, cond=t.get("cond"))
    attrs: dict[str, Any] = {**states, "allow_event_without_transition": False}
    return _Factory(name, (StateMachine,), attrs)  # type: ignore[return-value]


_CACHE: dict[tuple[str, int, str], CompiledDialogue] = {}


def compile_dialogue(loaded: LoadedDialogue) -> CompiledDialogue:
    """The compiled dialogue for this exact file version, built once and then reused."""
    key = (loaded.dialogue.id, loaded.dialogue.version, loaded.digest)
    compiled = _CACHE.get(key)
    if compiled is None:
        try:
            compiled = _CACHE[key] = CompiledDialogue(loaded)
        except InvalidDefinition as exc:  # validation should have said why; never a traceback
            raise DialogueError(
                loaded.path, [f"{loaded.path}:1:1: the steps cannot be run: {exc}"]
            ) from None
    return compiled
