"""Screens every message for danger, distress and legal trouble, by the rules in safety.yaml.

Three levels: `danger` (stop and point to help now), `concern` (acknowledge, ask whether they
are safe), `note` (one line, then the coaching carries on). The rules are patterns over word
stems (see `bot.safety_patterns` and the top of `dialogues/safety.yaml`).

Every message is screened, so screening must be cheap. Each rule has key stems, one of
which any match must contain; most messages hold none, and a set intersection says so. Only
the rules whose keys are in the message run their regex. `screen_unfiltered` runs every rule
and must always agree (a property test checks it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from bot.errors import SafetyUnavailable
from bot.safety_model import LinearScreen, ModelVerdict, SafetyModelFile, message_features
from bot.safety_patterns import BREAK, Compiled, Reader, compile_pattern, stem
from bot.schema import SAFETY_LEVELS, SafetyCategory, SafetyConfig, rule_pattern

Level = Literal["danger", "concern", "note"]
#: How many characters before a match to read for a negation: enough for any 6 tokens.
_LOOK_BACK = 300


@dataclass(frozen=True)
class SafetySignal:
    """A category found in a message, and the rule that found it (for admins; no user text)."""

    category: SafetyCategory
    rule: str = ""
    #: Heard by the trained model, not a rule: the coach says less about what it heard.
    by_model: bool = False
    #: A danger told as past and over, asked about as a concern (`told_as_past.ack`).
    told_as_past: bool = False

    @property
    def level(self) -> Level:
        return self.category.level


@dataclass(frozen=True)
class Screening:
    """What one message raised: the most serious alert (danger or concern), and any notes."""

    alert: SafetySignal | None
    notes: tuple[SafetySignal, ...] = ()

    @property
    def most_serious(self) -> SafetySignal | None:
        return self.alert or (self.notes[0] if self.notes else None)


NOTHING = Screening(None, ())


@dataclass(frozen=True)
class _Rule:
    category: int  # index into the detector's categories, most serious first
    pattern: str
    compiled: Compiled  # its regex is compiled the first time the rule runs
    negatable: bool
    also: tuple[frozenset[str], ...]  # one stem of each must be in the message
    #: The stems a match can begin with; None: the regex is run over the whole line.
    starts: frozenset[str] | None = None

    def worth_running(self, stems: set[str]) -> bool:
        return all(not needed.isdisjoint(stems) for needed in self.also)


@dataclass(frozen=True)
class _Category:
    category: SafetyCategory
    exceptions: tuple[Compiled, ...]


_BUILT: dict[int, tuple[SafetyConfig, SafetyDetector]] = {}


def detector_for(config: SafetyConfig | None) -> SafetyDetector:
    """The detector of one loaded safety configuration, built once: an engine built again over
    the same catalog (a test, a restart of a worker's engine) reuses it.

    Raises SafetyUnavailable without a configuration: the coach fails closed.
    """
    if config is None:
        raise SafetyUnavailable()
    found = _BUILT.get(id(config))
    if found is not None and found[0] is config:
        return found[1]
    detector = SafetyDetector(config)
    if len(_BUILT) >= 8:  # a few reloads' worth; older configurations are let go
        _BUILT.pop(next(iter(_BUILT)))
    _BUILT[id(config)] = (config, detector)
    return detector


class SafetyDetector:
    """Finds the categories of safety.yaml in a message: the most serious alert, and notes."""

    def __init__(
        self,
        config: SafetyConfig | None,
        model: SafetyModelFile | Literal["config"] | None = "config",
    ) -> None:
        """`model`: the trained model to listen with beside the rules; by default the one
        safety.yaml names (None: the rules alone, as `safety-eval` compares)."""
        if config is None:
            raise SafetyUnavailable()
        self.config = config
        if model == "config":
            self.model: LinearScreen | None = config._trained  # built once, at load
        else:
            self.model = LinearScreen(model) if model is not None else None
        settings = config.model
        self._alert_at = settings.alert_at if settings is not None else 0.8
        self._danger_at = settings.danger_at if settings is not None else 0.95
        self._concerns = frozenset(c.id for c in config.categories if c.level == "concern")
        self._by_id = {c.id: c for c in config.categories}
        words = config.words
        ordered = sorted(config.categories, key=lambda c: SAFETY_LEVELS.index(c.level))
        self._categories: list[_Category] = []
        #: Every rule, numbered so that a lower number is never less serious.
        self._rules: list[_Rule] = []
        by_stem: dict[str, list[int]] = {}
        by_prefix: dict[str, list[int]] = {}
        rule_stems: set[str] = set()
        for index, category in enumerate(ordered):
            self._categories.append(
                _Category(category, tuple(compile_pattern(p, words) for p in category.exceptions))
            )
            for rule in category.rules:
                pattern = rule_pattern(rule)
                compiled = compile_pattern(pattern, words)
                rule_stems |= compiled.stems
                number = len(self._rules)
                negatable = not isinstance(rule, str)
                self._rules.append(
                    _Rule(
                        index,
                        pattern,
                        compiled,
                        negatable,
                        compiled.also,
                        compiled.starts,
                    )
                )
                for key in compiled.keys.stems:
                    by_stem.setdefault(key, []).append(number)
                for key in compiled.keys.prefixes:
                    by_prefix.setdefault(key, []).append(number)
        #: For each key stem, its rules: those needing nothing more, and the others with the
        #: further sets of stems they need (one stem of each).
        self._by_stem = {
            k: (
                tuple(n for n in v if not self._rules[n].also),
                tuple((n, self._rules[n].also) for n in v if self._rules[n].also),
            )
            for k, v in by_stem.items()
        }
        self._keys = frozenset(by_stem)
        self._by_prefix = {k: tuple(v) for k, v in by_prefix.items()}
        self._prefix_screen = (
            re.compile(" [^ /]*/(" + "|".join(map(re.escape, sorted(by_prefix))) + ")")
            if by_prefix
            else None
        )
        self._negations = frozenset(stem(w.lower()) for w in config.negation.words)
        self._clause_breaks = frozenset(stem(w.lower()) for w in config.negation.clause_breaks)
        self._window = config.negation.window
        told = config.told_as_past
        self._told_as_past = (
            (
                {k: (self._by_id[v] if v else None) for k, v in told.lower.items()},
                tuple(compile_pattern(p, words).regex for p in told.past),
                tuple(compile_pattern(p, words).regex for p in told.over),
                tuple(compile_pattern(p, words).regex for p in told.still),
            )
            if told is not None
            else None
        )
        self.reader = Reader(
            config.typos.words,
            config.typos.not_typos,
            rule_stems,
            maskable=(w for name in config.typos.hidden for w in config.words.get(name, ())),
        )

    def screen(self, text: str) -> Screening:
        """Every category `text` raises: the most serious alert, and the notes."""
        chunks, stems = self.reader.read(text)
        worth: set[int] = set()
        for key in self._keys.intersection(stems):
            plain, needing = self._by_stem[key]
            worth.update(plain)
            for number, also in needing:
                for needed in also:
                    if needed.isdisjoint(stems):
                        break
                else:
                    worth.add(number)
        line = ""
        if self._prefix_screen is not None:
            line = self.reader.line(chunks)
            for match in self._prefix_screen.finditer(line):
                for prefix, numbers in self._by_prefix.items():
                    if match.group(1).startswith(prefix):
                        worth.update(n for n in numbers if self._rules[n].worth_running(stems))
        if not worth:
            screening = NOTHING
        else:
            line = line or self.reader.line(chunks)
            screening = self._run(line, stems, sorted(worth))
        return self._as_told(chunks, line, self._listen(chunks, screening))

    def _as_told(self, chunks: list[str], line: str, screening: Screening) -> Screening:
        """An alert told as past and over ("back in 2019 … the police dealt with it and I'm
        fine now") is asked about as a concern, or (a concern) not raised; the rest stands."""
        alert = screening.alert
        if self._told_as_past is None or alert is None:
            return screening
        lower, past, over, still = self._told_as_past
        if alert.category.id not in lower:
            return screening
        line = line or self.reader.line(chunks)
        if not (
            any(p.search(line) for p in past)
            and any(p.search(line) for p in over)
            and not any(p.search(line) for p in still)
        ):
            return screening
        instead = lower[alert.category.id]
        if instead is None:
            return Screening(None, screening.notes)
        return Screening(SafetySignal(instead, alert.rule, told_as_past=True), screening.notes)

    def _listen(self, chunks: list[str], screening: Screening) -> Screening:
        """The rules raised no alert, or only a concern: the model may hear one they missed,
        or danger in what they took for distress ("what's the point of me. the pills are on
        the table"). It never lowers or removes what the rules found."""
        if (
            self.model is None
            or len(chunks) < 3  # "yes", "the trust": fewer words than the model judges
            or (screening.alert is not None and screening.alert.level == "danger")
        ):
            return screening
        probability, part = self.model.probability(self.reader.sentences(chunks))
        if probability < self._alert_at:
            return screening
        found = message_features(part)
        category = self._by_id.get(self.model.category(found))
        if category is None or category.level == "note":
            return screening
        if category.level == "danger" and probability < self._danger_at:
            # Not sure enough to stop the coaching: ask, as a concern does, whether they are
            # safe (its "not safe" answer leads to the danger message).
            if screening.alert is not None:
                return screening
            category = self._by_id.get(self.model.category(found, among=self._concerns))
            if category is None:
                return screening
        if screening.alert is not None and category.level != "danger":
            return screening  # the rules' concern stands
        verdict = ModelVerdict(probability, category.id, self.model.words(found))
        return Screening(SafetySignal(category, verdict.describe(), by_model=True), screening.notes)

    def verdict(self, text: str) -> ModelVerdict | None:
        """What the model alone makes of `text` (for `safety-explain`), or None without one."""
        if self.model is None:
            return None
        chunks, _ = self.reader.read(text)
        return self.model.verdict(self.reader.sentences(chunks))

    def screen_unfiltered(self, text: str) -> Screening:
        """The same answer by running every rule: what `screen` must always agree with."""
        chunks, stems = self.reader.read(text)
        line = self.reader.line(chunks)
        screening = self._run(line, stems, range(len(self._rules)))
        return self._as_told(chunks, line, self._listen(chunks, screening))

    def detect(self, text: str) -> SafetySignal | None:
        """The most serious signal of any level in `text`, or None."""
        return self.screen(text).most_serious

    def _run(self, line: str, stems: set[str], numbers: Iterable[int]) -> Screening:
        alert: SafetySignal | None = None
        notes: list[SafetySignal] = []
        found: set[int] = set()
        for number in numbers:
            rule = self._rules[number]
            if rule.category in found:
                continue
            category = self._categories[rule.category]
            is_note = category.category.level == "note"
            if alert is not None and not is_note:
                continue  # a more serious alert is already found
            if self._matches(rule, category, line, stems):
                found.add(rule.category)
                signal = SafetySignal(category.category, rule.pattern)
                if is_note:
                    notes.append(signal)
                else:
                    alert = signal
        return Screening(alert, tuple(notes))

    def _matches(self, rule: _Rule, category: _Category, line: str, stems: set[str]) -> bool:
        spans: list[tuple[int, int]] | None = None
        matches: Iterable[re.Match[str]]
        if rule.starts is not None:
            matches = _anchored(rule.compiled.regex, rule.starts, line, stems)
        else:
            matches = rule.compiled.regex.finditer(line)
        for match in matches:
            start, end = match.span()
            if rule.negatable and self._negated(line, start, end):
                continue
            if category.exceptions:
                if spans is None:
                    spans = [m.span() for x in category.exceptions for m in x.regex.finditer(line)]
                if any(s < end and start < e for s, e in spans):
                    continue
            return True
        return False

    def _negated(self, line: str, start: int, end: int) -> bool:
        """Whether a negation word is in the match, or shortly before it in the same clause."""
        for token in line[start:end].split():
            if token.partition("/")[0] in self._negations:
                return True
        before = line[max(0, start - _LOOK_BACK) : start].split()
        for token in reversed(before[-self._window :]):
            if token == BREAK:
                return False
            word = token.partition("/")[0]
            if word in self._clause_breaks:
                return False
            if word in self._negations:
                return True
        return False


def _anchored(
    regex: re.Pattern[str], starts: frozenset[str], line: str, stems: set[str]
) -> Iterator[re.Match[str]]:
    """Every match of `regex` that begins at a word it can begin with: the regex is tried
    there only (a plain search would try it at every word of the line)."""
    match = regex.match
    for first in starts.intersection(stems):
        needle = f" {first}/"
        at = line.find(needle)
        while at >= 0:
            found = match(line, at)
            if found is not None:
                yield found
            at = line.find(needle, at + 1)
