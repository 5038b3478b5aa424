"""What each kind of step does: the words it says on entry, what it awaits, how it reads answers.

These are the generic callbacks the compiler attaches to every state; no dialogue has Python
of its own. A commit step is two states: `<id>` (pick a recommendation) and `<id>__due`; a
text step with `name:` is two as well: `<id>` and `<id>__name` (the short name to use).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import zlib
from typing import Any

from bot import answers, messages, remembering, understanding
from bot.acknowledging import Acks
from bot.naming import accepts_suggestion, name_given, suggest_name, word_count, yes_and_more
from bot.recalling import (
    AGAIN,
    PAST,
    again_pick,
    open_again,
    picked_value,
    read_recall,
    recall_choices,
)
from bot.recommending import Insights, Recommender, bullets
from bot.schema import (
    ASKING_KINDS,
    NOTED_KINDS,
    THEN,
    ChoiceStep,
    CommitStep,
    Dialogue,
    RecallStep,
    Recommendation,
    ScaleStep,
    Step,
    SummaryStep,
    TextStep,
    YesNoStep,
)
from bot.session import Effect, Session
from bot.templates import render
from bot.turns import Await, BotMessage, Choice

DUE_SUFFIX = "__due"
NAME_SUFFIX = "__name"
#: Where a question keeps the sentence the user wrote with (or instead of) an answer.
NOTE_SUFFIX = "_note"
#: A hidden slot: the options last suggested, and at which question ("Is that right?").
SUGGESTED = "_suggested"
#: A hidden slot: next steps picked together, waiting for their dates after `pick`'s.
PICKS_QUEUED = "_picks_queued"
ENOUGH = "enough"
YES_NO_CHOICES = (Choice("yes", "Yes"), Choice("no", "No"))
#: Slots that describe the conversation's context and survive a restart: what it follows up
#: or looks back on, and what the engine told it of the user's plan.
CONTEXT_SLOTS = frozenset({"step", "dialogue_title", THEN, PAST, "open_steps", "recent_outcomes"})
_ABSENT = "__absent__"


def resolve(dialogue: Dialogue, state_id: str) -> tuple[str, Step, str]:
    """The step behind a machine state, and the phase: '', 'due' for a commit's date, 'name'
    for a text step's short name."""
    if state_id.endswith(DUE_SUFFIX):
        step_id = state_id.removesuffix(DUE_SUFFIX)
        return step_id, dialogue.steps[step_id], "due"
    if state_id.endswith(NAME_SUFFIX):
        step_id = state_id.removesuffix(NAME_SUFFIX)
        return step_id, dialogue.steps[step_id], "name"
    return state_id, dialogue.steps[state_id], ""


def state_ids_of(step_id: str, step: Step) -> list[str]:
    """The machine states of one step: its own, and its date or name question if it has one."""
    if step.kind == "commit":
        return [step_id, step_id + DUE_SUFFIX]
    if isinstance(step, TextStep) and step.name is not None:
        return [step_id, step_id + NAME_SUFFIX]
    return [step_id]


def _mentions_insights(step: Step) -> bool:
    """Whether entering the step must work out the `insights` slot first."""
    if isinstance(step, SummaryStep) and step.insights:
        return True
    return any(
        "insights" in str(getattr(step, field, None) or "")
        for field in ("prompt", "text", "hint", "due_prompt", "more_prompt")
    )


def is_asking(step: Step) -> bool:
    return step.kind in ASKING_KINDS


def recommendation_dict(rec: Recommendation) -> dict[str, Any]:
    return {
        "id": rec.id,
        "title": rec.title,
        "text": rec.text,
        "idea": rec.idea,
        "source": rec.source,
    }


class StepRunner:
    """Runs the steps of one dialogue: shared by every conversation of that version."""

    def __init__(self, dialogue: Dialogue) -> None:
        self.dialogue = dialogue
        self.recommendations = {r.id: r for r in dialogue.recommendations}
        self.recommender = Recommender(dialogue)
        self.insights = Insights(dialogue)
        self._static_choices: dict[str, tuple[Choice, ...]] = {}
        #: The step behind each machine state, looked up several times a turn.
        self._states: dict[str, tuple[str, Step, str]] = {}
        #: What each choice and scale question's answers can mean, built once per version.
        self._choice_tables: dict[str, understanding.ChoiceTable] = {}
        self._scale_tables: dict[str, understanding.ScaleTable] = {}
        #: Acknowledgements by state; a state without any is not in it (the usual case).
        self._acks: dict[str, Acks] = {}
        #: Steps that work out the `insights` slot when entered.
        self._reading_steps: frozenset[str] = frozenset(
            step_id for step_id, step in dialogue.steps.items() if _mentions_insights(step)
        )
        #: Questions that offer a remembered answer back (`remember:`), by state.
        self.remembering: dict[str, Step] = remembering.remembering_steps(dialogue)
        for step_id, step in dialogue.steps.items():
            for state_id in state_ids_of(step_id, step):
                self._states[state_id] = resolve(dialogue, state_id)
            slot = getattr(step, "slot", None)
            if step.ack and slot:
                self._acks[step_id] = Acks(step.ack, slot)
            if isinstance(step, ChoiceStep):
                self._choice_tables[step_id] = understanding.ChoiceTable(
                    [
                        understanding.Option(c.value, c.label, tuple(c.also), c.alone)
                        for c in step.choices
                    ],
                    multiple=step.multiple,
                    most=step.max,
                )
            elif isinstance(step, ScaleStep):
                self._scale_tables[step_id] = understanding.ScaleTable.build(
                    step.min, step.max, step.min_label, step.max_label
                )

    def resolve(self, state_id: str) -> tuple[str, Step, str]:
        """The step behind a machine state, and the phase ('', 'due' or 'name')."""
        found = self._states.get(state_id)
        return found if found is not None else resolve(self.dialogue, state_id)

    # -- what the bot says ---------------------------------------------------------------

    def choices(self, state_id: str, slots: dict[str, Any]) -> tuple[Choice, ...]:
        cached = self._static_choices.get(state_id)
        if cached is not None:
            return cached
        _, step, phase = self.resolve(state_id)
        if step.kind in ("choice", "yesno", "scale"):
            # These never depend on the slots: build them once per dialogue version.
            self._static_choices[state_id] = self._build_choices(step, phase, slots)
            return self._static_choices[state_id]
        return self._build_choices(step, phase, slots)

    def _build_choices(self, step: Step, phase: str, slots: dict[str, Any]) -> tuple[Choice, ...]:
        if isinstance(step, ChoiceStep):
            return tuple(Choice(c.value, c.label) for c in step.choices)
        if step.kind == "yesno":
            return YES_NO_CHOICES
        if isinstance(step, ScaleStep):
            return tuple(Choice(str(n), self._scale_label(step, n)) for n in self._range(step))
        if isinstance(step, RecallStep):
            return recall_choices(step, slots)
        if isinstance(step, CommitStep) and not phase:
            chosen = {picked_value(c) for c in slots.get("commitments") or []}
            options = [
                Choice(rid, self.recommendations[rid].title)
                for rid in slots.get("recommendations") or []
                if rid in self.recommendations and rid not in chosen
            ]
            if step.redate:
                options += open_again(slots, chosen)
            if len(chosen) >= step.min or not options:
                options.append(Choice(ENOUGH, "That's enough for now"))
            return tuple(options)
        return ()

    @staticmethod
    def _range(step: ScaleStep) -> range:
        return range(step.min, step.max + 1)

    @staticmethod
    def _scale_label(step: ScaleStep, n: int) -> str:
        if n == step.min and step.min_label:
            return f"{n} – {step.min_label}"
        if n == step.max and step.max_label:
            return f"{n} – {step.max_label}"
        return str(n)

    def prompt(self, state_id: str, slots: dict[str, Any]) -> BotMessage:
        """The question asked at an asking state, with its options."""
        _, step, phase = self.resolve(state_id)
        if state_id in self.remembering and slots.get(remembering.KNOWN_AT) == state_id:
            values = remembering.offered(step, slots)
            if values is not None:
                return remembering.prompt(step, slots, values)
        if phase == "name" and isinstance(step, TextStep) and step.name is not None:
            text = render(step.name.prompt, {**slots, "suggestion": slots.get(step.slot)})
        elif isinstance(step, CommitStep):
            if phase == "due":
                text = render(step.due_prompt, slots)
            elif len(slots.get("commitments") or []) >= step.min:
                text = render(step.more_prompt, slots)
            else:
                text = render(step.prompt, slots)
        else:
            text = render(getattr(step, "prompt", ""), slots)
        return BotMessage(text, self.choices(state_id, slots))

    def awaits(self, state_id: str, slots: dict[str, Any], ref: str) -> Await:
        """What kind of answer the state waits for, so front ends can offer the right control."""
        _, step, phase = self.resolve(state_id)
        if state_id in self.remembering and slots.get(remembering.KNOWN_AT) == state_id:
            return Await("choice", remembering.choices(step.remember), ref=ref)  # type: ignore[arg-type]
        if step.kind == "commit":
            if phase == "due":
                return Await("date", ref=ref)
            return Await("choice", self.choices(state_id, slots), ref=ref)
        if isinstance(step, ScaleStep):
            return Await("scale", self.choices(state_id, slots), step.min, step.max, ref=ref)
        if step.kind in ("choice", "yesno"):
            return Await(step.kind, self.choices(state_id, slots), ref=ref)
        if step.kind == "recall":
            return Await("choice", self.choices(state_id, slots), ref=ref)
        if step.kind in ("text", "date"):
            return Await(step.kind, ref=ref)
        return Await("none")

    def hint(self, state_id: str, slots: dict[str, Any]) -> str | None:
        _, step, _ = self.resolve(state_id)
        hint = getattr(step, "hint", None)
        return render(hint, slots) if hint else None

    def why(self, state_id: str, slots: dict[str, Any]) -> str | None:
        """Why the question at `state_id` is asked, for a user who asks: its `why` (not for
        a follow-up such as a short name or a date), else None."""
        _, step, phase = self.resolve(state_id)
        return render(step.why, slots) if step.why and not phase else None

    # -- entering a state (the machine's entry callback) --------------------------------

    def enter(self, state_id: str, session: Session) -> None:
        step_id, step, _ = self.resolve(state_id)
        slots = session.slots
        if step_id in self._reading_steps:
            slots["insights"] = self.insights.applying(slots)
        if state_id in self.remembering and self._offer_known(state_id, step, session):
            return
        if is_asking(step):
            message = self.prompt(state_id, slots)
            session.say(message.text, message.choices)
        elif isinstance(step, SummaryStep):
            text = render(step.text, slots)
            shown = slots.get("insights", [])[: step.max_insights] if step.insights else []
            if shown:
                text += "\n\n" + bullets(render(step.insights_heading, slots), shown)
            session.say(text)
        elif step.kind == "message":
            session.say(render(step.text, slots))
        elif step.kind == "recommend":
            chosen = self.recommender.choose(slots, step.least, step.most)
            slots["recommendations"] = [r.id for r in chosen]
            session.say(render(step.text, slots) + "\n\n" + self.describe(chosen))
        elif step.kind == "outcome":
            session.effects.append(
                Effect(
                    "outcome",
                    {
                        "status": slots.get(step.status_slot),
                        "learned": slots.get(step.learned_slot),
                        "new_due": slots.get(step.new_due_slot) if step.new_due_slot else None,
                    },
                )
            )
        elif step.kind == "end":
            session.say(render(step.text, slots))
            session.completed = True

    def _offer_known(self, state_id: str, step: Step, session: Session) -> bool:
        """Entering a question whose answer is remembered: offer it back ("still so?"), or
        with `ask: false` take it and move on. False when there is nothing to offer."""
        slots = session.slots
        values = remembering.offered(step, slots)
        if values is None:
            return False
        rule = step.remember
        if rule is None:
            return False
        if remembering.overridden(step, slots):  # they have just said it afresh
            slots[remembering.KNOWN] = remembering.forget(
                self.dialogue, step, slots.get(remembering.KNOWN), changed=True
            )
            return False
        if not rule.ask:
            slots.update(values)
            slots[remembering.KNOWN] = remembering.forget(
                self.dialogue, step, slots.get(remembering.KNOWN), changed=False
            )
            session.skip = True
            return True
        slots[remembering.KNOWN_AT] = state_id
        message = remembering.prompt(step, slots, values)
        session.say(message.text, message.choices)
        return True

    def person_answer(self, state_id: str, slots: dict[str, Any]) -> dict[str, Any] | None:
        """What to remember about the person from the answer just given at `state_id`."""
        step = self.remembering.get(state_id)
        if step is None or step.remember is None or step.remember.scope != "person":
            return None
        values = remembering.values_of(step, slots)
        return {remembering.slot_of(step): values} if values else None

    @staticmethod
    def describe(recs: list[Recommendation]) -> str:
        lines = []
        for n, rec in enumerate(recs, 1):
            lines.append(f"{n}. {rec.title}\n   {rec.text}\n   Why: {rec.idea} ({rec.source})")
        return "\n\n".join(lines)

    # -- reading an answer -----------------------------------------------------------------

    def apply_answer(
        self, state_id: str, session: Session, text: str, today: dt.date
    ) -> dict[str, Any]:
        """Store the answer in the slots and return the undo record for `back`.

        Raises answers.InvalidAnswer (nothing changed) when the answer does not fit.
        """
        step_id, step, phase = self.resolve(state_id)
        slots = session.slots
        session.known = False
        if state_id in self.remembering and slots.get(remembering.KNOWN_AT) == state_id:
            return self._apply_known(state_id, step, session, text, today)
        changes: dict[str, Any] = {}
        if isinstance(step, TextStep):
            changes = self._read_text(step, phase, slots, text)
        elif isinstance(step, ChoiceStep):
            changes = self._read_choice(state_id, step, session, text)
        elif isinstance(step, ScaleStep):
            changes = self._read_scale(step, self._scale_tables[step_id], session, text)
        elif isinstance(step, YesNoStep):
            changes = self._read_yes_no(step, session, text)
        elif isinstance(step, RecallStep):
            changes = read_recall(step, slots, text)
        elif step.kind == "date":
            changes[step.slot] = answers.read_date(text, today)
        elif isinstance(step, CommitStep) and phase == "due":
            events = [str(slots[s]) for s in step.events_from if isinstance(slots.get(s), str)]
            due = answers.read_date(text, today, events)
            pick = slots.get("pick") or {}
            changes["commitments"] = [*(slots.get("commitments") or []), {**pick, "due_date": due}]
            queued = slots.get(PICKS_QUEUED) or []  # picked together: each gets its date next
            changes["pick"] = queued[0] if queued else None
            changes[PICKS_QUEUED] = queued[1:] or None
        elif isinstance(step, CommitStep):
            room = step.max - len(slots.get("commitments") or [])
            picked = _commit_picks(text, self.choices(state_id, slots), step.min, room)
            picks = [p for p in (self._pick_of(slots, c) for c in picked) if p is not None]
            changes["pick"] = picks[0] if picks else None
            changes[PICKS_QUEUED] = picks[1:] or None
            if len(picks) > 1:
                titles = understanding.join_labels([str(p.get("title") or "") for p in picks])
                session.say(messages.COMMIT_SEVERAL.format(titles=titles))
        if slots.get(SUGGESTED):  # an answer ends a pending suggestion; `back` restores it
            changes.setdefault(SUGGESTED, None)
        undo = {key: copy.deepcopy(slots[key]) if key in slots else _ABSENT for key in changes}
        slots.update(changes)
        return {"state": state_id, "undo": undo}

    def _pick_of(self, slots: dict[str, Any], choice: Choice) -> dict[str, Any] | None:
        """The step a commit answer picked: a recommendation, or an open step again."""
        if choice.value.startswith(AGAIN):
            return again_pick(slots, choice.value)
        rec = self.recommendations.get(choice.value)
        return recommendation_dict(rec) if rec else None

    def _apply_known(
        self, state_id: str, step: Step, session: Session, text: str, today: dt.date
    ) -> dict[str, Any]:
        """The reply to "still so?": yes keeps the remembered answer; a change asks the
        question afresh; an answer to the question itself is taken as the new answer."""
        slots = session.slots
        rule = step.remember
        values = remembering.offered(step, slots) or {}
        known = slots.get(remembering.KNOWN)
        said = remembering.read_reply(rule, text) if rule is not None else None
        if said == remembering.YES:
            rest = remembering.forget(self.dialogue, step, known, changed=False)
            changes = {**values, remembering.KNOWN: rest, remembering.KNOWN_AT: None}
            undo = {k: copy.deepcopy(slots[k]) if k in slots else _ABSENT for k in changes}
            slots.update(changes)
            session.known = True
            return {"state": state_id, "undo": undo, "known": True}
        rest = remembering.forget(self.dialogue, step, known, changed=True)
        afresh = {remembering.KNOWN: rest, remembering.KNOWN_AT: None}
        if said == remembering.CHANGED:
            raise answers.InvalidAnswer(messages.KNOWN_CHANGED, keep=afresh)
        if isinstance(step, TextStep) and not understanding.is_sentence(text):
            raise answers.InvalidAnswer(messages.KNOWN_UNCLEAR)
        before = {k: slots.get(k) for k in afresh}
        slots.update(afresh)
        try:
            entry = self.apply_answer(state_id, session, text, today)
        except answers.InvalidAnswer:
            slots.update(before)
            raise answers.InvalidAnswer(messages.KNOWN_UNCLEAR) from None
        entry["undo"].update(before)
        return entry

    # -- reading answers in the user's own words ----------------------------------------

    def _read_choice(
        self, state_id: str, step: ChoiceStep, session: Session, text: str
    ) -> dict[str, Any]:
        """The slots a choice answer sets; or InvalidAnswer with a suggestion or a check."""
        slots = session.slots
        table = self._choice_tables[state_id]
        pending = slots.get(SUGGESTED)
        suggested = pending.get("values", []) if isinstance(pending, dict) else []
        if not isinstance(pending, dict) or pending.get("at") != state_id:
            suggested = []
        reading = understanding.read_choices(text, table, suggested)
        note_slot = f"{step.slot}{NOTE_SUFFIX}"
        keep: dict[str, Any] = {SUGGESTED: None} if pending else {}
        if reading.note:
            keep[note_slot] = _add_note(slots.get(note_slot), reading.note)
        if reading.outcome == "picked":
            labels = [table.label(v) for v in reading.values]
            changes: dict[str, Any] = {
                step.slot: list(reading.values) if step.multiple else reading.values[0],
                f"{step.slot}_label": understanding.join_labels(labels),
                **keep,
            }
            more = (  # only a sentence kept as a note can tell more than its option
                understanding.beyond_the_choice(text, table, reading.values)
                if reading.note
                else None
            )
            if more is not None or f"{step.slot}_more" in slots:
                changes[f"{step.slot}_more"] = more
            if reading.by_meaning or len(reading.values) > 1:
                template = messages.TAKEN_AS_NOTED if reading.note else messages.TAKEN_AS
                session.say(template.format(labels=changes[f"{step.slot}_label"]))
            return changes
        suggestion = {SUGGESTED: {"at": state_id, "values": list(reading.values)}}
        if reading.outcome == "suggest":
            numbered = [table.numbered(v) for v in reading.values]
            if len(numbered) == 1:
                message = messages.SUGGEST_ONE.format(option=numbered[0])
            else:
                message = messages.SUGGEST_TWO.format(first=numbered[0], second=numbered[1])
            raise answers.InvalidAnswer(message, keep={**keep, **suggestion}, reask=False)
        if reading.outcome == "which":
            message = self._which(table, reading)
            raise answers.InvalidAnswer(message, keep={**keep, **suggestion}, reask=False)
        if reading.outcome == "too_many":
            message = messages.TOO_MANY.format(count=len(reading.values), most=step.max)
            raise answers.InvalidAnswer(message, keep=keep, reask=False)
        if reading.outcome == "declined":
            raise answers.InvalidAnswer(messages.SUGGESTION_DECLINED, keep=keep)
        if reading.note:
            noted = messages.KEPT_AS_NOTE.format(noted=_noted(text))
            raise answers.KeptAsNote(note_slot, keep[note_slot], noted, keep=keep)
        raise answers.InvalidAnswer(messages.PICK_ONE, keep=keep)

    @staticmethod
    def _which(table: understanding.ChoiceTable, reading: understanding.ChoiceReading) -> str:
        """Which of the two options named matters most: in the user's own word where one word
        named each ("Money or position — which…?"), else as the list shows them."""
        words = reading.words
        if len(words) == 2 and all(_names_alone(table, w) for w in words):
            first, second = words
            return messages.WHICH_ONE.format(first=first[:1].upper() + first[1:], second=second)
        first, second = (table.numbered(v) for v in reading.values[:2])
        return messages.WHICH_OF_TWO.format(first=first, second=second)

    def _read_scale(
        self,
        step: ScaleStep,
        table: understanding.ScaleTable,
        session: Session,
        text: str,
    ) -> dict[str, Any]:
        reading = understanding.read_scale(text, table)
        note_slot = f"{step.slot}{NOTE_SUFFIX}"
        keep = (
            {note_slot: _add_note(session.slots.get(note_slot), reading.note)}
            if reading.note
            else {}
        )
        if reading.outcome == "number" and reading.value is not None:
            if reading.note:
                session.say(messages.SCALE_TAKEN.format(value=reading.value, high=step.max))
            return {step.slot: reading.value, **keep}
        if reading.outcome == "which":
            first, second = reading.candidates[:2]
            message = messages.SCALE_WHICH.format(first=first, second=second)
        elif reading.outcome == "unsure":
            message = messages.SCALE_UNSURE.format(low=step.min, high=step.max)
        elif reading.outcome == "no_number":
            message = messages.SCALE_NOTED.format(
                noted=_noted(text),
                low=step.min,
                high=step.max,
                low_label=f" ({step.min_label})" if step.min_label else "",
                high_label=f" ({step.max_label})" if step.max_label else "",
            )
        else:
            raise answers.InvalidAnswer(
                messages.SCALE.format(low=step.min, high=step.max), keep=keep
            )
        raise answers.InvalidAnswer(message, keep=keep, reask=False)

    @staticmethod
    def _read_yes_no(step: YesNoStep, session: Session, text: str) -> dict[str, Any]:
        reading = understanding.read_yes_no(text)
        note_slot = f"{step.slot}{NOTE_SUFFIX}"
        keep = (
            {note_slot: _add_note(session.slots.get(note_slot), reading.note)}
            if reading.note
            else {}
        )
        if reading.value is not None:
            if reading.note:
                answer = "yes" if reading.value else "no"
                session.say(messages.YES_NO_TAKEN.format(answer=answer))
            return {step.slot: reading.value, **keep}
        if reading.hedged:
            raise answers.InvalidAnswer(messages.YES_NO_UNSURE, keep=keep, reask=False)
        if reading.note:
            message = messages.YES_NO_NOTED.format(noted=_noted(text))
            raise answers.InvalidAnswer(message, keep=keep, reask=False)
        raise answers.InvalidAnswer(messages.YES_NO)

    @staticmethod
    def _read_text(step: TextStep, phase: str, slots: dict[str, Any], text: str) -> dict[str, Any]:
        """The slots a text answer sets. With `name:`, a long answer is kept whole as the note
        and a short name suggested in the slot; at the name question, a "yes" keeps that
        suggestion and a few words replace it."""
        said = text.strip()
        if phase != "name":
            offered = remembering.offered_words(step, slots)
            if offered is not None:
                if accepts_suggestion(said):
                    said = offered.strip()  # "yes, that's it": the words they already gave
                elif (more := yes_and_more(said)) is not None:
                    # "yes, and they won't come to our meetings either": both, in order
                    first = offered.strip()
                    stop = "" if first.endswith((".", "!", "?")) else "."
                    said = f"{first}{stop} {more[:1].upper()}{more[1:]}"
        rule = step.name
        if rule is None:
            return {step.slot: said}
        note = f"{step.slot}{NOTE_SUFFIX}"
        if phase != "name":
            if word_count(said) <= rule.max_words:
                return {step.slot: said, note: None}
            return {step.slot: suggest_name(said, rule.max_words), note: said}
        if accepts_suggestion(said):
            return {step.slot: slots.get(step.slot)}
        if said.lower().strip(" .!") in answers.NO:
            raise answers.InvalidAnswer(messages.NAME_INSTEAD)
        if word_count(said) > rule.max_words:
            raise answers.InvalidAnswer(messages.NAME_SHORTER.format(most=rule.max_words))
        name = name_given(said)
        if not name:
            raise answers.InvalidAnswer(messages.NAME_INSTEAD)
        return {step.slot: name}

    def acknowledge(self, state_id: str, slots: dict[str, Any], typed: str) -> str | None:
        """What to say about the answer just accepted at `state_id`, before moving on."""
        acks = self._acks.get(state_id)
        return acks.choose(slots, typed) if acks is not None else None

    def date_answered(self, state_id: str, slots: dict[str, Any]) -> str | None:
        """The ISO date just given at a date question (to read it back), else None."""
        _, step, phase = self.resolve(state_id)
        if step.kind == "date":
            return slots.get(step.slot)
        if step.kind == "commit" and phase == "due":
            commitments = slots.get("commitments") or []
            return commitments[-1].get("due_date") if commitments else None
        return None

    @staticmethod
    def undo(session: Session, entry: dict[str, Any]) -> None:
        """Put the slots back as they were before the answer recorded in `entry`."""
        undo = entry.get("undo", {})
        for key, previous in undo.items():
            if previous == _ABSENT:
                session.slots.pop(key, None)
            else:
                session.slots[key] = previous
        if SUGGESTED not in undo:
            # A suggestion made after that answer belongs to a question no longer asked.
            session.slots.pop(SUGGESTED, None)

    def answered(self, slots: dict[str, Any]) -> list[tuple[str, str]]:
        """(title, answer) for every question answered so far, in dialogue order, with the
        user's own words wherever they were kept (even before an answer was picked)."""
        rows: list[tuple[str, str]] = []
        shown: set[str] = set()  # a slot several questions fill (one per role) is said once
        for step_id, step in self.dialogue.steps.items():
            slot = getattr(step, "slot", None)
            if slot is None or slot in shown:
                continue
            value = slots.get(slot)
            if isinstance(step, ChoiceStep) and not _offers(step, value):
                continue  # another question that fills this slot was the one answered
            noted = step.kind in NOTED_KINDS or (isinstance(step, TextStep) and step.name)
            note = slots.get(f"{slot}{NOTE_SUFFIX}") if noted else None
            if value is None and not note:
                continue
            if value is None:
                value = f"in your words: {note}"
            else:
                if step.kind in ("choice", "recall"):
                    value = slots.get(f"{slot}_label", value)
                elif step.kind == "yesno":
                    value = "yes" if value else "no"
                elif isinstance(step, ScaleStep):
                    value = f"{value} of {step.max}"
                if note:
                    value = f"{value} (in your words: {note})"
            text = str(value)
            if len(text) > 200:
                text = text[:197] + "…"
            rows.append((step.title or step_id.replace("_", " "), text))
            shown.add(slot)
        return rows


def _offers(step: ChoiceStep, value: Any) -> bool:
    """Whether a choice question offers every value in `value` (None: nothing to tell)."""
    values = value if isinstance(value, list) else [value]
    offered = {c.value for c in step.choices}
    return value is None or all(v in offered for v in values)


#: Ways of saying "no more" once enough next steps are picked.
_ENOUGH = re.compile(
    r"\b(?:enough|done|plenty|that's it|that's all|finished|no more|"
    r"that(?:'ll| will) do|i'm good|im good|all set|leave it there)\b"
)


def _commit_picks(text: str, choices: tuple[Choice, ...], least: int, room: int) -> list[Choice]:
    """The next steps picked by number, id or title, or by words ("the briefing one"),
    several at once ("1 and 5", "the councillor one and the paper"), at most `room`; once
    enough are picked, "no", "no thanks" or "that's plenty" stop."""
    try:
        return [answers.pick_choice(text, choices)]
    except answers.InvalidAnswer:
        enough = next((c for c in choices if c.value == ENOUGH), None)
        said = understanding.normal(text)
        stopping = understanding.read_yes_no(text).value is False or _ENOUGH.search(said)
        if enough is not None and stopping:
            return [enough]
        if stopping:  # not yet the fewest steps a plan needs: say why, kindly
            raise answers.InvalidAnswer(messages.COMMIT_ONE_MORE.format(least=least)) from None
        table = understanding.ChoiceTable(
            [understanding.Option(c.value, c.label) for c in choices if c.value != ENOUGH],
            multiple=True,
            most=max(room, 1),
        )
        reading = table.read(text)
        if reading.outcome == "picked":
            by_value = {c.value: c for c in choices}
            return [by_value[v] for v in reading.values]
        if reading.outcome == "too_many":
            message = messages.COMMIT_TOO_MANY.format(count=len(reading.values), most=room)
            raise answers.InvalidAnswer(message, reask=False) from None
        raise


def _noted(text: str) -> str:
    """One of the ways of saying "I've kept your words", picked by the words themselves so a
    conversation does not hear the same sentence each time."""
    return messages.NOTED[zlib.crc32(text.encode()) % len(messages.NOTED)]


def _add_note(kept: Any, note: str) -> str:
    """The user's words at a question: a second sentence there adds to the first."""
    if not isinstance(kept, str) or not kept or note in kept:
        return note
    if kept in note:
        return note
    return f"{kept} / {note}"


def _names_alone(table: understanding.ChoiceTable, word: str) -> bool:
    """Whether one word of the user's can stand for its option in "Money or position —
    which matters most here?": a noun the option's label or `also:` has on its own, not a
    verb out of a label ("asked", from "Nobody has really asked")."""
    if not word.isalpha() or word.endswith("ed"):
        return False
    said = understanding.normal(word)
    stemmed = understanding.stem(said)
    return said in table.exact or stemmed in table.also_words or stemmed in table.words
