"""The pattern language of `dialogues/safety.yaml`: text to word stems, patterns to regexes.

Text is lower-cased, contractions and common spellings are written out ("don't" → do not,
"im" → i am), each word is reduced to its Snowball stem (threatened → threaten), and the
message becomes one line of `stem/word` tokens with `#` between sentences. A pattern is
parsed once and compiled to a regular expression over that line, so the regex engine (C)
does the matching, and a rule can only ever match whole words.

    word        the word in any form: `threaten` = threatens, threatened, threatening
    =word       only this form, as written: `=ridicule` (not "ridiculous", same stem)
    word*       any word that starts so, as written: `stockpil*`
    (a|b c)     one of the alternatives (each may be several words)
    [a|b]       optional: one of them, or nothing
    @name       any word of the word list `name` (`words:` in safety.yaml)
    ...  ...5   up to 3 (or 5) words of anything, within one sentence
    A ~4 B      A and B within 4 words of each other, in either order (a sentence break
                between them counts as a word)
    $           the end of a sentence or of the message: `better off $`
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import snowballstemmer  # runs PyStemmer's C build of the stemmer when it is installed

#: Between sentences in a prepared line; gaps never cross it.
BREAK = "#"
DEFAULT_GAP = 3
MOST_WORDS = 20

_stemmer = snowballstemmer.stemmer("english")
_stem_lock = threading.Lock()  # a Snowball stemmer object is not safe to share mid-call
_stems: dict[str, str] = {}


def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of one lower-case word (of its verb, for an irregular past
    form: slept → sleep); remembered once worked out."""
    found = _stems.get(word)
    if found is None:
        with _stem_lock:
            found = _stemmer.stemWord(IRREGULAR.get(word, word))
        if len(_stems) < 200_000:  # a long-running server meets many one-off words
            _stems[word] = found
    return found


def _words(text: str) -> list[str]:
    return text.split()


# -- normalising text --------------------------------------------------------------------

#: A word hidden by asterisks (p***, n*gg*r, f***ing), a word (letters or digits, with
#: inner apostrophes: don't, manager's), or a run of sentence-ending punctuation.
TOKEN = re.compile(r"[^\W\d_]+\*(?:\*|[^\W\d_])[\w*]*|\w+(?:'\w+)*|[.!?;\n…]+")
_BREAKS = frozenset(".!?;\n…")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})

#: Words written out, with or without their apostrophe, and common chat spellings.
SPELLED_OUT: dict[str, tuple[str, ...]] = {
    "cannot": ("can", "not"),
    "cant": ("can", "not"),
    "can't": ("can", "not"),
    "wont": ("will", "not"),
    "won't": ("will", "not"),
    "shan't": ("shall", "not"),
    "ain't": ("is", "not"),
    "aint": ("is", "not"),
    "im": ("i", "am"),
    "ive": ("i", "have"),
    "youre": ("you", "are"),
    "theyre": ("they", "are"),
    "theyve": ("they", "have"),
    "thats": ("that", "is"),
    "whats": ("what", "is"),
    "shes": ("she", "is"),
    "noone": ("no", "one"),
    "hes": ("he", "is"),
    # dialect spellings, Scots and northern English ("topping masel", "I cannae cope")
    "masel": ("myself",),
    "mysel": ("myself",),
    "meself": ("myself",),
    "maself": ("myself",),
    "mysen": ("myself",),
    "hissel": ("himself",),
    "hisself": ("himself",),
    "hersel": ("herself",),
    "cannae": ("can", "not"),
    "canny": ("can", "not"),
    "dinnae": ("do", "not"),
    "didnae": ("did", "not"),
    "wouldnae": ("would", "not"),
    "couldnae": ("could", "not"),
    "isnae": ("is", "not"),
    "wasnae": ("was", "not"),
    "dinna": ("do", "not"),
    "canna": ("can", "not"),
    "aboot": ("about",),
    "intae": ("into",),
    "tae": ("to",),
    "efter": ("after",),
    "oot": ("out",),
    "hame": ("home",),
    "hed": ("he", "would"),
    "youll": ("you", "will"),
    "theyll": ("they", "will"),
    "itll": ("it", "will"),
    "thatll": ("that", "will"),
    "weve": ("we", "have"),
    "youve": ("you", "have"),
    "youd": ("you", "would"),
    "theyd": ("they", "would"),
    "whos": ("who", "is"),
    "theres": ("there", "is"),
    "wheres": ("where", "is"),
    "u": ("you",),
    "ur": ("your",),
    "gonna": ("going", "to"),
    "wanna": ("want", "to"),
    "gotta": ("got", "to"),
    "dunno": ("do", "not", "know"),
    "cos": ("because",),
    "coz": ("because",),
    "cuz": ("because",),
}
for _base in _words("do does did is was are were have has had could would should must need might"):
    SPELLED_OUT[_base + "nt"] = SPELLED_OUT[_base + "n't"] = (_base, "not")
for _base in _words("would could should might must"):
    SPELLED_OUT[_base + "ve"] = (_base, "have")
#: Contractions typed without their apostrophe that are also words ("ill", "hell", "id"):
#: read as the contraction only when a verb follows and the word before does not make them
#: the plain word ("hell sort me out" is "he will", "off ill" and "what the hell" are not).
AMBIGUOUS: dict[str, tuple[str, ...]] = {
    "ill": ("i", "will"),
    "hell": ("he", "will"),
    "shell": ("she", "will"),
    "id": ("i", "would"),
    "shed": ("she", "would"),
}
#: Irregular past forms, as their verb: a stem does not join "slept" to "sleep". Forms that
#: are mostly other words are left out ("gone", "left" is kept: "left me out" = leave).
IRREGULAR: dict[str, str] = {
    form: verb
    for verb, forms in (
        line.split(":")
        for line in _words(
            """
            arise:arose,arisen awake:awoke,awoken beat:beaten become:became begin:began,begun
            bend:bent bite:bitten bleed:bled blow:blew,blown break:broke,broken bring:brought
            build:built burn:burnt buy:bought catch:caught choose:chose,chosen come:came
            creep:crept deal:dealt dig:dug draw:drew,drawn dream:dreamt drink:drank,drunk
            drive:drove,driven eat:ate,eaten fall:fallen feel:felt fight:fought find:found
            flee:fled fling:flung fly:flew,flown forget:forgot,forgotten forgive:forgave,forgiven
            freeze:froze,frozen give:gave,given go:went grow:grew,grown hang:hung hear:heard
            hide:hid,hidden hold:held keep:kept kneel:knelt know:knew,known lead:led lean:leant
            leap:leapt learn:learnt leave:left lend:lent lose:lost make:made mean:meant meet:met
            pay:paid ride:rode,ridden ring:rang,rung run:ran say:said see:saw,seen seek:sought
            sell:sold send:sent shake:shook,shaken shoot:shot sink:sank,sunk sit:sat sleep:slept
            slide:slid speak:spoke,spoken spend:spent spit:spat stand:stood steal:stole,stolen
            strike:struck swear:swore,sworn sweep:swept swim:swam,swum swing:swung take:took,taken
            teach:taught tear:tore,torn tell:told think:thought throw:threw,thrown wake:woke,woken
            wear:wore,worn weep:wept win:won withdraw:withdrew,withdrawn write:wrote,written
            """
        )
    )
    for form in forms.split(",")
}
#: After an apostrophe: what the ending stands for ("'s" only after these words).
_ENDINGS = {"m": "am", "re": "are", "ve": "have", "ll": "will", "d": "would"}
_IS_BEFORE_S = frozenset(
    ["he", "she", "it", "that", "there", "here", "what", "who", "where", "how"]
)


def masked(word: str) -> str:
    """A word hidden by asterisks, written one way: its letters before the first asterisk,
    `***`, and its letters after the last one (n*****, n****r, n*gg*r → n***, n***r, n***r)."""
    head, _, rest = word.partition("*")
    return head + "***" + rest.rpartition("*")[2]


def spell_out(word: str) -> tuple[str, ...]:
    """A lower-case word as the plain words it stands for: "didn't" → ("did", "not")."""
    known = SPELLED_OUT.get(word)
    if known is not None:
        return known
    if "'" not in word:
        return (word,)
    base, _, ending = word.partition("'")
    if ending == "t" and base.endswith("n"):
        return (base[:-1], "not")
    if ending == "s":
        if base == "let":
            return ("let", "us")
        return (base, "is") if base in _IS_BEFORE_S else (base,)  # possessive: the noun
    if ending in _ENDINGS:
        return (base, _ENDINGS[ending])
    return tuple(part for part in word.split("'") if part)


# -- the pattern language ----------------------------------------------------------------


class PatternError(ValueError):
    """A pattern that cannot be used; `offset` is where in the pattern the problem is."""

    def __init__(self, message: str, offset: int = 0) -> None:
        self.offset = offset
        super().__init__(message)


@dataclass(frozen=True)
class Word:
    stem: str


@dataclass(frozen=True)
class Prefix:
    start: str


@dataclass(frozen=True)
class Exact:
    word: str
    stem: str


@dataclass(frozen=True)
class WordList:
    name: str
    stems: tuple[str, ...]


@dataclass(frozen=True)
class Gap:
    most: int


@dataclass(frozen=True)
class End:
    """The end of a sentence, or of the message."""


@dataclass(frozen=True)
class Seq:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alt:
    options: tuple[Node, ...]
    optional: bool = False


@dataclass(frozen=True)
class Near:
    left: Node
    right: Node
    within: int


Node = Word | Exact | Prefix | WordList | Gap | End | Seq | Alt | Near

_LEX = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<punct>[()\[\]|])
  | (?P<gap>(?:\.\.\.|…)(?P<gap_n>\d+)?)
  | (?P<near>~(?P<near_n>\d+)?)
  | (?P<list>@(?P<list_name>[a-z][a-z0-9_]*))
  | (?P<end>\$)
  | (?P<masked>[^\W\d_]+\*[\w*]*\*[^\W\d_]*)
  | (?P<word>=?[^\W_]+(?:['’][^\W_]+)*\*?)
  | (?P<hyphen>-)
    """,
    re.VERBOSE,
)
_KINDS = ("space", "punct", "gap", "near", "list", "end", "masked", "word", "hyphen")
_HINTS = {
    "?": ": to make words optional, put them in [ ]",
    "#": ": the end of a sentence is $",
    "*": ": * ends a word (harass*), after 3 letters at least",
}

#: Words nearly every message has: a pattern needing only these would match almost always.
STOP_WORDS = frozenset(
    _words(
        """
        i me my mine myself we us our ours ourselves you your yours yourself he him his himself
        she her hers herself it its itself they them their theirs themselves themself one
        a an the and or but if so as than then that this these those there here what which who
        whom whose when where why how all any some each every no not nor only own same too very
        just also still even ever about again to of in on at by for from with into onto over
        under up down out off through after before until while because
        am is are was were be been being do does did done have has had having will would shall
        should can could may might must ok okay yes yeah really well lot lots thing things
        """
    )
)
STOP_STEMS = frozenset(stem(w) for w in STOP_WORDS)
#: Frequent in coaching talk, though they carry meaning: a worse key than a rarer word.
_FREQUENT_STEMS = frozenset(
    stem(w)
    for w in _words(
        """
        feel felt think know want need like see look tell told ask asked come came take took
        give gave keep kept put time day week year people person work job meet meeting talk
        said say way back now today last next new right left good bad big little other
        get got go going went make made
        care end ask hold speak office family better resident rate card contract trust set
        agenda commission run decide centre plan month year team board council member
        """
    )
)


@dataclass(frozen=True)
class Keys:
    """Tokens of which any match must contain at least one: the quick screen's index."""

    stems: frozenset[str]
    prefixes: frozenset[str]

    def common(self) -> list[str]:
        return sorted(self.stems & STOP_STEMS)

    def rank(self) -> tuple[int, int, int, int, int]:
        """Lower is a better key: whole words, no common ones, few alternatives, long words."""
        shortest = min((len(s) for s in self.stems | self.prefixes), default=0)
        frequent = len(self.stems & _FREQUENT_STEMS)
        size = len(self.stems) + len(self.prefixes)
        return (len(self.prefixes), len(self.common()), frequent, size, -shortest)

    def __or__(self, other: Keys) -> Keys:
        return Keys(self.stems | other.stems, self.prefixes | other.prefixes)


class _Parser:
    def __init__(self, text: str, words: Mapping[str, Iterable[str]]) -> None:
        self.text = text
        self.words = words
        self.tokens = self._lex(text)
        self.at = 0

    def _lex(self, text: str) -> list[tuple[str, str, int]]:
        tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            m = _LEX.match(text, pos)
            if m is None:
                hint = _HINTS.get(text[pos], "")
                raise PatternError(f"'{text[pos]}' has no meaning in a pattern{hint}", pos)
            kind = next(k for k in _KINDS if m.group(k) is not None)
            if kind not in ("space", "hyphen"):
                tokens.append((kind, m.group(), pos))
            pos = m.end()
        return tokens

    def peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def parse(self) -> Node:
        if not self.tokens:
            raise PatternError("the pattern is empty: it would match every message", 0)
        node = self.alternatives()
        left = self.peek()
        if left is not None:
            raise PatternError(f"'{left[1]}' does not close anything", left[2])
        return node

    def alternatives(self) -> Node:
        options = [self.sequence()]
        while (token := self.peek()) is not None and token[1] == "|":
            self.at += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else Alt(tuple(options))

    def sequence(self) -> Node:
        start = self.peek()
        where = start[2] if start else len(self.text)
        left = self.parts(where)
        token = self.peek()
        if token is None or token[0] != "near":
            return left
        self.at += 1
        within = _count(token[1].lstrip("~"), token[2], "~", default=None)
        right = self.parts(token[2] + len(token[1]))
        if (after := self.peek()) is not None and after[0] == "near":
            raise PatternError("one ~ per group: put one side in ( ) to nest them", after[2])
        return Near(left, right, within)

    def parts(self, where: int) -> Node:
        items: list[Node] = []
        while (token := self.peek()) is not None and token[1] not in ("|", ")", "]"):
            kind, value, pos = token
            if kind == "near":
                break
            self.at += 1
            if kind == "gap":
                if not items or isinstance(items[-1], Gap):
                    raise PatternError("a gap (...) must come between two words", pos)
                items.append(Gap(_count(value.lstrip(".…"), pos, "...", default=DEFAULT_GAP)))
            elif kind == "list":
                name = value[1:]
                if name not in self.words:
                    known = ", ".join(f"@{n}" for n in sorted(self.words)) or "none"
                    raise PatternError(f"no word list is called '{name}' (known: {known})", pos)
                stems = sorted({s for w in self.words[name] for s in _word_stems(w)})
                items.append(WordList(name, tuple(stems)))
            elif kind == "word":
                items.append(self.word(value, pos))
            elif kind == "masked":
                items.append(Word(masked(value.lower())))
            elif kind == "end":
                items.append(End())
            elif value in "([":
                inner = self.alternatives()
                close = self.peek()
                want = ")" if value == "(" else "]"
                if close is None or close[1] != want:
                    raise PatternError(f"'{value}' is never closed with '{want}'", pos)
                self.at += 1
                if value == "[":
                    options = inner.options if isinstance(inner, Alt) else (inner,)
                    items.append(Alt(options, optional=True))
                else:
                    items.append(inner)
            else:
                raise PatternError(f"'{value}' does not close anything", pos)
        if not items:
            raise PatternError("nothing here to match: an empty alternative or side", where)
        if isinstance(items[-1], Gap):
            raise PatternError("a gap (...) must come between two words", where)
        return items[0] if len(items) == 1 else Seq(tuple(items))

    def word(self, value: str, pos: int) -> Node:
        lowered = value.lower().translate(_QUOTES)
        if lowered.startswith("="):
            exact = spell_out(lowered[1:].rstrip("*"))
            if len(exact) != 1 or lowered.endswith("*"):
                raise PatternError(f"'{value}': = takes one plain word", pos)
            return Exact(exact[0], stem(exact[0]))
        if lowered.endswith("*"):
            start = lowered[:-1]
            if len(start) < 3 or "'" in start:
                raise PatternError(f"'{value}': give at least 3 letters before a *", pos)
            return Prefix(start)
        stems = _word_stems(lowered)
        if len(stems) == 1:
            return Word(stems[0])
        return Seq(tuple(Word(s) for s in stems))


def _word_stems(word: str) -> list[str]:
    if "*" in word:  # a word list's masked word: p***
        return [masked(word.lower())]
    return [stem(w) for w in spell_out(word.lower().translate(_QUOTES))]


def _count(digits: str, pos: int, what: str, default: int | None) -> int:
    if not digits:
        if default is None:
            raise PatternError(f"say how many words apart, e.g. {what}4", pos)
        return default
    n = int(digits)
    if not 1 <= n <= MOST_WORDS:
        raise PatternError(f"{what}{n}: give a number of words from 1 to {MOST_WORDS}", pos)
    return n


def parse(pattern: str, words: Mapping[str, Iterable[str]]) -> Node:
    """The pattern as a tree; PatternError if it cannot be read or would match almost anything."""
    if pattern.strip() in ("*", "…", "..."):
        raise PatternError("a lone * or ... would match every message", 0)
    node = _Parser(pattern, words).parse()
    found = keys(node)
    if found is None:
        raise PatternError(
            "every part of this pattern is optional or a gap: it would match every message", 0
        )
    common = found.common()
    if common and shortest(node) <= 2:
        raise PatternError(
            "this pattern can match with only common words ("
            + ", ".join(common)
            + ") and would match almost every message: add a word that carries the meaning",
            0,
        )
    return node


def shortest(node: Node) -> int:
    """How few words a match of `node` can have."""
    if isinstance(node, Word | Exact | Prefix | WordList):
        return 1
    if isinstance(node, Gap | End):
        return 0
    if isinstance(node, Seq):
        return sum(shortest(i) for i in node.items)
    if isinstance(node, Alt):
        return 0 if node.optional else min(shortest(o) for o in node.options)
    return shortest(node.left) + shortest(node.right)


def keys(node: Node) -> Keys | None:
    """What every match of `node` must contain (None: it can match without any one word)."""
    found = required(node)
    return min(found, key=Keys.rank) if found else None


def required(node: Node) -> list[Keys]:
    """Sets of tokens such that every match of `node` holds one token of each set."""
    if isinstance(node, Word | Exact):
        return [Keys(frozenset({node.stem}), frozenset())]
    if isinstance(node, Prefix):
        return [Keys(frozenset(), frozenset({node.start}))]
    if isinstance(node, WordList):
        return [Keys(frozenset(node.stems), frozenset())]
    if isinstance(node, Gap | End):
        return []
    if isinstance(node, Alt):
        if node.optional:
            return []
        union = Keys(frozenset(), frozenset())
        for option in node.options:
            best = keys(option)
            if best is None:
                return []
            union = union | best
        return [union]
    parts = (node.left, node.right) if isinstance(node, Near) else node.items
    return [k for part in parts for k in required(part)]


# -- compiling to a regex over a prepared line -------------------------------------------

_ANY_WORD = rf" [^ {BREAK}][^ ]*"


def to_regex(node: Node) -> str:
    """A regex over a prepared line (` stem/word stem/word # stem/word …`) for `node`."""
    if isinstance(node, Word):
        return f" {re.escape(node.stem)}/[^ ]*"
    if isinstance(node, Exact):
        return f" {re.escape(node.stem)}/{re.escape(node.word)}(?![^ ])"
    if isinstance(node, Prefix):
        return f" [^ /]*/{re.escape(node.start)}[^ ]*"
    if isinstance(node, WordList):
        return " (?:" + "|".join(re.escape(s) for s in node.stems) + ")/[^ ]*"
    if isinstance(node, Gap):
        return f"(?:{_ANY_WORD}){{0,{node.most}}}"
    if isinstance(node, End):
        return f" {BREAK}"
    if isinstance(node, Seq):
        return "".join(to_regex(item) for item in node.items)
    if isinstance(node, Alt):
        # forms of one word share a stem: "(ask|asks|asked)" is one alternative, not three
        options = dict.fromkeys(to_regex(o) for o in node.options)
        body = "(?:" + "|".join(options) + ")"
        return body + "?" if node.optional else body
    gap = f"(?: [^ ]+){{0,{node.within}}}"  # may cross a sentence break
    left, right = to_regex(node.left), to_regex(node.right)
    return f"(?:{left}{gap}{right}|{right}{gap}{left})"


@dataclass(frozen=True)
class Compiled:
    """A pattern ready to run: its regex, its keys, and every stem it names.

    `keys` is the set the quick screen indexes the pattern by; `also` are the other sets of
    stems of which a message must hold one each before the regex is worth running, most
    selective first: "(notice|care) ... if i (died|disappeared)" needs a word of each.
    """

    source: str
    keys: Keys
    also: tuple[frozenset[str], ...]
    stems: frozenset[str]
    #: The stems a match can begin with (None: it may begin with any word), so the regex
    #: need only be tried where one of them stands, not at every position of the line.
    starts: frozenset[str] | None = None

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """Compiled on first use: most rules never run in a given process (their key stems
        never appear), and compiling all of them took most of a second at every start."""
        return re.compile(self.source)


def compile_pattern(pattern: str, words: Mapping[str, Iterable[str]]) -> Compiled:
    """One pattern compiled for the detector (PatternError if it is unusable)."""
    node = parse(pattern, words)
    found = keys(node)
    assert found is not None  # parse refused patterns without keys
    also = tuple(
        k.stems for k in sorted(set(required(node)) - {found}, key=Keys.rank) if not k.prefixes
    )
    first, empty = _starts(node)
    return Compiled(
        to_regex(node),
        found,
        also,
        frozenset(_stems_of(node)),
        None if first is None or empty else frozenset(first),
    )


def _starts(node: Node) -> tuple[set[str] | None, bool]:
    """The stems a match of `node` can begin with (None: any word, or not a stem), and
    whether it can match no words at all."""
    if isinstance(node, Word | Exact):
        return {node.stem}, False
    if isinstance(node, WordList):
        return set(node.stems), False
    if isinstance(node, Prefix | End | Gap):
        return None, isinstance(node, Gap)
    if isinstance(node, Seq):
        found: set[str] = set()
        for item in node.items:
            first, empty = _starts(item)
            if first is None:
                return None, False
            found |= first
            if not empty:
                return found, False
        return found, True
    if isinstance(node, Alt):
        found = set()
        empty = node.optional
        for option in node.options:
            first, option_empty = _starts(option)
            if first is None:
                return None, False
            found |= first
            empty = empty or option_empty
        return found, empty
    left, left_empty = _starts(node.left)
    right, right_empty = _starts(node.right)
    if left is None or right is None or left_empty or right_empty:
        return None, False  # a side that can be empty lets the gap begin the match
    return left | right, False


def _stems_of(node: Node) -> set[str]:
    if isinstance(node, Word | Exact):
        return {node.stem}
    if isinstance(node, WordList):
        return set(node.stems)
    if isinstance(node, Seq):
        return set().union(*(_stems_of(i) for i in node.items))
    if isinstance(node, Alt):
        return set().union(*(_stems_of(o) for o in node.options))
    if isinstance(node, Near):
        return _stems_of(node.left) | _stems_of(node.right)
    return set()


# -- preparing a message -----------------------------------------------------------------


class Reader:
    """Turns a message into the line patterns run over, and the set of stems in it.

    The message is split on white space, and what each distinct chunk becomes (its words
    written out, a slip put right, their stems, a sentence break after "agenda.") is worked
    out once and remembered: the same chunks come back turn after turn, and a dictionary
    look-up is far cheaper than a regex pass over the text.
    """

    MIN_TYPO_LENGTH = 6
    MAX_REMEMBERED = 100_000

    def __init__(
        self,
        typo_words: Iterable[str] = (),
        not_typos: Iterable[str] = (),
        known_stems: Iterable[str] = (),
        maskable: Iterable[str] = (),
    ) -> None:
        self._typo_words = frozenset(w.lower() for w in typo_words)
        #: Words a word hidden by asterisks may stand for, by length and first letter.
        self._maskable: dict[tuple[int, str], set[str]] = {}
        for word in maskable:
            if word.isalpha():
                self._maskable.setdefault((len(word), word[0]), set()).add(word.lower())
        self._not_typos = frozenset(w.lower() for w in not_typos)
        self._known = frozenset(known_stems)
        #: Each typo word with one letter left out → the typo words it came from.
        self._deletions: dict[str, set[str]] = {}
        for word in self._typo_words:
            for d in _deletions(word):
                self._deletions.setdefault(d, set()).add(word)
        #: What each chunk of text becomes: its piece of the line, and its stems.
        self._pieces: dict[str, str] = {}
        self._stems: dict[str, frozenset[str]] = {}
        #: Chunks holding a word of AMBIGUOUS, whose line is looked at again in context.
        self._ambiguous: set[str] = set()
        #: Each chunk's stems in order, BREAK for a sentence break (for the model).
        self._sequences: dict[str, tuple[str, ...]] = {}

    def read(self, text: str) -> tuple[list[str], set[str]]:
        """The message's chunks (for `line`), and the stems it holds."""
        text = text.lower()
        if "\n" in text:
            text = text.replace("\n", " . ")  # a new line ends a sentence too
        chunks = text.split()
        try:
            return chunks, set().union(*map(self._stems.__getitem__, chunks))
        except KeyError:  # a chunk not seen before (or not kept: see _learn)
            return chunks, set().union(*[self._learned(c)[1] for c in chunks])

    def line(self, chunks: list[str]) -> str:
        """The line patterns run over: ` stem/word stem/word # stem/word … #`."""
        try:
            pieces = list(map(self._pieces.__getitem__, chunks))
        except KeyError:
            pieces = [self._learned(c)[0] for c in chunks]
        line = " " + " ".join(filter(None, pieces)) + f" {BREAK}"
        if self._ambiguous.isdisjoint(chunks):
            return line
        return _AMBIGUOUS_WORD.sub(_contraction, line)

    def sentences(self, chunks: list[str]) -> list[list[str]]:
        """The message's stems, sentence by sentence (what the safety model reads)."""
        out: list[list[str]] = []
        current: list[str] = []
        sequences = self._sequences
        for chunk in chunks:
            sequence = sequences.get(chunk)
            if sequence is None:
                self._learn(chunk)
                sequence = sequences.get(chunk) or self._sequence_of(chunk)
            if BREAK not in sequence:
                current.extend(sequence)
                continue
            for stem_ in sequence:
                if stem_ == BREAK:
                    if current:
                        out.append(current)
                        current = []
                else:
                    current.append(stem_)
        if current:
            out.append(current)
        return out

    def _sequence_of(self, chunk: str) -> tuple[str, ...]:
        """A chunk's stems in order, worked out again (a chunk past MAX_REMEMBERED)."""
        piece = self._learn(chunk)[0]
        return tuple(p.partition("/")[0] if p != BREAK else BREAK for p in piece.split())

    def _learned(self, chunk: str) -> tuple[str, frozenset[str]]:
        piece = self._pieces.get(chunk)
        stems = self._stems.get(chunk)
        if piece is None or stems is None:
            return self._learn(chunk)
        return piece, stems

    def _learn(self, chunk: str) -> tuple[str, frozenset[str]]:
        parts: list[str] = []
        stems: list[str] = []
        for token in TOKEN.findall(chunk.translate(_QUOTES)):
            if token[0] in _BREAKS:
                parts.append(BREAK)
                continue
            if "*" in token:
                word = self.unmask(token)
                stems.append(stem(word) if "*" not in word else word)
                parts.append(f"{stems[-1]}/{word}")
                continue
            for word in spell_out(token):
                word = self.correct(word)
                stems.append(stem(word))
                parts.append(f"{stems[-1]}/{word}")
            if token in AMBIGUOUS:  # the contraction's stems too, for the quick screen
                self._ambiguous.add(chunk)
                stems.extend(AMBIGUOUS[token])
        piece, found = " ".join(parts), frozenset(stems)
        # A long-running server meets many one-off chunks: past the limit, stop keeping them.
        if len(self._stems) < self.MAX_REMEMBERED:
            self._pieces[chunk] = piece
            self._stems[chunk] = found
            self._sequences[chunk] = tuple(
                p.partition("/")[0] if p != BREAK else BREAK for p in parts
            )
        return piece, found

    def unmask(self, token: str) -> str:
        """The one listed word a word hidden by asterisks can be (p*ki → paki: the same
        length, the same letters where they show), or else its masked form (n*****)."""
        found = {
            word
            for word in self._maskable.get((len(token), token[0]), ())
            if all(seen in ("*", letter) for seen, letter in zip(token, word, strict=True))
        }
        if len({stem(w) for w in found}) == 1:
            return min(found)
        return masked(token)

    def correct(self, word: str) -> str:
        """`word`, or the typo word it is one slip away from (suicidel → suicidal), or its
        -ing form where the g was dropped as people say it ("thinkin", "walkin") and only that
        form is a word the rules know."""
        if (
            len(word) >= 5
            and word.endswith("in")
            and self._known
            and stem(word) not in self._known
            and stem(word + "g") in self._known
        ):
            return word + "g"
        if (
            len(word) < self.MIN_TYPO_LENGTH
            or not self._deletions
            or word in self._typo_words
            or word in self._not_typos
            or stem(word) in self._known
        ):
            return word
        found = set(self._deletions.get(word, ()))  # a letter left out
        for d in _deletions(word):
            if d in self._typo_words:  # a letter too many
                found.add(d)
            found.update(self._deletions.get(d, ()))  # a letter changed, or two swapped
        if len({stem(w) for w in found}) == 1:
            return min(found)
        return word


#: Words that follow "I'll", "he'll", "I'd" (a verb, or not/never/just...).
_AFTER_CONTRACTION = frozenset(
    stem(w)
    for w in _words(
        """
        be never not just still probably definitely always really honestly only actually
        do go have get make take kill end see try tell say ring call come sort hurt lose
        need miss find give keep stop let put leave rather like love prefer hate bet know
        think want show pay regret wait die smash break burn batter deal report sue sack
        stab shoot hit beat punch kick throw set start finish walk run jump drive crash
        disappear hang top cut harm swallow drown bleed fall sleep wake help feel sit stand
        stay move quit resign text message email ask bring send follow watch deck glass
        knock mess hunt chase teach ruin destroy expose spread post leak lie wreck torch
        """
    )
)
#: Words before "ill", "hell", "shell", "id", "shed" that make them the plain word.
_BEFORE_PLAIN = frozenset(
    stem(w)
    for w in _words(
        """
        off been be feel felt look fell fall critically seriously mentally terminally very so
        really too quite get got become became an the a of what to like living bloody from
        through in go is was are were am seem seems my your his her their our photo valid
        with show no garden tool bike sea egg
        """
    )
)
_AMBIGUOUS_WORD = re.compile(r"( [^ ]+)? (ill|hell|shell|id|shed)/\2 ([^ /]+)/")


def _contraction(found: re.Match[str]) -> str:
    before, word, after = found.group(1), found.group(2), found.group(3)
    plain = f"{before or ''} {word}/{word} {after}/"
    if after not in _AFTER_CONTRACTION:
        return plain
    if before is not None and before.lstrip().partition("/")[0] in _BEFORE_PLAIN:
        return plain
    spelled = " ".join(f"{stem(w)}/{w}" for w in AMBIGUOUS[word])
    return f"{before or ''} {spelled} {after}/"


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}
