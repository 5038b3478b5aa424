"""What a dialogue file is: the pydantic models every YAML file in `dialogues/` must fit.

Kept in `bot/` beside the compiler that consumes them, so `dialogues/` holds only what admins
edit; `coach dialogues schema` exports these models to `dialogues/schema.json` for editors.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from statemachine import StateMachine

from bot.expressions import ExpressionError, check_expression
from bot.safety_patterns import PatternError, parse
from bot.spelling import did_you_mean
from bot.templates import TemplateProblem, check_template

#: Each step becomes a state and an event of a python-statemachine class, so a step may not
#: take a name the class already has (`send`, `model`, `current_state`, …): it would replace
#: the library's own and break every conversation. `proceed` is the engine's own event.
#: Far more than any real dialogue (the largest shipped one has about 100).
MAX_STEPS = 1_000
RESERVED_STEP_IDS = frozenset(
    {name for name in dir(StateMachine) if not name.startswith("_")}
    | {"model", "state_field", "start_value", "allow_event_without_transition", "proceed"}
)

Identifier = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        max_length=60,
        description="lower_case letters, digits and underscores, starting with a letter",
    ),
]

#: Slots the engine fills itself; conditions and templates may use them in any dialogue.
#: A follow-up (a check-in) also gets `open_steps` (the user's other open next steps) and
#: `recent_outcomes` (how their latest check-ins went, most recent first).
BUILTIN_SLOTS: frozenset[str] = frozenset(
    {
        "today",
        "recommendations",
        "commitments",
        "step",
        "dialogue_title",
        "insights",
        "opening",
        "open_steps",
        "recent_outcomes",
    }
)
#: The slot a dialogue with `about:` finds the past conversation it looks back on in.
THEN = "then"
#: Fields of `then` besides the past conversation's own slots.
RECORD_FIELDS: frozenset[str] = frozenset({"id", "dialogue", "date", "steps"})
#: What a `recall` step stores when a past conversation was picked (not one of its choices).
RECALLED_PAST = "past"
#: The statuses a follow-up records on a next step (the test-and-learn loop).
OUTCOME_STATUSES: tuple[str, ...] = ("done", "partly", "not_yet", "dropped")
#: The status that records nothing: the step's check-in is asked again tomorrow ("later").
PUT_OFF = "later"


class Strict(BaseModel):
    """Unknown keys are errors: a misspelt `promt:` must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Branch(Strict):
    """One way out of a step: go `to` a step when the condition holds (no `when` = otherwise)."""

    when: str | None = Field(None, description="condition over slots; omit for the default")
    to: Identifier = Field(description="id of the step to go to")


Next = Identifier | list[Branch]


class Ack(Strict):
    """A short acknowledgement said after an answer is accepted, before the next question."""

    when: str | None = Field(
        None,
        description="condition over slots; an ack whose condition names the step's own slot "
        "answers what was picked, any other only follows an answer of six words or more",
    )
    text: str = Field(min_length=1, description="template over the slots")


class Remember(Strict):
    """An answer the coach keeps and, next time, offers back instead of asking again.

    Offered as `prompt` with two answers, `yes` (it still holds) and `change` (ask the
    question); an answer to the question itself is taken as a change too.
    """

    scope: Literal["person", "situation"] = Field(
        description="person: about them (their role), offered in any later conversation; "
        "situation: offered when they carry on the situation of their last finished "
        "conversation of this dialogue (a change there asks the rest of it afresh)"
    )
    prompt: str | None = Field(
        None,
        description="asks whether it still holds: a template over the slots, the remembered "
        "answer in its own slots, and `known.date`, the day of the conversation it comes from",
    )
    yes: str = Field("Yes, still", min_length=1, max_length=75, description="it still holds")
    change: str = Field("It's changed", min_length=1, max_length=75, description="ask again")
    ask: bool = Field(
        True,
        description="false: taken without asking while the situation carries on (a detail "
        "such as what kind of party they are); situation scope only",
    )


class StepBase(Strict):
    title: str | None = Field(None, description="short name shown in summaries and diagrams")
    source: str | None = Field(None, description="where the idea behind this step comes from")
    why: str | None = Field(
        None,
        description='questions: why the coach asks this, said when the user asks ("why do you '
        'need to know that?"); the `hint` is said where there is none',
    )
    ack: list[Ack] = Field(
        [],
        description="asking steps with a slot: acknowledgements tried in order after an "
        "answer; the first whose `when` holds is said, never the same sentence twice in a row",
    )
    remember: Remember | None = Field(
        None, description="questions with a slot: keep the answer and offer it back next time"
    )


class MessageStep(StepBase):
    """Say something, then move straight on."""

    kind: Literal["message"]
    text: str
    next: Next


class NameRule(Strict):
    """Ask for a short name when the answer is long: the whole answer goes into `<slot>_note`."""

    max_words: int = Field(5, ge=1, le=12, description="answers longer than this get a name")
    prompt: str = Field(
        description="asks for the short name; `{{ suggestion }}` is the one the coach suggests"
    )


class TextStep(StepBase):
    """Ask an open question; the answer goes into `slot`."""

    kind: Literal["text"]
    prompt: str
    slot: Identifier
    hint: str | None = Field(None, description="shown when the user asks for help here")
    name: NameRule | None = Field(
        None,
        description="the answer names someone: keep a long answer as `<slot>_note` and ask "
        'for a short name ("yes" takes the one suggested) to put in `slot`',
    )
    prefill: Identifier | list[Identifier] | None = Field(
        None,
        description="a slot (or several, the first with words wins) whose words, when set, "
        "this question offers back (write them into the prompt): a 'yes' or 'that's it' takes "
        "them as the answer; anything else is the answer. `opening` holds what the user wrote "
        "at the menu that led here; `<slot>_more` what a choice answer told beyond its option "
        "(\"I'm a councillor and the director won't share the figures\").",
    )

    def prefill_slots(self) -> list[str]:
        """The slots `prefill` names, in order."""
        if self.prefill is None:
            return []
        return [self.prefill] if isinstance(self.prefill, str) else list(self.prefill)

    next: Next


Phrase = Annotated[str, Field(min_length=1, max_length=60)]


class ChoiceOption(Strict):
    value: Identifier
    label: str = Field(min_length=1, max_length=75)
    also: list[Phrase] = Field(
        [],
        description="other words people use for this option (money, funding, budget → "
        "resources); each picks it wherever it appears in an answer",
    )
    alone: bool = Field(
        False,
        description="on a `multiple` step, an answer that stands alone (Nobody yet, Not sure): "
        "dropped when other options are named too, and not part of 'all of them'",
    )
    next: Identifier | None = Field(None, description="step to go to when this is picked")


class ChoiceStep(StepBase):
    """Offer options; the picked option's value goes into `slot`, its label into `slot_label`.

    With `multiple: true` the user may pick several ("1 and 3", "money and position"): the
    slot holds a list of values and `slot_label` the labels joined ("A, b and c").
    """

    kind: Literal["choice"]
    prompt: str
    slot: Identifier
    hint: str | None = None
    choices: list[ChoiceOption] = Field(min_length=2, max_length=12)
    multiple: bool = Field(False, description="accept several options; the slot holds a list")
    max: int | None = Field(
        None, ge=1, description="with `multiple`, the most options one answer may pick"
    )
    next: Next | None = Field(None, description="required unless every choice has its own next")

    @model_validator(mode="after")
    def _every_choice_leads_somewhere(self) -> ChoiceStep:
        values = [c.value for c in self.choices]
        if len(set(values)) != len(values):
            raise ValueError("two choices share the same value")
        if self.next is None and any(c.next is None for c in self.choices):
            raise ValueError("give the step a `next`, or every choice its own `next`")
        return self


class ScaleStep(StepBase):
    """Ask for a rating from `min` to `max`; the number goes into `slot`."""

    kind: Literal["scale"]
    prompt: str
    slot: Identifier
    hint: str | None = None
    min: int = Field(1, ge=0, le=10)
    max: int = Field(5, ge=1, le=10)
    min_label: str | None = None
    max_label: str | None = None
    next: Next

    @model_validator(mode="after")
    def _range(self) -> ScaleStep:
        if self.max <= self.min:
            raise ValueError("`max` must be greater than `min`")
        return self


class YesNoStep(StepBase):
    """Ask a yes/no question; True or False goes into `slot`."""

    kind: Literal["yesno"]
    prompt: str
    slot: Identifier
    hint: str | None = None
    next: Next


class DateStep(StepBase):
    """Ask for a date (2026-12-01, next friday, in 2 weeks); the ISO date goes into `slot`."""

    kind: Literal["date"]
    prompt: str
    slot: Identifier
    hint: str | None = None
    next: Next


class SummaryStep(StepBase):
    """Read back what the user said: `text` is a template over the slots; with `insights`,
    a coach's reading follows: the dialogue's insights that apply, best first."""

    kind: Literal["summary"]
    text: str
    insights: bool = Field(False, description="add the insights that apply under a heading")
    insights_heading: str = Field("What I notice:", min_length=1)
    max_insights: int = Field(4, ge=1, le=12, description="the most insights shown")
    next: Next


class RecommendStep(StepBase):
    """Show the recommendations that fit, best first: at least `min`, at most `max`."""

    kind: Literal["recommend"]
    text: str = Field(description="introduction shown above the list")
    min: int = Field(3, ge=1, le=12, description="made up with general advice if fewer fit")
    max: int = Field(7, ge=1, le=12, description="the most shown")
    show: int | None = Field(
        None, ge=1, le=12, description="deprecated: the old name of `max`, still read"
    )
    next: Next

    @property
    def most(self) -> int:
        """The most shown: `max`, or the deprecated `show` where a file still says it."""
        return self.show if self.show is not None else self.max

    @property
    def least(self) -> int:
        """The fewest shown (an old file's `show: 2` alone shows two at least and at most)."""
        return min(self.min, self.most)


class CommitStep(StepBase):
    """Let the user pick `min`..`max` of the recommendations and date each: their next steps.

    With `redate`, the open next steps of the past conversation in `then` are offered too
    ("Again: …"): picking one gives it a new date instead of adding a step.
    """

    kind: Literal["commit"]
    prompt: str = Field(description="asks the user to pick a next step")
    more_prompt: str = Field(
        "Would you like to add another?", description="asks for one more after the minimum"
    )
    due_prompt: str = Field(description="asks for the date; `{{ pick.title }}` names the step")
    min: int = Field(2, ge=1, le=5)
    max: int = Field(3, ge=1, le=5)
    redate: bool = Field(
        False,
        description="also offer the open next steps of `then` (a dialogue with `about:`), "
        "to give them a new date",
    )
    events_from: list[Identifier] = Field(
        default_factory=list,
        description='slots whose words may date what is coming up ("scrutiny on the 14th '
        'of January"): a due date given as "a fortnight before" counts back from it',
    )
    next: Next


class RecallStep(StepBase):
    """Ask which past conversation this one is about (a dialogue with `about:`): the latest,
    already in `then`, or another of the latest few, then any `choices` of the step's own.

    Picking a past conversation puts it into `then` and `past` into `slot`; an option of
    `choices` puts its value there and may branch with its own `next`. Its label goes into
    `<slot>_label` either way.
    """

    kind: Literal["recall"]
    prompt: str
    slot: Identifier = Field(
        "recalled", description="`past` when a past conversation was picked, else the choice"
    )
    hint: str | None = None
    choices: list[ChoiceOption] = Field(
        [], max_length=4, description="options after the past conversations (a new situation)"
    )
    next: Next


class OutcomeStep(StepBase):
    """Record a follow-up's answers on the next step it is about (check-in dialogues)."""

    kind: Literal["outcome"]
    status_slot: Identifier = "status"
    learned_slot: Identifier = "learned"
    new_due_slot: Identifier | None = "new_due"
    next: Next


class EndStep(StepBase):
    """Say goodbye: the conversation is complete and its next steps are stored."""

    kind: Literal["end"]
    text: str
    next_dialogue: Identifier | None = Field(
        None,
        description="start this dialogue as soon as this one ends (a check-in that leads to "
        "a revisit); a dialogue with `about:` then looks back on what this one was about",
    )


Step = Annotated[
    MessageStep
    | TextStep
    | ChoiceStep
    | ScaleStep
    | YesNoStep
    | DateStep
    | SummaryStep
    | RecommendStep
    | CommitStep
    | RecallStep
    | OutcomeStep
    | EndStep,
    Field(discriminator="kind"),
]

ASKING_KINDS = frozenset({"text", "choice", "scale", "yesno", "date", "commit", "recall"})
SLOT_KINDS = frozenset({"text", "choice", "scale", "yesno", "date", "recall"})
#: Kinds whose answer may come in a sentence that is kept as `<slot>_note`.
NOTED_KINDS = frozenset({"choice", "scale", "yesno"})


class Recommendation(Strict):
    """A next step the bot may suggest, the idea behind it, and where the idea comes from."""

    id: Identifier
    title: str = Field(max_length=75, description="a short action, shown on buttons")
    text: str = Field(description="what to do, concretely")
    idea: str = Field(description="why it helps: the idea behind it, in a sentence or two")
    source: str = Field(min_length=3, description="citation from the coaching material")
    when: str | None = Field(
        None,
        description="condition over slots that makes it fit; without one it is general "
        "advice, shown when one of its `words` was said or to make up a step's `min`",
    )
    unless: str | None = Field(None, description="condition over slots that rules it out")
    words: list[Phrase] = Field(
        [],
        description="phrases that raise its rank when the user wrote them (matched by word "
        "stem: 'meeting' finds 'meetings'); each one found adds 10, three at most",
    )
    weight: int = Field(1, ge=0, le=100, description="higher comes first")


class Insight(Strict):
    """Something a coach would notice in the answers, said in a summary with `insights`."""

    id: Identifier
    when: str = Field(description="condition over slots: when this applies")
    text: str = Field(min_length=1, description="template over the slots: what is noticed")
    source: str = Field(min_length=3, description="citation from the coaching material")
    weight: int = Field(1, ge=0, le=100, description="higher comes first")


class About(Strict):
    """What a dialogue that looks back is about: one of the user's finished conversations of
    another dialogue (the latest, unless a `recall` step picks another), which the engine puts
    into the `then` slot as it starts: its slots, `date`, `id`, and `steps` (the next steps
    it and any earlier look-backs ended with, each with its outcome and what was learned)."""

    dialogue: Identifier = Field(
        description="the dialogue whose finished conversations it is about"
    )
    label: str = Field(
        min_length=1,
        description="template naming one past conversation in a `recall` list, over its "
        "slots and `date`",
    )
    most: int = Field(5, ge=1, le=9, description="how many of the latest a `recall` step offers")
    none: str = Field(
        min_length=1, description="said instead of starting when the user has none yet"
    )


#: Validation context key: a list to collect a dialogue's reference problems in.
COLLECT = "collect_problems"


class Dialogue(Strict):
    """One coaching conversation: its steps, how they connect, and what it can recommend."""

    id: Identifier
    title: str
    version: int = Field(ge=1)
    description: str
    listed: bool = Field(True, description="offer it in the menu (check-ins are not)")
    also: list[Phrase] = Field(
        [],
        description=(
            "words people use when they want this dialogue, so a sentence typed at the menu "
            "finds it ('my funding', 'the trust won't listen')"
        ),
    )
    start: Identifier | None = Field(None, description="first step; defaults to the first one")
    topic: str | None = Field(
        None,
        description="a template naming what a conversation was about, for the history and "
        "the greeting ('{{ other_party | mid }}')",
    )
    about: About | None = Field(
        None,
        description="looks back on one of the user's finished conversations of another "
        "dialogue, found in the `then` slot (a revisit of a diagnosis)",
    )
    steps: dict[Identifier, Step] = Field(min_length=1)
    recommendations: list[Recommendation] = []
    insights: list[Insight] = []

    @field_validator("steps", mode="before")
    @classmethod
    def _not_too_many(cls, steps: Any) -> Any:
        """Refused before each step is read: a file of 10,000 steps is a mistake (or worse),
        and reading it would hold the coach for seconds."""
        if isinstance(steps, dict) and len(steps) > MAX_STEPS:
            raise ValueError(
                f"{len(steps):,} steps; a dialogue may have at most {MAX_STEPS:,} (split it "
                "into dialogues that lead on to one another with `next_dialogue`)"
            )
        return steps

    @field_validator("steps")
    @classmethod
    def _has_an_end(cls, steps: dict[str, Step]) -> dict[str, Step]:
        if not any(step.kind == "end" for step in steps.values()):
            raise ValueError("a dialogue needs at least one step of kind `end`")
        return steps

    @property
    def start_step(self) -> str:
        return self.start or next(iter(self.steps))

    def slot_names(self) -> set[str]:
        """Every slot a condition or template may name in this dialogue."""
        names = set(BUILTIN_SLOTS)
        if self.about is not None:
            names.add(THEN)
        for step in self.steps.values():
            if step.kind in SLOT_KINDS:
                names.add(step.slot)  # type: ignore[union-attr]
            if step.kind in ("choice", "recall"):
                names.add(f"{step.slot}_label")
            if step.kind == "choice":
                names.add(f"{step.slot}_more")  # what the answer told beyond its option
            if step.kind in NOTED_KINDS:
                names.add(f"{step.slot}_note")  # type: ignore[union-attr]
            if step.kind == "commit":
                names.add("pick")
            if step.kind == "text" and step.name is not None:
                names.add(f"{step.slot}_note")
        return names

    def step_slots(self) -> dict[str, str]:
        """The steps whose answer goes into a slot of another name, by step id (so a slot
        named after its step, then renamed, can be pointed to)."""
        return {
            step_id: step.slot  # type: ignore[union-attr]
            for step_id, step in self.steps.items()
            if step.kind in SLOT_KINDS and step.slot != step_id  # type: ignore[union-attr]
        }

    @model_validator(mode="after")
    def _references_resolve(self, info: ValidationInfo) -> Dialogue:
        """Every `next`/`to`/`start` names a step; conditions and templates are well formed.

        Raised as LocatedProblems, which keeps each problem's field path so the loader can
        point at file:line:col. The state machine's class factory would only fail later with
        a bare KeyError on a dangling target. Validated with the context `{COLLECT: list}`,
        the problems go into that list instead, so the loader can add the flow checks' and
        report every problem at once.
        """
        problems = self.reference_problems()
        collected = (info.context or {}).get(COLLECT)
        if isinstance(collected, list):
            collected.extend(problems)
        elif problems:
            raise LocatedProblems(problems)
        return self

    def reference_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """The problems that need the whole file to see, each with its field path."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        names = self.slot_names()
        renamed = self.step_slots()
        if self.start is not None and self.start not in self.steps:
            problems.append((("start",), self._no_step(self.start)))
        if all(isinstance(step, EndStep) for step in self.steps.values()):
            problems.append(
                (("steps",), "every step is an `end`: add a step for the conversation to start at")
            )
        for step_id, step in self.steps.items():
            where: tuple[str | int, ...] = ("steps", step_id)
            if step_id in RESERVED_STEP_IDS:
                problems.append(
                    (
                        where,
                        f"'{step_id}' is a name the state machine uses itself; call the "
                        f"step something else (e.g. '{step_id}_step')",
                    )
                )
            nxt = getattr(step, "next", None)
            if isinstance(nxt, str):
                if nxt not in self.steps:
                    problems.append(((*where, "next"), self._no_step(nxt)))
            elif isinstance(nxt, list):
                if not nxt:
                    problems.append(((*where, "next"), "list at least one branch"))
                elif nxt[-1].when is not None:
                    problems.append(
                        ((*where, "next", len(nxt) - 1), "the last branch needs no `when`")
                    )
                for i, branch in enumerate(nxt):
                    if branch.to not in self.steps:
                        problems.append(((*where, "next", i, "to"), self._no_step(branch.to)))
                    if branch.when is not None:
                        try:
                            check_expression(branch.when, names, renamed)
                        except ExpressionError as exc:
                            problems.append(((*where, "next", i, "when"), str(exc)))
            if isinstance(step, TextStep):
                for slot in step.prefill_slots():
                    if slot not in names:
                        problems.append(((*where, "prefill"), f"no slot is called '{slot}'"))
            if step.kind in ("recall", "commit", "end"):
                problems.extend(self._looking_back_problems(step_id, step))
            if step.kind in ("choice", "recall"):
                problems.extend(((*where, *loc), message) for loc, message in choice_problems(step))
                for i, option in enumerate(step.choices):
                    if option.next is not None and option.next not in self.steps:
                        problems.append(
                            (
                                (*where, "choices", i, "next"),
                                self._no_step(option.next),
                            )
                        )
            if step.kind in ("recommend", "commit") and not self.recommendations:
                problems.append((where, f"a `{step.kind}` step needs `recommendations`"))
            if isinstance(step, CommitStep):
                problems.extend(
                    ((*where, "events_from", i), self._no_slot(name))
                    for i, name in enumerate(step.events_from)
                    if name not in names
                )
            for field in ("prompt", "text", "due_prompt", "more_prompt", "hint", "why"):
                template = getattr(step, field, None)
                if isinstance(template, str):
                    try:
                        check_template(template)
                    except TemplateProblem as exc:
                        problems.append(((*where, field), str(exc)))
            problems.extend(((*where, *loc), message) for loc, message in _reading_problems(step))
            problems.extend(_ack_problems(step, where, names, renamed))
            problems.extend(_remember_problems(step, where))
            if step.kind == "summary" and step.insights and not self.insights:
                problems.append(((*where, "insights"), "`insights: true` needs `insights:`"))
        if self.topic is not None:
            try:
                check_template(self.topic)
            except TemplateProblem as exc:
                problems.append((("topic",), str(exc)))
        seen: set[str] = set()
        for i, rec in enumerate(self.recommendations):
            if rec.id in seen:
                problems.append((("recommendations", i, "id"), f"'{rec.id}' is used twice"))
            seen.add(rec.id)
            for field in ("when", "unless"):
                condition = getattr(rec, field)
                if condition is not None:
                    try:
                        check_expression(condition, names, renamed)
                    except ExpressionError as exc:
                        problems.append((("recommendations", i, field), str(exc)))
            for k, phrase in enumerate(rec.words):
                if not any(ch.isalnum() for ch in phrase):
                    problems.append(
                        (("recommendations", i, "words", k), f"'{phrase}' has no words in it")
                    )
        seen = set()
        for i, insight in enumerate(self.insights):
            if insight.id in seen:
                problems.append((("insights", i, "id"), f"'{insight.id}' is used twice"))
            seen.add(insight.id)
            try:
                check_expression(insight.when, names, renamed)
            except ExpressionError as exc:
                problems.append((("insights", i, "when"), str(exc)))
            try:
                check_template(insight.text)
            except TemplateProblem as exc:
                problems.append((("insights", i, "text"), str(exc)))
        if self.about is not None:
            for field in ("label", "none"):
                try:
                    check_template(getattr(self.about, field))
                except TemplateProblem as exc:
                    problems.append((("about", field), str(exc)))
        dangling = any(
            target not in self.steps for step in self.steps.values() for target in targets_of(step)
        )
        if not dangling and (self.start is None or self.start in self.steps):
            # With a dangling start or `next`, steps look unreachable that are not meant to
            # be: report what dangles alone.
            problems.extend(self._unreachable_steps())
        problems.extend(self._silent_loops())
        return problems

    def _no_step(self, name: str) -> str:
        """A `next` to a step that is not there, with the nearest one, or the ones there are."""
        hint = did_you_mean(name, self.steps)
        if not hint:
            listed = list(self.steps)
            more = ", …" if len(listed) > 8 else ""
            hint = f" (the steps are: {', '.join(listed[:8])}{more})"
        return f"no step is called '{name}'{hint}"

    def _no_slot(self, name: str) -> str:
        """A slot to read the user's words from that no step fills, with the nearest one, or
        the slots that hold what the user wrote (text answers and notes)."""
        hint = did_you_mean(name, self.slot_names() - BUILTIN_SLOTS)
        if not hint:
            written = sorted(
                {step.slot for step in self.steps.values() if isinstance(step, TextStep)}
                | {
                    f"{step.slot}_note"  # type: ignore[union-attr]
                    for step in self.steps.values()
                    if step.kind in NOTED_KINDS
                }
            )
            hint = f" (the slots that hold what the user wrote: {', '.join(written) or 'none'})"
        return f"no step fills a slot called '{name}'{hint}"

    def _looking_back_problems(
        self, step_id: str, step: Step
    ) -> list[tuple[tuple[str | int, ...], str]]:
        """A `recall` step and `redate: true` need `about:`; a recall option may not be
        called `past` (what a past conversation puts in its slot); an end step does not
        start its own dialogue again."""
        where: tuple[str | int, ...] = ("steps", step_id)
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if isinstance(step, RecallStep):
            if self.about is None:
                problems.append(
                    ((*where, "kind"), "a `recall` step needs `about:` on the dialogue")
                )
            for i, option in enumerate(step.choices):
                if option.value == RECALLED_PAST:
                    problems.append(
                        (
                            (*where, "choices", i, "value"),
                            f"'{RECALLED_PAST}' is what picking a past conversation stores",
                        )
                    )
        if isinstance(step, CommitStep) and step.redate and self.about is None:
            problems.append(((*where, "redate"), "`redate: true` needs `about:` on the dialogue"))
        if isinstance(step, EndStep) and step.next_dialogue == self.id:
            problems.append(
                ((*where, "next_dialogue"), "an end step cannot start its own dialogue")
            )
        return problems

    def _silent_loops(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Steps that ask nothing and can lead back to themselves through others that ask
        nothing: a conversation reaching them would never wait for the user again. One depth-
        first walk over those steps (linear in steps and links), each loop reported once, at
        the step where the walk found it."""
        silent = {i for i, step in self.steps.items() if step.kind not in ASKING_KINDS}
        onward = {i: [t for t in targets_of(self.steps[i]) if t in silent] for i in silent}
        problems: list[tuple[tuple[str | int, ...], str]] = []
        done: set[str] = set()
        for root in self.steps:
            if root not in silent or root in done:
                continue
            path: list[str] = [root]
            on_path = {root}
            todo = [iter(onward[root])]
            while todo:
                target = next(todo[-1], None)
                if target is None:  # every way on from here walked
                    left = path.pop()
                    on_path.discard(left)
                    done.add(left)
                    todo.pop()
                elif target in on_path:
                    loop = path[path.index(target) :]
                    problems.append(
                        (
                            ("steps", target),
                            "these steps go round in a loop without asking anything "
                            f"({' → '.join([*loop, target])}): a conversation that reaches "
                            "them would never wait for an answer; put a question in the "
                            "loop, or lead out of it",
                        )
                    )
                elif target not in done:
                    path.append(target)
                    on_path.add(target)
                    todo.append(iter(onward[target]))
        return problems

    def _unreachable_steps(self) -> list[tuple[tuple[str | int, ...], str]]:
        reachable: set[str] = set()
        todo = [self.start_step] if self.start_step in self.steps else []
        while todo:
            step_id = todo.pop()
            if step_id in reachable or step_id not in self.steps:
                continue
            reachable.add(step_id)
            todo.extend(targets_of(self.steps[step_id]))
        return [
            (("steps", step_id), "no path from the start reaches this step")
            for step_id in self.steps
            if step_id not in reachable
        ]


def _plain(phrase: str) -> str:
    """A phrase as answers are compared: lower case, single spaces, no closing stop."""
    return " ".join(phrase.lower().replace("’", "'").split()).strip(" .!?")


def choice_problems(step: ChoiceStep | RecallStep) -> list[tuple[tuple[str | int, ...], str]]:
    """What would make a choice step's answers ambiguous, each with its field path."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    owner: dict[str, int] = {}
    for i, option in enumerate(step.choices):
        for said in {
            _plain(option.label),
            _plain(option.value),
            _plain(option.value.replace("_", " ")),
        }:
            if said in owner and owner[said] != i:
                other = step.choices[owner[said]].value
                problems.append(
                    (("choices", i, "label"), f"'{option.label}' is also option '{other}'")
                )
            owner.setdefault(said, i)
    for i, option in enumerate(step.choices):
        for k, phrase in enumerate(option.also):
            said = _plain(phrase)
            if said.isdigit() or not any(ch.isalpha() for ch in said):
                problems.append(
                    (("choices", i, "also", k), f"'{phrase}': use words (numbers pick by position)")
                )
            elif said in owner and owner[said] != i:
                other = step.choices[owner[said]].value
                problems.append(
                    (
                        ("choices", i, "also", k),
                        f"'{phrase}' is claimed by two options: '{other}' and '{option.value}'",
                    )
                )
            owner.setdefault(said, i)
        multiple = isinstance(step, ChoiceStep) and step.multiple
        if option.next is not None and multiple:
            problems.append(
                (
                    ("choices", i, "next"),
                    "a `multiple` step cannot branch per option: give the step a `next` "
                    f"with conditions such as `'{option.value}' in {step.slot}`",
                )
            )
        if option.alone and not multiple:
            problems.append((("choices", i, "alone"), "`alone` only matters with `multiple: true`"))
    if not isinstance(step, ChoiceStep):
        return problems
    if step.max is not None and not step.multiple:
        problems.append((("max",), "`max` needs `multiple: true`"))
    elif step.max is not None and step.max > len(step.choices):
        problems.append(
            (("max",), f"`max` is {step.max} but there are only {len(step.choices)} options")
        )
    return problems


def _reading_problems(step: Step) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems of a step's own reading fields: the range a recommend step shows, the
    prompt of a name question."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(step, RecommendStep):
        if step.show is not None and "max" in step.model_fields_set:
            problems.append((("show",), "`show` is the old name of `max`: keep only `max`"))
        if "min" in step.model_fields_set and step.min > step.most:
            field = "show" if step.show is not None else "max"
            problems.append(((field,), f"`min` is {step.min} but `{field}` is {step.most}"))
    if isinstance(step, TextStep) and step.name is not None:
        try:
            check_template(step.name.prompt)
        except TemplateProblem as exc:
            problems.append((("name", "prompt"), str(exc)))
    if isinstance(step, SummaryStep) and step.insights:
        try:
            check_template(step.insights_heading)
        except TemplateProblem as exc:
            problems.append((("insights_heading",), str(exc)))
    return problems


def _ack_problems(
    step: Step, where: tuple[str | int, ...], names: set[str], renamed: dict[str, str]
) -> list[tuple[tuple[str | int, ...], str]]:
    """Acks sit on questions that fill a slot; their conditions and texts must be sound."""
    if not step.ack:
        return []
    if step.kind not in SLOT_KINDS:
        return [((*where, "ack"), f"a `{step.kind}` step asks nothing to acknowledge")]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for i, ack in enumerate(step.ack):
        if ack.when is not None:
            try:
                check_expression(ack.when, names, renamed)
            except ExpressionError as exc:
                problems.append(((*where, "ack", i, "when"), str(exc)))
        try:
            check_template(ack.text)
        except TemplateProblem as exc:
            problems.append(((*where, "ack", i, "text"), str(exc)))
    return problems


def _remember_problems(
    step: Step, where: tuple[str | int, ...]
) -> list[tuple[tuple[str | int, ...], str]]:
    """A remembered answer belongs to a question with a slot, and is offered in words."""
    rule = step.remember
    if rule is None:
        return []
    here = (*where, "remember")
    if step.kind not in SLOT_KINDS:
        return [(here, f"a `{step.kind}` step has no answer to remember")]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    if not rule.ask and rule.scope != "situation":
        problems.append(((*here, "ask"), "only a situation's details are taken without asking"))
    if rule.ask and rule.prompt is None:
        problems.append((here, "give a `prompt` asking whether the answer still holds"))
    if not rule.ask and rule.prompt is not None:
        problems.append(((*here, "prompt"), "an answer taken without asking has no `prompt`"))
    if rule.prompt is not None:
        try:
            check_template(rule.prompt)
        except TemplateProblem as exc:
            problems.append(((*here, "prompt"), str(exc)))
    return problems


#: Step kinds that wait for the user's answer.
ASKING_KINDS = frozenset({"text", "choice", "scale", "yesno", "date", "commit", "recall"})


def targets_of(step: Step) -> list[str]:
    """The ids of the steps this step can lead to, in the order they are tried."""
    targets: list[str] = []
    if step.kind == "choice":
        targets.extend(c.next for c in step.choices if c.next)
    if step.kind == "recall":
        targets.extend(c.next for c in step.choices if c.next)
    nxt = getattr(step, "next", None)
    if isinstance(nxt, str):
        targets.append(nxt)
    elif isinstance(nxt, list):
        targets.extend(b.to for b in nxt)
    return targets


class LocatedProblems(ValueError):
    """Several problems, each with the path of the field it is about (for file:line:col)."""

    def __init__(self, problems: list[tuple[tuple[str | int, ...], str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(message for _, message in problems))


SafetyLevel = Literal["danger", "concern", "note"]
#: Most serious first: the order in which levels are screened and reported.
SAFETY_LEVELS: tuple[SafetyLevel, ...] = ("danger", "concern", "note")


class NegatableRule(Strict):
    """A rule that does not count after a negation ("nobody threatened me")."""

    unless_negated: str = Field(description="a pattern; see the top of dialogues/safety.yaml")


SafetyRule = str | NegatableRule


def rule_pattern(rule: SafetyRule) -> str:
    """The pattern text of a rule, whichever way it was written."""
    return rule if isinstance(rule, str) else rule.unless_negated


class SafetyCategory(Strict):
    """A kind of situation a coach must not talk past, how serious it is, and where to get help."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: Identifier
    level: SafetyLevel = Field(
        description="danger: stop and point to help now; concern: acknowledge and ask; "
        "note: one line, then carry on"
    )
    message: str = Field(
        min_length=1, description="where to get help (danger, concern) or the note"
    )
    ack: str | None = Field(None, description="concern: one kind sentence on what happened")
    ack_self: str | None = Field(
        None,
        description="concern: the sentence instead of `ack` when the user writes of themselves "
        "(I, me, my…) and of no other person (he, she…)",
    )
    offer_to_work_on_it: bool = Field(
        True,
        description="concern, at the menu: carrying on offers a dialogue starting from what "
        "they wrote (false: the menu, for words about how they are rather than a situation)",
    )
    unsafe: Identifier | None = Field(
        None, description="concern: the danger category whose message shows if they are not safe"
    )
    every_time: bool = Field(
        True, description="on every mention (default for danger); false: once per conversation"
    )
    rules: list[SafetyRule] = Field(min_length=1, description="patterns; any one is enough")
    exceptions: list[str] = Field(
        default_factory=list,
        alias="except",
        description="patterns of idiom: a rule's match inside one of these does not count",
    )

    @model_validator(mode="before")
    @classmethod
    def _every_time_follows_the_level(cls, data: Any) -> Any:
        if isinstance(data, dict) and "every_time" not in data:
            return {**data, "every_time": data.get("level") == "danger"}
        return data

    @model_validator(mode="after")
    def _fields_fit_the_level(self) -> SafetyCategory:
        problems: list[tuple[tuple[str | int, ...], str]] = []
        if self.level == "concern":
            if not self.ack:
                problems.append((("level",), "a concern category needs an `ack`"))
            if not self.unsafe:
                problems.append((("level",), "a concern category needs `unsafe`"))
        elif self.unsafe is not None:
            problems.append((("unsafe",), "only concern categories have `unsafe`"))
        if self.level == "note" and "\n" in self.message.strip():
            problems.append((("message",), "a note is one line: the coaching carries on"))
        if problems:
            raise LocatedProblems(problems)
        return self


class ConcernLabels(Strict):
    """The four answers to `concern_ask`, as buttons (75 characters at most each)."""

    support: str = Field(min_length=1, max_length=75)
    carry_on: str = Field(min_length=1, max_length=75)
    unsafe: str = Field(min_length=1, max_length=75)
    stop: str = Field(min_length=1, max_length=75)


class Negation(Strict):
    """What makes an `unless_negated` rule not count: one of `words` shortly before it."""

    words: list[str] = Field(min_length=1)
    window: int = Field(3, ge=1, le=6, description="how many words back to look")
    clause_breaks: list[str] = Field(
        default_factory=lambda: ["but"], description="words a negation does not reach past"
    )


class Typos(Strict):
    """Long key words to recognise with one letter wrong, missing, extra or swapped."""

    words: list[str] = Field(default_factory=list, description="7 letters or more each")
    not_typos: list[str] = Field(
        default_factory=list, description="real words one slip from a typo word: left as they are"
    )
    hidden: list[Identifier] = Field(
        default_factory=list,
        description="word lists whose words people hide with asterisks: p*ki is read as the "
        "one word of these lists it can be (same length, same letters where they show)",
    )


class SafetyModelSettings(Strict):
    """The trained model that listens beside the rules (`bot.safety_model`)."""

    file: str = Field(
        pattern=r"^[\w.-]+\.json$",
        description="the model file, next to safety.yaml (`coach dialogues safety-train`)",
    )
    alert_at: float = Field(
        0.65,
        ge=0.5,
        le=0.99,
        description="raise an alert the rules missed when the model's probability is at "
        "least this (higher: fewer false alarms, more missed)",
    )
    ack: str = Field(
        "Before we go on, I'd like to check in about what you've just written.",
        min_length=1,
        description="said instead of a concern's own `ack` when only the model heard it: "
        "it may be wrong about what was meant, so it says nothing it is not sure of",
    )
    danger_at: float = Field(
        0.95,
        ge=0.5,
        le=1.0,
        description="a danger category only from this probability; between `alert_at` and "
        "this, the model asks as a concern does (are you safe?) rather than stopping",
    )

    @model_validator(mode="after")
    def _ordered(self) -> SafetyModelSettings:
        if self.danger_at < self.alert_at:
            raise ValueError("danger_at must be at least alert_at")
        return self


class ToldAsPast(Strict):
    """An alert told as over and done with is asked about more gently, or not at all.

    "Back in 2019 a resident threatened me; the police dealt with it and I'm fine now" is a
    story of how they came to work as they do, not a crisis: stopping the coaching to give
    999 contradicts what they just said. It needs both words of a time long gone (`past`) and
    words that it is over (`over`), and none that it goes on now (`still`: again, scared…).
    """

    ack: str = Field(
        min_length=1,
        description="said instead of the concern's own `ack` when a danger is asked about "
        "because it was told as past and over",
    )
    lower: dict[Identifier, Identifier | None] = Field(
        description="category → the concern to ask with instead (for a danger), or null to "
        "raise nothing (for a concern)"
    )
    past: list[str] = Field(min_length=1, description="patterns: a time long gone")
    over: list[str] = Field(min_length=1, description="patterns: that it is over")
    still: list[str] = Field(
        default_factory=list, description="patterns: that it goes on now (then nothing is lowered)"
    )


class SafetyConfig(Strict):
    """dialogues/safety.yaml: the signals that interrupt or annotate any dialogue."""

    version: Literal[2] = Field(description="2: categories with levels and rules")
    continue_label: str = Field("Carry on with the coaching", min_length=1, max_length=75)
    stop_label: str = Field("Stop here for now", min_length=1, max_length=75)
    concern_ask: str = Field(min_length=1, description="asked after a concern's `ack`")
    concern_labels: ConcernLabels
    words: dict[Identifier, list[str]] = Field(
        default_factory=dict, description="word lists patterns name as @name"
    )
    negation: Negation
    typos: Typos = Field(default_factory=Typos)
    categories: list[SafetyCategory] = Field(min_length=1)
    model: SafetyModelSettings | None = Field(
        None, description="a trained model that hears what the rules miss"
    )
    told_as_past: ToldAsPast | None = Field(
        None, description="alerts told as over and done with: asked about gently, or not at all"
    )
    #: The model file named by `model`, loaded and checked by `bot.loader.load_safety`.
    _trained: Any = PrivateAttr(None)

    @model_validator(mode="after")
    def _patterns_and_references(self) -> SafetyConfig:
        """Every pattern parses and is specific; ids are unique; `unsafe` names a danger."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for name, words in self.words.items():
            for j, word in enumerate(words):
                # a word, or one hidden by asterisks: p***, n***r
                if not re.fullmatch(r"[^\W_]+(?:['’][^\W_]+)*|[^\W\d_]+\*{2,}[^\W\d_]*", word):
                    problems.append((("words", name, j), f"'{word}': one word per entry"))
        for field, words in (
            ("negation", self.negation.words),
            ("typos", self.typos.words),
            ("typos", self.typos.not_typos),
        ):
            for word in words:
                if not re.fullmatch(r"[^\W_]+(?:['’][^\W_]+)*", word):
                    problems.append(((field,), f"'{word}': one word per entry"))
        for j, name in enumerate(self.typos.hidden):
            if name not in self.words:
                known = ", ".join(sorted(self.words)) or "none"
                problems.append(
                    (("typos", "hidden", j), f"no word list is called '{name}' (known: {known})")
                )
        for j, word in enumerate(self.typos.words):
            if len(word) < 7:
                problems.append(
                    (("typos", "words", j), f"'{word}': only words of 7 letters or more")
                )
        levels: dict[str, SafetyLevel] = {}
        for c in self.categories:
            levels.setdefault(c.id, c.level)  # a second use of an id is reported below
        seen: set[str] = set()
        for i, category in enumerate(self.categories):
            where: tuple[str | int, ...] = ("categories", i)
            if category.id in seen:
                problems.append(((*where, "id"), f"'{category.id}' is used twice"))
            seen.add(category.id)
            if category.unsafe is not None and levels.get(category.unsafe) != "danger":
                dangers = ", ".join(k for k, v in levels.items() if v == "danger") or "none"
                problems.append(
                    (
                        (*where, "unsafe"),
                        f"'{category.unsafe}' is not a danger category (those are: {dangers})",
                    )
                )
            located: list[tuple[tuple[str | int, ...], str]] = [
                (
                    (*where, "rules", j)
                    if isinstance(rule, str)
                    else (*where, "rules", j, "unless_negated"),
                    rule_pattern(rule),
                )
                for j, rule in enumerate(category.rules)
            ]
            located += [((*where, "except", j), p) for j, p in enumerate(category.exceptions)]
            for path, pattern in located:
                try:
                    parse(pattern, self.words)
                except PatternError as exc:
                    problems.append((path, f"{exc} (pattern: {pattern!r})"))
        if self.told_as_past is not None:
            problems += self._told_as_past_problems(self.told_as_past, levels)
        if problems:
            raise LocatedProblems(problems)
        return self

    def _told_as_past_problems(
        self, told: ToldAsPast, levels: dict[str, SafetyLevel]
    ) -> list[tuple[tuple[str | int, ...], str]]:
        """A danger is only ever lowered to a concern (never silenced); a concern to another
        concern or to nothing; notes are not alerts; every pattern parses."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        where = ("told_as_past", "lower")
        concerns = ", ".join(k for k, v in levels.items() if v == "concern") or "none"
        for raised, instead in told.lower.items():
            level = levels.get(raised)
            if level is None or level == "note":
                alerts = ", ".join(k for k, v in levels.items() if v != "note")
                problems.append(
                    (
                        (*where, raised),
                        f"'{raised}' is not a danger or concern category (those are: {alerts})",
                    )
                )
            elif instead is None and level == "danger":
                problems.append(
                    (
                        (*where, raised),
                        f"a danger ('{raised}') can only be lowered to a concern, "
                        f"never to nothing (concerns: {concerns})",
                    )
                )
            elif instead is not None and levels.get(instead) != "concern":
                problems.append(
                    (
                        (*where, raised),
                        f"'{instead}' is not a concern category (those are: {concerns})",
                    )
                )
        for field in ("past", "over", "still"):
            for j, pattern in enumerate(getattr(told, field)):
                try:
                    parse(pattern, self.words)
                except PatternError as exc:
                    problems.append((("told_as_past", field, j), f"{exc} (pattern: {pattern!r})"))
        return problems
