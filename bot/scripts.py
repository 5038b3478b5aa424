"""`coach dialogues test`: conversation scripts run against the real engine, and what they
left untested.

A script file (`dialogues/tests/*.yaml`) names a dialogue and holds tests; each test is a
conversation of turns — what the user says, then what must hold: words the coach said or
did not say, options offered, the step reached, slots set, recommendations and insights
shown or not. Every test runs on its own temporary database with a fake clock (`today:`,
and `wait_days:` before a turn for steps falling due), through `Engine.handle`, exactly as
a channel would drive it. A failure names the script's file:line, the turn, what was
expected and what the coach said. Before any test runs, `check_script` refuses a file that
names what the dialogues do not have (a dialogue, a step, a slot, a recommendation, an
insight), at its file:line:col; `coach dialogues validate` runs the same check.

Coverage is traced, not guessed: the compiler tells `ENTERED` of every state entered, and
the `Trace` kept here is what `bot.coverage` reports from. A test may also start
mid-dialogue (`start:`), waiting at one question with the slots earlier answers would have
set.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from bot.compiler import ENTERED, compile_dialogue
from bot.errors import DialogueError
from bot.loader import Catalog, LoadedDialogue, Loc, located, position, validated_lazily
from bot.schema import Identifier, MessageStep, RecommendStep, Strict, SummaryStep
from bot.spelling import did_you_mean
from bot.steps import CONTEXT_SLOTS, resolve
from bot.templates import render
from bot.turns import Reply, UserInput

#: Where a dialogue folder keeps its scripts.
SCRIPTS_DIR = "tests"
#: The name the scripted user goes by (so the coach does not ask for one).
USER_NAME = "Sam"


class Expect(Strict):
    """What must hold after a turn; every field is optional."""

    contains: list[str] = Field([], description="words the coach said (case-insensitive)")
    not_contains: list[str] = Field([], description="words the coach must not have said")
    choices: list[str] = Field([], description="labels among the options offered")
    step: str | None = Field(None, description="the step the conversation waits at")
    ended: bool | None = Field(None, description="the conversation has finished")
    slots: dict[str, Any] = Field({}, description="slots of the conversation and their values")
    recommendations: list[Identifier] = Field([], description="ids shown in this turn")
    not_recommendations: list[Identifier] = Field([], description="ids not shown this turn")
    insights: list[Identifier] = Field([], description="insight ids said in this turn")
    safety: Identifier | None = Field(
        None, description="the safety category this turn's message raised (`none`: none did)"
    )
    steps: dict[Identifier, dt.date] = Field(
        {}, description="next steps stored by now: recommendation id → due date"
    )


class Turn(Strict):
    """The user says something, or comes back to the chat (`open: true`, where due
    check-ins are asked), after `wait_days`."""

    say: str | None = Field(None, min_length=1, description="what the user types")
    open: bool = Field(False, description="the user comes back to the chat instead")
    wait_days: int = Field(0, ge=0, le=400, description="days that pass before it")
    expect: Expect = Field(default_factory=lambda: Expect.model_validate({}))

    @model_validator(mode="after")
    def _says_or_opens(self) -> Turn:
        if (self.say is None) == (not self.open):
            raise ValueError("give a turn either `say:` or `open: true`")
        return self

    @property
    def shown(self) -> str:
        return self.say if self.say is not None else "(comes back to the chat)"


class Start(Strict):
    """Where a test starts instead of the beginning: waiting at one question of a dialogue
    with the slots earlier answers would have set, so one branch is tested on its own."""

    dialogue: Identifier | None = Field(None, description="the dialogue (default: the file's)")
    at: Identifier = Field(description="the question the conversation waits at")
    slots: dict[str, Any] = Field({}, description="slots already set, by name")


class Script(Strict):
    name: str = Field(min_length=1)
    today: dt.date | None = Field(None, description="the fake clock's first day")
    start: Start | None = Field(None, description="start mid-dialogue, at a question")
    turns: list[Turn] = Field(min_length=1)


class ScriptFile(Strict):
    """dialogues/tests/*.yaml: tests of one dialogue."""

    dialogue: Identifier
    tests: list[Script] = Field(min_length=1)


@dataclass
class Failure:
    where: str
    script: str
    said: str
    problems: list[str]
    reply: str

    def __str__(self) -> str:
        told = "\n".join(f"    {line}" for line in self.reply.splitlines()) or "    (nothing)"
        wrong = "\n".join(f"  - {p}" for p in self.problems)
        return (
            f"{self.where}: FAIL {self.script!r}, after the user said {self.said!r}:\n"
            f"{wrong}\n  the coach said:\n{told}"
        )


@dataclass
class Trace:
    """What scripts exercised, per dialogue id: states entered, links taken between them,
    recommendations shown (on entering a recommend step) and insights said (on entering a
    summary with `insights: true`, the first `max_insights` of them; on entering a message
    that reads `insights`, those whose words it says)."""

    catalog: Catalog
    states: dict[str, set[str]] = field(default_factory=dict)
    links: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    recommended: dict[str, set[str]] = field(default_factory=dict)
    insights: dict[str, set[str]] = field(default_factory=dict)
    #: This turn's recommendations and insights, for a turn's expectations.
    turn_recommended: set[str] = field(default_factory=set)
    turn_insights: set[str] = field(default_factory=set)
    #: Per dialogue id, recommendations and insights a script file says are left unscripted
    #: on purpose (`# uncovered: ID: why`), with why and the comment's `file:line:col`.
    excused: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict)
    #: How many safety events the scripted user had before this turn.
    safety_before: int = 0
    _last: tuple[str, str] | None = None

    def entered(self, dialogue_id: str, state_id: str, slots: dict[str, Any]) -> None:
        self.states.setdefault(dialogue_id, set()).add(state_id)
        if self._last is not None and self._last[0] == dialogue_id:
            self.links.setdefault(dialogue_id, set()).add((self._last[1], state_id))
        self._last = (dialogue_id, state_id)
        loaded = self.catalog.dialogues.get(dialogue_id)
        if loaded is None:
            return
        step = resolve(loaded.dialogue, state_id)[1]
        if isinstance(step, RecommendStep):
            shown = {str(r) for r in slots.get("recommendations") or []}
            self.turn_recommended |= shown
            self.recommended.setdefault(dialogue_id, set()).update(shown)
        applying = [i for i in slots.get("insights") or [] if isinstance(i, dict) and "id" in i]
        if isinstance(step, SummaryStep) and step.insights:
            said = {str(i["id"]) for i in applying[: step.max_insights]}
        elif isinstance(step, MessageStep) and applying:
            # A message that reads `insights` itself (a check-in's one reading): those whose
            # words it says.
            text = render(step.text, slots)
            said = {str(i["id"]) for i in applying if str(i.get("text")) in text}
        else:
            return
        self.turn_insights |= said
        self.insights.setdefault(dialogue_id, set()).update(said)

    def waiting_at(self, dialogue_id: str, state_id: str) -> None:
        """A test starts mid-dialogue at this question: answering it takes its links."""
        self.states.setdefault(dialogue_id, set()).add(state_id)
        self._last = (dialogue_id, state_id)

    def new_conversation(self) -> None:
        """A new test starts: its first state follows nothing."""
        self._last = None

    def new_turn(self) -> None:
        self.turn_recommended = set()
        self.turn_insights = set()


@contextmanager
def tracing(trace: Trace) -> Iterator[Trace]:
    token = ENTERED.set(trace.entered)
    try:
        yield trace
    finally:
        ENTERED.reset(token)


class _Clock:
    def __init__(self, day: dt.date) -> None:
        self.now = dt.datetime.combine(day, dt.time(9, 0), tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def script_files(paths: Sequence[Path], directory: Path) -> list[Path]:
    """The script files named (or in the folders named), else those of `directory`."""
    found: list[Path] = []
    for path in paths or [directory / SCRIPTS_DIR]:
        found.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return found


def load_script(path: Path) -> tuple[ScriptFile, Callable[[], Any]]:
    """The validated script, and a way to its YAML tree with positions (read only when
    asked: most files are fine, and the careful reading costs more than the check)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DialogueError(str(path), [f"{path}: cannot be read ({exc})"]) from None
    return validated_lazily(str(path), text, ScriptFile)


_UNCOVERED = re.compile(r"^\s*# uncovered: ([a-z][a-z0-9_]*): *(\S.*)$", re.MULTILINE)


def _uncovered(path: Path) -> dict[str, tuple[str, str]]:
    """The `# uncovered: ID: why` comments of a script file: a recommendation or insight no
    script shows, why (one a scripted conversation cannot reach, say), and where it says so."""
    text = path.read_text(encoding="utf-8")
    return {
        found[1]: (found[2], f"{path}:{text.count(chr(10), 0, found.start(1)) + 1}:1")
        for found in _UNCOVERED.finditer(text)
    }


def run_file(path: Path, catalog: Catalog, trace: Trace) -> tuple[list[Failure], int]:
    """Run every test of one script file: the failures, each at the line of its turn, and
    how many tests ran. DialogueError, each problem at its file:line:col, when the file is
    not a valid script or names what the dialogues do not have (`check_script`)."""
    from bot.engine import Engine
    from storage.store import Store

    scripts, tree = check_script(path, catalog)
    trace.excused.setdefault(scripts.dialogue, {}).update(_uncovered(path))
    failures: list[Failure] = []
    for i, script in enumerate(scripts.tests):
        trace.new_conversation()
        clock = _Clock(script.today or dt.date(2026, 12, 1))
        with tempfile.TemporaryDirectory(prefix="coach-script-") as folder:
            store = Store(str(Path(folder) / "coach.db"))
            try:
                engine = Engine(store, catalog, clock=clock)
                user = "script:user"
                engine.open(user, name=USER_NAME)
                if script.start is not None:
                    loaded = catalog.dialogues[script.start.dialogue or scripts.dialogue]
                    begin_at(store, loaded, user, script.start, clock.now)
                    trace.waiting_at(loaded.dialogue.id, script.start.at)
                for j, turn in enumerate(script.turns):
                    clock.now += dt.timedelta(days=turn.wait_days, minutes=1)
                    trace.new_turn()
                    trace.safety_before = len(store.safety_events_of(user))
                    with tracing(trace):
                        if turn.say is None:
                            reply = engine.open(user, name=USER_NAME)
                        else:
                            reply = engine.handle(user, UserInput(turn.say))
                    problems = _check(turn.expect, reply, store, user, trace)
                    if problems:
                        line, _ = position(tree(), ("tests", i, "turns", j))
                        failures.append(
                            Failure(f"{path}:{line}", script.name, turn.shown, problems, reply.text)
                        )
                        break  # later turns would fail for the same reason
            finally:
                store.close()
    return failures, len(scripts.tests)


def check_script(path: Path, catalog: Catalog) -> tuple[ScriptFile, Callable[[], Any]]:
    """A script file read and checked against the dialogues it tests, without running it:
    its YAML and keys, the dialogue it names, each `start:` and every name an `expect:` uses
    (a step, a recommendation, an insight, a slot, a safety category). DialogueError with
    every problem at its file:line:col; `coach dialogues validate` and `test` both call it.

    While a dialogue file has errors (so is not loaded), only the YAML and keys are checked:
    the names the script uses may be that dialogue's, and each would be reported."""
    scripts, tree = load_script(path)
    if catalog.problems:
        return scripts, tree
    if scripts.dialogue not in catalog.dialogues:
        told = f"no dialogue '{scripts.dialogue}' is loaded" + (
            did_you_mean(scripts.dialogue, catalog.dialogues)
            or f" (loaded: {', '.join(sorted(catalog.dialogues)) or 'none'})"
        )
        problems: list[tuple[Loc, str]] = [(("dialogue",), told)]
    else:
        problems = start_problems(scripts, catalog)
    problems += expect_problems(scripts, catalog)
    if problems:
        root = tree()
        raise DialogueError(str(path), [located(str(path), root, *p) for p in problems])
    return scripts, tree


@dataclass
class _Names:
    """What an expectation may name: across every loaded dialogue, since a conversation may
    go on into another (`next_dialogue`, a check-in when the user comes back)."""

    questions: set[str] = field(default_factory=set)
    steps: set[str] = field(default_factory=set)
    recommendations: set[str] = field(default_factory=set)
    insights: set[str] = field(default_factory=set)
    slots: set[str] = field(default_factory=lambda: set(CONTEXT_SLOTS))
    safety: set[str] | None = None

    @classmethod
    def of(cls, catalog: Catalog) -> _Names:
        names = cls()
        for loaded in catalog.dialogues.values():
            compiled = compile_dialogue(loaded)
            states = set(compiled.machine_class.states_map)
            names.steps |= states
            names.questions |= {s for s in states if compiled.waits_at(s)}
            names.recommendations |= {r.id for r in loaded.dialogue.recommendations}
            names.insights |= {i.id for i in loaded.dialogue.insights}
            names.slots |= loaded.dialogue.slot_names()
        if catalog.safety is not None:
            names.safety = {c.id for c in catalog.safety.categories} | {"none"}
        return names


def expect_problems(scripts: ScriptFile, catalog: Catalog) -> list[tuple[Loc, str]]:
    """Every name an `expect:` uses is one the dialogues have: otherwise the expectation
    could never hold, and the test would fail only when run, far from the typo. Each
    problem with the path of its field in the file."""
    names = _Names.of(catalog)
    problems: list[tuple[Loc, str]] = []

    def unknown(loc: Loc, told: str, name: str, known: set[str]) -> None:
        problems.append((loc, told + did_you_mean(name, known)))

    for i, script in enumerate(scripts.tests):
        for j, turn in enumerate(script.turns):
            here: Loc = ("tests", i, "turns", j, "expect")
            expect = turn.expect
            if expect.step is not None and expect.step not in names.questions:
                if expect.step in names.steps:
                    problems.append(
                        (
                            (*here, "step"),
                            f"'{expect.step}' asks nothing, so a conversation never waits "
                            "there; expect a question, or `ended: true`",
                        )
                    )
                else:
                    told = f"no dialogue has a step '{expect.step}'"
                    unknown((*here, "step"), told, expect.step, names.questions)
            for key in ("recommendations", "not_recommendations"):
                for k, rec in enumerate(getattr(expect, key)):
                    if rec not in names.recommendations:
                        told = f"no recommendation is called '{rec}'"
                        unknown((*here, key, k), told, rec, names.recommendations)
            for rec in expect.steps:
                if rec not in names.recommendations:
                    told = f"no recommendation is called '{rec}', so it is never a next step"
                    unknown((*here, "steps", rec), told, rec, names.recommendations)
            for k, insight in enumerate(expect.insights):
                if insight not in names.insights:
                    told = f"no insight is called '{insight}'"
                    unknown((*here, "insights", k), told, insight, names.insights)
            for slot in expect.slots:
                if slot not in names.slots:
                    told = f"no dialogue has a slot '{slot}'"
                    unknown((*here, "slots", slot), told, slot, names.slots)
            if names.safety is not None and expect.safety not in {None, *names.safety}:
                told = (
                    f"no safety category is called '{expect.safety}' "
                    f"(the categories: {', '.join(sorted(names.safety))})"
                )
                problems.append(((*here, "safety"), told))
    return problems


def start_problems(scripts: ScriptFile, catalog: Catalog) -> list[tuple[Loc, str]]:
    """Each test's `start:` names a loaded dialogue, a question of it (a step that waits for
    an answer), and slots it has: anything else, with the path of its field."""
    problems: list[tuple[Loc, str]] = []
    for i, script in enumerate(scripts.tests):
        start = script.start
        if start is None:
            continue
        here: Loc = ("tests", i, "start")
        dialogue_id = start.dialogue or scripts.dialogue
        loaded = catalog.dialogues.get(dialogue_id)
        if loaded is None:
            told = f"no dialogue '{dialogue_id}' is loaded" + did_you_mean(
                dialogue_id, catalog.dialogues
            )
            problems.append(((*here, "dialogue"), told))
            continue
        compiled = compile_dialogue(loaded)
        if not compiled.waits_at(start.at):
            questions = [s for s in compiled.machine_class.states_map if compiled.waits_at(s)]
            told = (
                f"'{start.at}' asks nothing, so a conversation cannot wait there; start at a "
                f"question: {', '.join(questions)}"
                if compiled.knows_state(start.at)
                else f"{dialogue_id} has no step '{start.at}'" + did_you_mean(start.at, questions)
            )
            problems.append(((*here, "at"), told))
        known = loaded.dialogue.slot_names() | CONTEXT_SLOTS
        for name in start.slots:
            if name not in known:
                told = f"'{name}' is not a slot of {dialogue_id}" + did_you_mean(name, known)
                problems.append(((*here, "slots", name), told))
    return problems


def begin_at(store: Any, loaded: LoadedDialogue, user: str, start: Start, now: dt.datetime) -> None:
    """Store a conversation waiting at `start.at` with `start.slots`, as if the user had got
    there by answering: the next turn answers that question through the real engine."""
    from bot.engine import pinning
    from storage.rows import ConversationRow

    at = now.isoformat()
    pinning.keep(store, loaded, at)  # it runs on this version, as any conversation does
    slots = {"dialogue_title": loaded.dialogue.title, "today": now.date().isoformat()}
    row = ConversationRow(
        id=0,
        user_id=user,
        dialogue=loaded.dialogue.id,
        dialogue_version=loaded.dialogue.version,
        dialogue_digest=loaded.digest,
        state=start.at,
        status="active",
        pending=None,
        slots={**slots, **start.slots},
        history=[],
        turn=0,
        follow_up_of=None,
        started_at=at,
        updated_at=at,
    )
    store.create_conversation(row)


def _check(expect: Expect, reply: Reply, store: Any, user: str, trace: Trace) -> list[str]:
    said = reply.text
    lower = said.lower()
    problems = [
        f"expected the reply to contain {w!r}" for w in expect.contains if w.lower() not in lower
    ]
    problems += [
        f"expected no {w!r} in the reply" for w in expect.not_contains if w.lower() in lower
    ]
    offered = [c.label for c in reply.awaits.choices]
    problems += [
        f"expected the option {label!r} (offered: {offered})"
        for label in expect.choices
        if label not in offered
    ]
    row = store.current_conversation(user)
    if row is None:
        ended = store.conversations_of(user)
        row_slots = ended[0].slots if ended else {}
        state = None
    else:
        row_slots, state = row.slots, row.state
    if expect.step is not None and state != expect.step:
        problems.append(f"expected to wait at step {expect.step!r}, but it is at {state!r}")
    if expect.ended is not None and (row is None) != expect.ended:
        problems.append(
            "expected the conversation to " + ("have ended" if expect.ended else "go on")
        )
    for slot, value in expect.slots.items():
        if row_slots.get(slot) != value:
            problems.append(f"expected slot {slot} = {value!r}, found {row_slots.get(slot)!r}")
    shown = trace.turn_recommended
    problems += [
        f"expected recommendation {r!r} (shown: {sorted(shown)})"
        for r in expect.recommendations
        if r not in shown
    ]
    problems += [
        f"recommendation {r!r} was shown" for r in expect.not_recommendations if r in shown
    ]
    problems += [
        f"expected insight {r!r} (said: {sorted(trace.turn_insights)})"
        for r in expect.insights
        if r not in trace.turn_insights
    ]
    return problems + _stored(expect, store, user, trace)


def _stored(expect: Expect, store: Any, user: str, trace: Trace) -> list[str]:
    """What the turn left in the store: safety events raised, next steps with their dates."""
    problems: list[str] = []
    if expect.safety is not None:
        raised = [e["category"] for e in store.safety_events_of(user)[trace.safety_before :]]
        wanted = [] if expect.safety == "none" else [expect.safety]
        if raised != wanted:
            problems.append(f"expected safety {wanted or 'none'}, raised {raised or 'none'}")
    if expect.steps:
        stored = {s.recommendation_id: s.due_date for s in store.next_steps_of(user)}
        for rec, due in expect.steps.items():
            if stored.get(rec) != due.isoformat():
                problems.append(
                    f"expected next step {rec!r} due {due.isoformat()}, stored: {stored or 'none'}"
                )
    return problems
