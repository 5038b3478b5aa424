"""Reads answers written in the user's own words: which options a sentence names, a yes or a
no inside a sentence, a rating given in words.

Pure functions over text and small tables built once per step (per dialogue version). Each
returns a reading (what was understood, how surely, and the sentence to keep as the user's
note) and says nothing to the user: `bot.steps` turns a reading into slots or a short reply.
Exact answers (a number, a label, a value) are a dictionary look-up; words are only weighed,
and rapidfuzz only runs, when that fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process

#: An answer of this many words or more is the user's account, kept as their note.
SENTENCE_WORDS = 4

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "“": '"', "”": '"'})
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: Words that never identify an option on their own.
STOP_WORDS = _word_set(
    """
    a about above after again all also am an and any are as at be because been being both but
    by can could did do does doing don't each else even ever every for from get gets got
    had has have having he her here him his how i i'd i'll i'm i've if in into is isn't it
    it's its just kind least let like lot lots me might mine more most much must my no nor not
    of off often on once one ones only or other others our ours out over own perhaps please
    probably quite rather really same say says she should so some sort still such than that
    that's the their theirs them then there there's these they they'd they're this those
    though through thing things to too under until up us very was way we we'd we're we've well
    were what when where whether which while who whoever whom whose why will with would yes
    yet you you're your yours maybe think guess suppose mostly mainly option options number
    numbers first second third fourth fifth last
    """
)
#: Domain words too general to pick an option even when only one option's label has them
#: (everyone "manages" something: a charity, a team, a ward).
WEAK_WORDS = frozenset(
    {"service", "people", "person", "group", "team", "organisation", "body"}
    | {"manage", "manager", "manag", "management"}
)

#: Words after a word of an option that make it a pointer at that option.
_POINTERS = frozenset({"one", "ones", "option", "bit", "answer"})

_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "4th": 4,
    "5th": 5,
    "6th": 6,
    "7th": 7,
    "8th": 8,
    "9th": 9,
    "10th": 10,
}
NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
#: Words that may sit around numbers in a list of picks ("options 1 and 3, I think").
_LIST_FILLER = _word_set(
    "a and or the option options number numbers no one ones both i think guess say would "
    "i'd maybe probably perhaps it's its is it then also plus too as well definitely "
    "mostly mainly really just"
)
_ALL = frozenset({"all", "everything", "all of them", "all of the above", "the lot", "all of it"})
_CONFIRM_CORE = _word_set(
    "yes y yeah yep yup yea aye correct right exactly sure ok okay indeed spot"
)
_CONFIRM_PHRASES = frozenset(
    {"that's it", "thats it", "that one", "that's the one", "that's right", "it is", "it does"}
)
_DECLINE_CORE = _word_set("no n nope nah neither not wrong none")
_FORMER = _word_set("first former 1st") | {"first one", "the first", "the first one", "the former"}
_LATTER = _word_set("second latter 2nd other") | {
    "second one",
    "the second",
    "the second one",
    "the latter",
    "the other",
    "the other one",
}
#: "the one", "that one": not the number one.
_NOT_A_NUMBER_BEFORE_ONE = _word_set("the that this which any some no every each")


def normal(text: str) -> str:
    """Lower case, one kind of apostrophe, single spaces, no closing punctuation."""
    return " ".join(text.lower().translate(_QUOTES).split()).strip(" .!?")


def tokens(said: str) -> list[str]:
    """The words of a normalised answer, apostrophes kept inside words (it's, don't)."""
    return _TOKEN.findall(said)


def is_sentence(text: str) -> bool:
    """A sentence rather than a short answer: it is kept as the user's note."""
    return len(text.split()) >= SENTENCE_WORDS


#: A whole message that asks the coach about its question rather than answering it: why it
#: is asked, what it means, for an example. Anchored at both ends, so an answer that merely
#: contains "I don't understand why they…" is an answer.
_ABOUT_THE_QUESTION = re.compile(
    r"^(?:sorry,? |but |ok,? |so,? |um,? |hmm,? )?(?:"
    r"why (?:do|did|would|are|is|does|should) (?:you|that|this|it|i)\b.{0,40}"
    r"\b(?:need|ask|asking|want|know|matter|matters|relevant|important|help|helps|tell)\b.{0,30}"
    r"|why (?:this|that|ask|asking)(?: question)?(?: (?:that|this|me|now))?"
    r"|why do you ask|why are you asking(?: me)?(?: (?:that|this))?"
    r"|what (?:do|did) you mean(?: by (?:that|this|it|\w+(?: \w+)?))?"
    r"|what does (?:that|this|it|\w+(?: \w+)?) mean(?: here)?"
    r"|what(?:'s| is) (?:a |an |the )?(?:mandate|point of power|points of power|asymmetry)"
    r"|(?:i )?(?:don't|do not|dont) (?:understand|get|follow)(?: (?:the|your|this|that) "
    r"question| what you mean| what you're asking| that| this| it)?"
    r"|(?:can|could|would) you (?:explain|rephrase|clarify|give (?:me )?an example|"
    r"say (?:that|it) (?:again|differently|another way))(?: (?:that|this|it|please))?"
    r"|(?:like what|such as|for example|for instance|(?:an |any )?examples?)"
    r"|what (?:sort|kind) of (?:thing|things|answer|answers)(?: do you (?:mean|want))?"
    r"|what (?:are you|do you want me to be) (?:asking|looking for|after)"
    r")(?: (?:exactly|please|though|here|again))?[?!. ]*$"
)


def asks_about_the_question(text: str) -> Literal["why", "meaning"] | None:
    """Whether the whole message asks about the question instead of answering it: why it is
    asked ("why do you need to know that?") or what it means ("what do you mean?", "such
    as?"). Such a message gets an answer and the question again, and is never the answer."""
    said = normal(text)
    if len(said) > 120 or _ABOUT_THE_QUESTION.match(said) is None:
        return None
    return "why" if said.lstrip("sorbuthmk, ").startswith("why") else "meaning"


_OOPS = (
    r"(?:sorry|soz|oops|whoops|oh|ah|wait|hang on|hold on|actually|no|my (?:mistake|bad)|apologies)"
)
#: A message that takes back the last answer: it was meant for another question, or wrong.
#: Anchored at the start; the plain forms ("that 2 was meant for us") need no apology, the
#: loose ones ("wrong one", "I got that wrong") need one before them, so an answer such as
#: "the money was meant for us" or "they asked the wrong question" stays an answer.
_TAKES_BACK = re.compile(
    rf"^(?:{_OOPS}[,.!]* )*(?:"
    r"(?:that|the|my)(?: last| previous)? (?:answer|one|number|score|rating|[1-5]|one|two|"
    r"three|four|five) (?:was|were|is) (?:meant |supposed to be |intended |actually )?"
    r"(?:for|about) (?:us|me|my|our|myself|ourselves|the (?:other|next|last|previous))\b"
    r"|i (?:meant|intended) (?:that|it|the last one|my last answer) (?:for|to be|as)\b"
    r"|i (?:answered|put|typed|gave|entered) (?:that |it )?(?:for |to |in )?the wrong "
    r"(?:question|one|box|number|answer)\b"
    r"|(?:can|could|may) (?:i|we) (?:change|correct|redo|fix|undo) (?:my|that|the)"
    r"(?: last| previous)? (?:answer|one|number|score)\b"
    r"|(?:can|could|may) (?:i|we) go back\b"
    r"|(?:let'?s|let me|please) go back\b"
    r"|go back(?: one| a step| to the (?:last|previous) question)?$"
    r")"
    rf"|^(?:{_OOPS}[,.!]* )+(?:"
    r"wrong (?:one|answer|number|question)"
    r"|that (?:was|were) (?:meant |supposed to be |intended )?for (?:us|me|myself|ourselves|"
    r"the (?:other|next|last|previous))"
    r"|i (?:made a mistake|got (?:that|it) wrong|messed (?:that|it) up|mixed (?:them|those|it) up)"
    r"|that'?s (?:wrong|not right|not what i meant)"
    r")\b"
)


def takes_back_the_last_answer(text: str) -> bool:
    """Whether the message takes back the last answer ("sorry, that 2 was meant for us",
    "oops, wrong one", "can I change my last answer?"): the coach undoes it and asks that
    question again, rather than taking the correction as the answer to this one."""
    said = normal(text)
    return len(said) <= 200 and _TAKES_BACK.match(said) is not None


#: Words of having done (or not done) something: a sentence with one may be news of a step.
_PROGRESS = re.compile(
    r"\b(?:i|we|i've|we've|i'd|we'd|i have|we have)\s+(?:have\s+|had\s+|did\s+|finally\s+|"
    r"just\s+|already\s+|eventually\s+|never\s+|not\s+)?(?:tried|emailed|e-mailed|rang|"
    r"phoned|called|met|spoke|talked|wrote|written|sent|asked|went|got|managed|started|done|"
    r"did|contacted|messaged|texted|raised|took|chased|followed up|booked|arranged|"
    r"submitted|pitched|presented|invited|visited)\b"
    r"|\b(?:sort of|kind of|partly|half done|not yet|no luck|went well|it worked|didn't work|"
    r"did not work|done it|did it|got nowhere|heard back|got back to|no reply|no response|"
    r"haven't (?:done|managed|had|got)|didn't (?:get|manage|have)|ran out of time)\b"
)


def reports_progress(text: str) -> bool:
    """Whether a sentence tells of something done, tried or not done ("I emailed Shelter but
    only one got back to me"): it may be news of one of the user's steps."""
    return _PROGRESS.search(normal(text)) is not None


#: Short forms people write for the words a step is titled with: "rang Cllr Ahmed" is news
#: of "Take the issue to your councillor or MP".
_SHORT_FORMS = {"cllr": "councillor", "cllrs": "councillor", "mps": "mp", "ceo": "chief"}


def _content_words(said: str) -> list[str]:
    """The words of a normalised answer that carry meaning (no stop words, none under three
    letters but "mp")."""
    return [t for t in tokens(said) if t not in STOP_WORDS and (len(t) > 2 or t == "mp")]


def _content_stems(text: str) -> set[str]:
    return {stem(_SHORT_FORMS.get(t, t)) for t in _content_words(normal(text))}


def shared_words(text: str, other: str) -> int:
    """How many content words (by stem) `text` shares with `other`."""
    return len(_content_stems(text) & _content_stems(other))


def stem(word: str) -> str:
    """A light English stem, so funds and funding meet ("fund"); not a distance."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith(("ss", "us", "is")):
        return word
    for suffix, keep in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("xes", "x"),
        ("ing", ""),
        ("ed", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)] + keep
            doubled = len(base) >= 4 and base[-1] == base[-2] and base[-1] not in "lsz"
            if suffix in ("ing", "ed") and doubled:
                base = base[:-1]  # dropped → drop, planned → plan
            return base
    return word


def _number(token: str) -> int | None:
    if token.isascii() and token.isdigit():
        return int(token)
    return None


#: Where one clause of an answer ends and the next begins.
_CLAUSE_BREAK = re.compile(
    r"[.;!?]+\s*|,\s*|\s+(?:and|but|so|because|though|while|whereas)\s+|\s+-+\s+"
)
#: Content words a clause needs to tell something of its own.
_MORE_WORDS = 5


def beyond_the_choice(text: str, table: ChoiceTable, values: Sequence[str]) -> str | None:
    """What an answer told beyond naming its option, when it is a clause of its own: for
    "I'm a councillor and the director won't share the SEND figures with scrutiny", picked as
    the councillor's option, "the director won't share the SEND figures with scrutiny"; None
    when the rest is short ("six staff and a lot of volunteers") or there is no rest."""
    picked = {table.index[v] for v in values if v in table.index}
    kept: list[tuple[int, int]] = []
    at = 0
    for boundary in [*_CLAUSE_BREAK.finditer(text), None]:
        end = boundary.start() if boundary is not None else len(text)
        clause = text[at:end]
        if clause.strip() and not _about_the_option(clause, table, picked):
            kept.append((at, end))
        at = boundary.end() if boundary is not None else end
    for start, _end in kept:
        rest = text[start:].strip(" ,;-.")
        if len(_content_words(normal(rest))) >= _MORE_WORDS and _SOMEONE_ELSE.match(rest):
            return rest[:1].upper() + rest[1:]
    return None


#: How someone starts saying who they are: "I'm a…", "I run…", "as a…".
_WHO_I_AM = re.compile(
    r"^\W*(?:i'?m|i am|i work|i run|i manage|i lead|i chair|i volunteer|i sit|we'?re|we are|"
    r"we run|as an?|as the|my role|my job|it'?s an?|its an?)\b"
)


#: A clause about someone else doing something: "the director won't…", "they're cutting…",
#: "Sam at the council…", "nobody asked us".
_SOMEONE_ELSE = re.compile(
    r"(?i)(?:the|they|they're|he|he's|she|she's|our|their|his|her|nobody|no one|someone|"
    r"everyone|it|it's|there|this|that|these|those|my (?:manager|boss|line manager|director|"
    r"head|team|chair|ceo|chief|council|trust|service))\b|(?-i:[A-Z][a-z]+\b(?<!\bI))"
)


def _about_the_option(clause: str, table: ChoiceTable, picked: set[int]) -> bool:
    """Whether a clause is the answer itself: it says a picked option and is short, or says
    who they are ("I'm the manager of a small charity"). A long clause that only mentions
    an option's word ("the director won't share the figures with scrutiny") tells more."""
    said = normal(clause)
    if _WHO_I_AM.match(said):
        return True
    return len(_content_words(said)) < 3 and _names_option(clause, table, picked)


def _names_option(clause: str, table: ChoiceTable, picked: set[int]) -> bool:
    """Whether a clause says one of the picked options (a word of its label, or a phrase)."""
    stems = [stem(t) for t in tokens(normal(clause))]
    if any(picked & table.words.get(s, set()) for s in stems):
        return True
    if any(table.also_words.get(s) in picked for s in stems):
        return True
    line = f" {' '.join(stems)} "
    return any(i in picked and phrase in line for phrase, i in table.phrases)


def join_labels(labels: Sequence[str]) -> str:
    """Several labels as one readable phrase: "A, b and c" (a capital only where it belongs);
    three or more that have commas of their own are set apart by semicolons ("A; b, c; and d")."""
    shown = [labels[0], *(_mid_sentence(label) for label in labels[1:])] if labels else []
    if len(shown) <= 2:
        return " and ".join(shown)
    comma = "; " if any("," in label for label in shown) else ", "
    last = "; and " if comma == "; " else " and "
    return comma.join(shown[:-1]) + last + shown[-1]


def _mid_sentence(label: str) -> str:
    first = label.split(" ", 1)[0].rstrip(",;:.")
    if first in ("I", "I'm", "I’m") or not first.isalpha() or first[1:] != first[1:].lower():
        return label  # "I…", "NHS…", "McKenzie…" keep their capitals
    return label[:1].lower() + label[1:]


# == choices ==================================================================================


@dataclass(frozen=True)
class Option:
    """One option as the reader sees it: what is stored, what is shown, what else means it."""

    value: str
    label: str
    also: tuple[str, ...] = ()
    alone: bool = False


ChoiceOutcome = Literal["picked", "which", "too_many", "suggest", "declined", "nothing"]


@dataclass(frozen=True)
class ChoiceReading:
    """What an answer to a choice question was understood to say.

    `picked`: `values` are the answer. `which`: it named several options where one is
    wanted; `too_many`: more than the step's `max`; `suggest`: nothing sure, these are the
    closest; `declined`: a "no" to the options suggested; `nothing`: nothing close.
    """

    outcome: ChoiceOutcome
    values: tuple[str, ...] = ()
    #: The user's own word for each value, where one short word named it ("money").
    words: tuple[str, ...] = ()
    #: The sentence to keep as the user's note (a long answer that was not an exact one).
    note: str | None = None
    #: Understood from words (an `also:` phrase, part of a label, a typo), not typed exactly.
    by_meaning: bool = False


@dataclass
class _Evidence:
    position: int
    strong: bool = False
    score: float = 0.0
    word: str = ""


class ChoiceTable:
    """What one choice step's options answer to, worked out once per dialogue version."""

    def __init__(
        self, options: Sequence[Option], *, multiple: bool = False, most: int | None = None
    ) -> None:
        self.options = tuple(options)
        self.multiple = multiple
        self.most = most
        self.index = {o.value: i for i, o in enumerate(self.options)}
        #: normal form → (option, whether it is a synonym rather than the option itself)
        self.exact: dict[str, tuple[int, bool]] = {}
        for i, option in enumerate(self.options):
            for key in (str(i + 1), option.value, option.value.replace("_", " "), option.label):
                self.exact.setdefault(normal(key), (i, False))
        for i, option in enumerate(self.options):
            for phrase in option.also:
                self.exact.setdefault(normal(phrase), (i, True))
        #: The readings of exact answers, made once: the common case costs a look-up.
        self.exact_readings = {
            said: self._decide([i], [said], None, by_meaning=synonym)
            for said, (i, synonym) in self.exact.items()
        }
        self.labels = tuple(normal(o.label) for o in self.options)
        #: Multi-word labels and `also:` phrases as " stem stem ", found anywhere in a sentence.
        self.phrases: list[tuple[str, int]] = []
        #: Content words of labels and values → the options that have them.
        self.words: dict[str, set[int]] = {}
        #: Single-word `also:` phrases: the admin said this word means that option.
        self.also_words: dict[str, int] = {}
        for i, option in enumerate(self.options):
            for source in (option.label, option.value.replace("_", " ")):
                stems = [stem(t) for t in tokens(normal(source))]
                if len(stems) > 1:
                    self.phrases.append((f" {' '.join(stems)} ", i))
                for s in stems:
                    if s not in STOP_WORDS and len(s) > 1:
                        self.words.setdefault(s, set()).add(i)
            for phrase in option.also:  # an admin's phrase counts whole, never word by word
                stems = [stem(t) for t in tokens(normal(phrase))]
                if len(stems) == 1:
                    self.also_words.setdefault(stems[0], i)
                elif stems:
                    self.phrases.append((f" {' '.join(stems)} ", i))
        #: What a word may be a start or a typo of; general words must be typed as they are.
        self.vocabulary = sorted((set(self.words) | set(self.also_words)) - WEAK_WORDS)

    def label(self, value: str) -> str:
        return self.options[self.index[value]].label

    def numbered(self, value: str) -> str:
        """An option as the list shows it: "3. Expertise and specialist knowledge"."""
        i = self.index[value]
        return f"{i + 1}. {self.options[i].label}"

    # -- reading --------------------------------------------------------------------------

    def read(self, text: str, suggested: Sequence[str] = ()) -> ChoiceReading:
        said = normal(text)
        exact = self.exact_readings.get(said)
        if exact is not None:  # the cheap path: a number, a value, a label or an `also:` phrase
            return exact
        words = tokens(said)
        pending = [self.index[v] for v in suggested if v in self.index]
        starts = [
            i for i, label in enumerate(self.labels) if len(said) >= 3 and label.startswith(said)
        ]
        if len(starts) == 1 and not pending:
            return self._decide(starts, [said], None, by_meaning=False)
        refs, out_of_range, wants_all, wants_both = self._references(words)
        evidence, unexplained = self._evidence(words)
        note = text.strip() if is_sentence(text) and unexplained else None
        strong = sorted((ev.position, i, ev.word) for i, ev in evidence.items() if ev.strong)
        found = sorted([*refs, *strong])
        picks = list(dict.fromkeys(i for _, i, _ in found))
        said_words = {i: w for _, i, w in reversed(found)}
        if pending:
            reply = self._to_suggestion(said, words, pending, picks, wants_both, note)
            if reply is not None:
                return reply
        if len(starts) == 1:
            return self._decide(starts, [said], None, by_meaning=False)
        if wants_all and self.multiple:
            everything = [i for i, o in enumerate(self.options) if not o.alone]
            return self._decide(everything, [], note, by_meaning=False)
        if wants_both and len(self.options) == 2:
            return self._decide([0, 1], [], note, by_meaning=False)
        if picks:
            chosen = [said_words.get(i, "") for i in picks]
            return self._decide(picks, chosen, note, by_meaning=bool(strong))
        if out_of_range:
            return ChoiceReading("nothing", note=note)
        closest = self._closest(evidence)
        if closest:
            values = tuple(self.options[i].value for i in closest)
            return ChoiceReading("suggest", values, note=note, by_meaning=True)
        return ChoiceReading("nothing", note=note)

    def _decide(
        self, picks: list[int], words: Sequence[str], note: str | None, *, by_meaning: bool
    ) -> ChoiceReading:
        named = dict(zip(picks, words, strict=False))
        if self.multiple:
            concrete = [i for i in picks if not self.options[i].alone]
            picks = concrete or picks[:1]
            values = tuple(self.options[i].value for i in picks)
            said = tuple(named.get(i, "") for i in picks)
            if self.most is not None and len(picks) > self.most:
                return ChoiceReading("too_many", values, said, note, by_meaning)
            return ChoiceReading("picked", values, said, note, by_meaning)
        values = tuple(self.options[i].value for i in picks)
        said = tuple(named.get(i, "") for i in picks)
        if len(values) > 1:
            return ChoiceReading("which", values[:2], said[:2], note, by_meaning)
        return ChoiceReading("picked", values, said, note, by_meaning)

    def _references(self, words: list[str]) -> tuple[list[tuple[int, int, str]], bool, bool, bool]:
        """Options named by number or position ("1 and 3", "the second one", "option 2").

        Digits count unless a word follows that makes them a quantity ("2 councillors");
        ordinals and number words only in an answer made of them ("the second", "one and
        three"), so "being first to interpret" is read by its words.
        """
        listed = " ".join(words)
        list_like = all(
            w in _LIST_FILLER
            or w in _ORDINALS
            or w in NUMBER_WORDS
            or w == "last"
            or _number(w) is not None
            for w in words
        )
        refs: list[tuple[int, int, str]] = []
        out_of_range = False
        for position, word in enumerate(words):
            n = _number(word)
            pointer = position + 1 < len(words) and words[position + 1] in _POINTERS
            if n is None and word in _ORDINALS and pointer:
                n = _ORDINALS[word]  # "the first one and the scrutiny one"
            elif n is None and list_like:
                if word in _ORDINALS:
                    n = _ORDINALS[word]
                elif word == "last":
                    n = len(self.options)
                elif word in NUMBER_WORDS and not (
                    word == "one"
                    and position > 0
                    and (
                        words[position - 1] in _ORDINALS
                        or words[position - 1] in _NOT_A_NUMBER_BEFORE_ONE
                        or words[position - 1] == "last"
                    )
                ):
                    n = NUMBER_WORDS[word]
            elif n is not None and position + 1 < len(words):
                following = words[position + 1]
                if following not in _LIST_FILLER and _number(following) is None:
                    continue  # "2 councillors": a quantity, not an option
            if n is None:
                continue
            if 1 <= n <= len(self.options):
                refs.append((position * 100, n - 1, word))
            else:
                out_of_range = True
        return refs, out_of_range, listed in _ALL, "both" in words and list_like

    def _evidence(self, words: list[str]) -> tuple[dict[int, _Evidence], int]:
        """Which options the words of an answer point at, and how surely; and how many of its
        words point at none (a sentence that says more than its answer is kept as a note)."""
        evidence: dict[int, _Evidence] = {}
        unexplained = 0
        stems = [stem(w) for w in words]
        padded = f" {' '.join(stems)} "

        def note(i: int, position: int, strong: bool, score: float, word: str) -> None:
            ev = evidence.setdefault(i, _Evidence(position))
            ev.position = min(ev.position, position)
            ev.score += score
            if strong and not ev.strong:
                ev.strong, ev.word = True, word

        covered: set[int] = set()  # words inside a phrase found: "not done" is not "done"
        for phrase, i in self.phrases:
            at = padded.find(phrase)
            if at >= 0:
                first = padded[:at].count(" ")
                covered.update(range(first, first + phrase.count(" ") - 1))
                note(i, first * 100, True, 2.0, phrase.strip())
        # In a sentence a whole word that begins a label's word is its own word ("she works
        # for the council" is not "social workers"); only a short answer may be a fragment.
        fragments = len(words) <= 3
        for position, (word, s) in enumerate(zip(words, stems, strict=True)):
            # "the organisation one", "the councillor option": pointing at an option by a
            # word of it, even a general word.
            pointed = position + 1 < len(words) and words[position + 1] in _POINTERS
            if (
                position in covered
                or s in STOP_WORDS
                or word in STOP_WORDS
                or len(s) < 2
                or _number(s) is not None
                or word in NUMBER_WORDS
            ):
                continue
            at = position * 100 + 1
            if s in self.also_words:
                note(self.also_words[s], at, True, 1.0, word)
                continue
            owners = self.words.get(s)
            if owners:
                for i in owners:
                    sure = len(owners) == 1 and (pointed or s not in WEAK_WORDS)
                    note(i, at, sure, 1.0 / len(owners), word)
                continue
            near = self._near(s, fragments) if len(s) >= 4 else []
            unexplained += not near
            for key, quality, sure in near:
                if key in self.also_words:
                    note(self.also_words[key], at, sure, quality, word)
                    continue
                owners = self.words[key]
                sure = sure and len(owners) == 1 and key not in WEAK_WORDS
                for i in owners:
                    note(i, at, sure, quality / len(owners), word)
        return evidence, unexplained

    def _near(self, s: str, fragments: bool = True) -> list[tuple[str, float, bool]]:
        """Vocabulary words this word starts, or is a likely typo of (rapidfuzz):
        (word, closeness 0..1, whether that alone is sure). A word that starts another is
        sure only where the answer is short enough to be a fragment (`fragments`)."""
        starts = [k for k in self.vocabulary if k.startswith(s) and k != s]
        if len(starts) == 1:
            return [(starts[0], 0.9 if fragments else 0.5, fragments)]
        if starts:
            return [(k, 0.5, False) for k in starts]
        found = process.extract(s, self.vocabulary, scorer=fuzz.ratio, score_cutoff=75, limit=2)
        if len(found) == 2 and found[0][1] == found[1][1]:
            return [(key, score / 200, False) for key, score, _ in found]  # a tie
        return [(key, score / 100, score >= 85 and len(s) >= 6) for key, score, _ in found[:1]]

    def _closest(self, evidence: dict[int, _Evidence]) -> list[int]:
        """The one or two options worth suggesting, or none when nothing stands out."""
        ranked = sorted(evidence.items(), key=lambda item: (-item[1].score, item[0]))
        ranked = [(i, ev) for i, ev in ranked if ev.score >= 0.5]
        if not ranked:
            return []
        if len(ranked) >= 3 and ranked[0][1].score == ranked[2][1].score:
            return []  # one common word shared by three options says nothing
        top = ranked[0][1].score
        return [i for i, ev in ranked[:2] if ev.score >= 0.6 * top]

    def _to_suggestion(
        self,
        said: str,
        words: list[str],
        pending: list[int],
        picks: list[int],
        wants_both: bool,
        note: str | None,
    ) -> ChoiceReading | None:
        """A reply to "That sounds like X. Is that right?": a yes, a no, "the first", "both".

        None when the answer names options of its own: those are read instead.
        """
        if picks and not (wants_both or said in _FORMER or said in _LATTER):
            if note is not None and not set(picks) <= set(pending):
                # A sentence that answers something else: ask, rather than take a side-remark.
                values = tuple(self.options[i].value for i in picks[:2])
                return ChoiceReading("suggest", values, note=note, by_meaning=True)
            return None
        if len(pending) == 2 and (said in _FORMER or said in _LATTER):
            return self._decide(
                pending[:1] if said in _FORMER else pending[1:], [], note, by_meaning=False
            )
        if wants_both and len(pending) == 2:
            return self._decide(pending, [], note, by_meaning=False)
        if not words:
            return None
        if said in _CONFIRM_PHRASES or words[0] in _CONFIRM_CORE:
            if len(pending) == 1:
                return self._decide(pending, [], note, by_meaning=False)
            values = tuple(self.options[i].value for i in pending)
            return ChoiceReading("suggest", values, note=note, by_meaning=True)
        if words[0] in _DECLINE_CORE:
            return ChoiceReading("declined", note=note)
        return None


def read_choices(text: str, table: ChoiceTable, suggested: Sequence[str] = ()) -> ChoiceReading:
    """Which of the table's options an answer names: by number, label, value, an `also:`
    phrase, part of a label, a typo, or several of these ("1 and 3", "money and position").

    `suggested` are the options the coach last suggested at this question, so that "yes",
    "no", "the first" and "both" can be read as replies to the suggestion.
    """
    return table.read(text, suggested)


# == yes / no =================================================================================

YesNoOutcome = Literal["yes", "no", "unsure"]


@dataclass(frozen=True)
class YesNoReading:
    """A yes (True), a no (False) or None when unsure, with the sentence kept as a note."""

    value: bool | None
    note: str | None = None
    #: The answer hedged ("maybe", "it depends") rather than saying nothing either way.
    hedged: bool = False


_YES = YesNoReading(True)
_NO = YesNoReading(False)
YES = frozenset({"yes", "y", "yeah", "yep", "yup", "true", "sure", "ok", "okay", "1"})
NO = frozenset({"no", "n", "nope", "nah", "false", "not really", "2"})

_STRONG_YES = ["yes", "yeah", "yea", "yep", "yup", "aye", "of course", "definitely", "absolutely"]
_WEAK_YES = [
    "sure",
    "certainly",
    "indeed",
    "correct",
    "that's right",
    "i think so",
    "i believe so",
    "i guess so",
    "probably",
    "most likely",
    "likely",
    "i do",
    "we do",
    "i did",
    "we did",
    "i would",
    "we would",
    "i will",
    "i'll",
    "we will",
    "we'll",
    "i can",
    "we can",
    "there is",
    "there's",
    "there are",
    "there will be",
    "coming up",
    "willing",
    "happy to",
    "glad to",
    "keen",
    "ok",
    "okay",
    "fine",
    "don't mind",
    "wouldn't mind",
    "why not",
    "i am",
    "we are",
]
_STRONG_NO = [
    "no",
    "nope",
    "nah",
    "definitely not",
    "absolutely not",
    "certainly not",
    "of course not",
    "no way",
    "not at all",
    "never",
]
_WEAK_NO = [
    "not",
    "none",
    "nobody",
    "no one",
    "nothing",
    "neither",
    "not really",
    "not yet",
    "not that i know of",
    "not as far as i know",
    "not that i'm aware of",
    "probably not",
    "i don't think so",
    "don't think so",
    "i doubt it",
    "doubt it",
    "rather not",
    "i'd rather not",
    "i'd prefer not",
    "prefer not",
    "hardly",
    "unlikely",
    "cannot",
]
_UNSURE = [
    "maybe",
    "perhaps",
    "possibly",
    "might",
    "it depends",
    "depends",
    "not sure",
    "unsure",
    "i'm not sure",
    "don't know",
    "dont know",
    "do not know",
    "no idea",
    "who knows",
    "sort of",
    "kind of",
    "hard to say",
    "difficult to say",
    "can't say",
    "cannot say",
    "partly",
    "in a way",
    "yes and no",
    "50/50",
    "fifty fifty",
]


def _cue_pattern(groups: Iterable[tuple[str, Iterable[str]]]) -> re.Pattern[str]:
    alternatives = sorted(
        ((phrase, name) for name, phrases in groups for phrase in phrases),
        key=lambda item: -len(item[0]),
    )
    names: dict[str, str] = {}
    parts = []
    for n, (phrase, name) in enumerate(alternatives):
        names[f"c{n}"] = name
        parts.append(f"(?P<c{n}>{re.escape(phrase)})")
    pattern = re.compile(r"(?<![\w'])(?:" + "|".join(parts) + r")(?![\w'])")
    _CUE_NAMES[pattern.pattern] = names
    return pattern


_CUE_NAMES: dict[str, dict[str, str]] = {}
_YES_NO_CUES = _cue_pattern(
    [
        ("yes!", _STRONG_YES),
        ("yes", _WEAK_YES),
        ("no!", _STRONG_NO),
        ("no", _WEAK_NO),
        ("unsure", _UNSURE),
    ]
)
_CONTRACTED_NO = re.compile(
    r"\w+n't\b|\b(?:dont|doesnt|didnt|isnt|arent|wasnt|werent|wont|cant|"
    r"couldnt|wouldnt|shouldnt|havent|hasnt|hadnt)\b"
)
_CLAUSE = re.compile(r"[.;!?]|,?\s+but\s+|\s+(?:al)?though\s+")


def _cues(clause: str) -> list[str]:
    names = _CUE_NAMES[_YES_NO_CUES.pattern]
    found: list[tuple[int, str]] = []
    for match in _YES_NO_CUES.finditer(clause):
        group = match.lastgroup
        if group is not None:
            found.append((match.start(), names[group]))
    taken = [range(m.start(), m.end()) for m in _YES_NO_CUES.finditer(clause)]
    for match in _CONTRACTED_NO.finditer(clause):
        if not any(match.start() in r for r in taken):
            found.append((match.start(), "no"))
    return [name for _, name in sorted(found)]


def read_yes_no(text: str) -> YesNoReading:
    """A yes or a no, from a word ("yep") or inside a sentence ("not that I know of. They
    don't invite us", "yes, if it keeps the clinic open"); None when it hedges or says
    neither. The first clause decides: "yes, but they never ask us" is a yes.
    """
    said = normal(text)
    if said in YES:
        return _YES
    if said in NO:
        return _NO
    note = _note(text, _YES_NO_CUES.sub(" ", _CONTRACTED_NO.sub(" ", said)))
    clauses = [c for c in _CLAUSE.split(said) if c and c.strip(" ,")]
    for clause in (clauses[0] if clauses else said, said):
        cues = _cues(clause)
        if not cues:
            continue
        strong = {c.rstrip("!") for c in cues if c.endswith("!")}
        leaning = {c.rstrip("!") for c in cues if c != "unsure"}
        if len(strong) == 1:
            return YesNoReading(strong.pop() == "yes", note)
        if "unsure" in cues or len(leaning) != 1:
            return YesNoReading(None, note, hedged=True)
        return YesNoReading(leaning.pop() == "yes", note)
    return YesNoReading(None, note)


# == scales ===================================================================================

#: Words for a rating, as a share of the way from the bottom of the scale to the top.
_SCALE_WORDS: dict[str, float] = {
    **dict.fromkeys(
        ["not at all", "none at all", "very little", "hardly any", "none", "nothing", "zero"], 0.0
    ),
    **dict.fromkeys(["hardly", "barely", "next to nothing", "almost nothing"], 0.0),
    **dict.fromkeys(
        ["a little", "a bit", "not much", "not a lot", "not a great deal", "not very much"], 0.25
    ),
    **dict.fromkeys(["little", "slightly", "low", "limited", "not really"], 0.25),
    **dict.fromkeys(
        ["some", "somewhat", "moderate", "moderately", "medium", "middling", "average"], 0.5
    ),
    **dict.fromkeys(["half", "halfway", "in the middle", "in between", "so so", "so-so"], 0.5),
    **dict.fromkeys(
        ["a lot", "lots", "quite a lot", "quite a bit", "plenty", "a fair amount", "high"], 0.75
    ),
    **dict.fromkeys(["fairly high", "considerable", "significant", "much", "a good deal"], 0.75),
    **dict.fromkeys(
        ["a great deal", "completely", "totally", "entirely", "hugely", "massively"], 1.0
    ),
    **dict.fromkeys(["enormously", "all of it", "everything", "very high", "very much"], 1.0),
    **dict.fromkeys(["loads", "tons", "masses", "heaps", "loads of it", "a huge amount"], 1.0),
    **dict.fromkeys(["hardly anything", "next to nothing at all", "barely anything"], 0.0),
    # Sizes people reach for: "huge, they own thousands of homes", "tiny, two staff".
    **dict.fromkeys(["huge", "massive", "enormous", "vast", "immense", "gigantic"], 1.0),
    **dict.fromkeys(["a massive amount", "an enormous amount", "a vast amount"], 1.0),
    **dict.fromkeys(["tiny", "minimal", "negligible", "minuscule", "nil", "zilch"], 0.0),
    **dict.fromkeys(["big", "large", "strong", "pretty high", "quite high"], 0.75),
    **dict.fromkeys(["small", "weak", "pretty low", "quite low", "quite small"], 0.25),
    # Said of the other side, against oneself: "they have far more, the whole budget".
    **dict.fromkeys(
        ["far more", "way more", "much more", "a lot more", "the whole", "all the power"], 1.0
    ),
    # Said of oneself, against them: "we know the young people far better than they do".
    **dict.fromkeys(["far better", "much better", "a lot better", "way better"], 1.0),
    **dict.fromkeys(["far less", "way less", "much less", "a lot less", "next to none"], 0.0),
    # Where someone sits (position scales run from "on the edge" to "at the centre").
    **dict.fromkeys(["very central", "right at the centre", "at the heart of it"], 1.0),
    **dict.fromkeys(["really central", "totally central", "completely central"], 1.0),
    **dict.fromkeys(["central", "fairly central", "quite central", "pretty central"], 0.75),
    **dict.fromkeys(["peripheral", "on the margins", "on the fringes", "on the outside"], 0.0),
    **dict.fromkeys(["out on the edge", "right on the edge", "nowhere near the centre"], 0.0),
}
_SHORT_ONLY = frozenset(w for w in _SCALE_WORDS if " " not in w)
#: Single words strong enough to rate an answer they open, even a long one.
_OPENING_WORDS = frozenset(
    {"loads", "tons", "masses", "heaps", "lots", "plenty", "hardly", "barely", "nothing"}
    | {"everything", "completely", "totally", "hugely", "massively", "enormously", "none"}
    | {"huge", "massive", "enormous", "vast", "immense", "tiny", "minimal", "negligible"}
    | {"central", "peripheral"}
)
_SCALE_UNSURE = re.compile(
    r"\b(?:maybe|perhaps|depends|not sure|unsure|don't know|dont know|no idea|hard to say|"
    r"difficult to say|sort of|kind of|can't say)\b"
)
_OUT_OF = re.compile(r"(\d+(?:\.\d+)?)\s*(?:/|out of|of)\s*(\d+)")
#: A number on its own: not "3rd", "3pm", "£5" or "3 Dec" (dates say nothing of a rating);
#: a full stop after it ends a sentence ("Five. They chair it").
_A_NUMBER = re.compile(
    r"(?<![\d.£$€])(\d+(?:\.\d+)?)(?:ish)?(?!\w|\.\d)"
    r"(?!\s*(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b)"
)
_SPELLED = re.compile(r"\b(?:" + "|".join(NUMBER_WORDS) + r")\b")
_CLAUSE_END = re.compile(r"\s*[.,;:!?]")


def _one_alone(said: str, start: int, end: int) -> bool:
    """Whether "one" ends a clause ("One. We're not on the board", "I'd say one, honestly"):
    a rating then, not "one of them" or "no one"."""
    before = said[:start].split()
    return bool(_CLAUSE_END.match(said, end)) and not (
        before and before[-1] in _NOT_A_NUMBER_BEFORE_ONE | {"no"}
    )


_QUANTITY = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?\s+(?!(?:out|of|or|and|to|because|as|but|if|i|maybe|"
    r"probably|really|at|for|in|on|now|then|though|tops|max|at most|at best|overall|"
    r"or so|ish|too|also|again|honestly|tbh|here|there|myself|ourselves|both|anyway|"
    r"frankly|realistically|we|they|it|you|surely|definitely|easily|at least)\b)(?=[a-z])"
)
_RATING_FILLER = _word_set(
    "a an i i'd i'm it it's its is they them we say would give about around roughly maybe "
    "probably perhaps think guess so out of the that's just really definitely well um er "
    "yes no not very quite"
)
_WHOLE_NUMBER = re.compile(r"(-?\d+)(?:\s*/\s*(\d+))?")

ScaleOutcome = Literal["number", "which", "unsure", "no_number", "refused"]


@dataclass(frozen=True)
class ScaleReading:
    """A rating read from an answer, or why there is none."""

    outcome: ScaleOutcome
    value: int | None = None
    #: `which`: the numbers the answer hovered between ("3 or 4", "3.5").
    candidates: tuple[int, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class ScaleTable:
    """One scale step's range and the words that mean a rating on it, built once."""

    low: int
    high: int
    low_label: str | None = None
    high_label: str | None = None
    exact: dict[str, int] = field(default_factory=dict)
    pattern: re.Pattern[str] | None = None
    meanings: dict[str, int] = field(default_factory=dict)
    #: The step's own labels: they count inside a sentence even when they are one word.
    own: frozenset[str] = frozenset()
    #: The reading of each rating, made once.
    ratings: dict[int, ScaleReading] = field(default_factory=dict)

    @classmethod
    def build(
        cls, low: int, high: int, low_label: str | None = None, high_label: str | None = None
    ) -> ScaleTable:
        meanings = {w: round(low + share * (high - low)) for w, share in _SCALE_WORDS.items()}
        if low_label:
            meanings[normal(low_label)] = low
        if high_label:
            meanings[normal(high_label)] = high
        exact = dict(meanings)
        for n in range(low, high + 1):
            exact[str(n)] = n
        if low_label:
            exact[normal(f"{low} – {low_label}")] = low
        if high_label:
            exact[normal(f"{high} – {high_label}")] = high
        phrases = sorted(meanings, key=len, reverse=True)
        pattern = re.compile(
            r"(?<![\w'])(?:" + "|".join(re.escape(p) for p in phrases) + r")(?![\w'])"
        )
        own = frozenset(normal(label) for label in (low_label, high_label) if label)
        ratings = {n: ScaleReading("number", n) for n in range(low, high + 1)}
        return cls(low, high, low_label, high_label, exact, pattern, meanings, own, ratings)


def read_scale(text: str, table: ScaleTable) -> ScaleReading:
    """A rating from "4", "4/5", "four out of five", "about 4", "a great deal", the scale's own
    labels, or a number inside a sentence. "3 or 4" asks which; a sentence with no number
    is kept as the note (`no_number`).
    """
    said = normal(text)
    low, high = table.low, table.high
    whole = _WHOLE_NUMBER.fullmatch(said)
    if whole:
        value, out_of = int(whole.group(1)), whole.group(2)
        if out_of is not None and int(out_of) not in (high, 0) and 0 <= value <= int(out_of):
            value = max(low, min(high, round(value * high / int(out_of))))
        return table.ratings.get(value) or _REFUSED
    known = table.exact.get(said)
    if known is not None:
        return table.ratings[known]
    short = len(tokens(said)) <= 3
    spelled = _SPELLED.sub(
        lambda m: (
            m.group(0)
            if m.group(0) == "one" and not short and not _one_alone(said, m.start(), m.end())
            else str(NUMBER_WORDS[m.group(0)])
        ),
        said,
    )
    # "two churches", "3 staff": a number followed by a thing counts things, it rates nothing.
    spelled = _QUANTITY.sub(" ", spelled)
    numbers: list[int] = []
    rest = spelled
    for match in _OUT_OF.finditer(spelled):
        x, y = float(match.group(1)), int(match.group(2))
        if y != high and y > 0 and 0 <= x <= y:
            x = max(low, min(high, x * high / y))
        numbers.extend(_whole_numbers(x))
        rest = rest.replace(match.group(0), " ")
    for match in _A_NUMBER.finditer(rest):
        numbers.extend(_whole_numbers(float(match.group(1))))
    left = _A_NUMBER.sub(" ", rest)
    if table.pattern is not None:
        left = table.pattern.sub(" ", left)
    note = _note(text, left)
    in_range = list(dict.fromkeys(n for n in numbers if low <= n <= high))
    out_of_range = len(in_range) < len(set(numbers))
    if len(in_range) == 1:
        return ScaleReading("number", in_range[0], note=note)
    if len(in_range) > 1:
        return ScaleReading("which", candidates=tuple(sorted(in_range)[:2]), note=note)
    if out_of_range:
        return ScaleReading("refused") if note is None else ScaleReading("no_number", note=note)
    meant: list[int] = []
    if table.pattern is not None:
        for match in table.pattern.finditer(said):
            phrase = match.group(0)
            # A strong word opening the answer rates it: "Oh loads, they're the NHS".
            opening = phrase in _OPENING_WORDS and len(said[: match.start()].split()) <= 1
            if phrase in _SHORT_ONLY and not short and phrase not in table.own and not opening:
                continue  # "some" or "low" inside a sentence is not a rating
            meant.append(table.meanings[phrase])
    meant = list(dict.fromkeys(meant))
    if len(meant) == 1:
        return ScaleReading("number", meant[0], note=note)
    if len(meant) > 1:
        return ScaleReading("which", candidates=tuple(sorted(meant)[:2]), note=note)
    if _SCALE_UNSURE.search(said):
        return ScaleReading("unsure", note=note)
    if note is not None:
        return ScaleReading("no_number", note=note)
    return ScaleReading("refused")


_REFUSED = ScaleReading("refused")


def _note(text: str, left: str) -> str | None:
    """The answer, kept as the user's note, when it says more than the answer itself: a
    sentence with words left once the yes, the no or the rating is taken out."""
    if not is_sentence(text):
        return None
    rest = [w for w in tokens(left) if w not in _RATING_FILLER]
    return text.strip() if len(rest) >= 2 else None


def _whole_numbers(x: float) -> list[int]:
    """3 → [3]; 3.5 → [3, 4]: a half-way answer hovers between two ratings."""
    if x == int(x):
        return [int(x)]
    return [int(x), int(x) + 1]
