"""Short names from long answers: the phrase to call someone by, and how it reads mid-sentence.

People answer "who do you need to influence?" with a paragraph; questions that follow need
a name ("the trust"). Pure functions, no dialogue words: `suggest_name` picks the most
name-like short phrase, `mid` writes a name as it reads inside a sentence, and
`accepts_suggestion` tells "yes, that's fine" from a name typed instead.
"""

from __future__ import annotations

import re

#: Opening words written with a capital only because they start the answer.
_LEADING = frozenset({"the", "a", "an", "our", "my", "their", "this", "these", "those", "your"})
#: Words that open a name-like phrase ("the trust", "our local GP").
_DETERMINERS = _LEADING | {"his", "her", "its"}
#: Words a name does not run through: pronouns, verbs of saying and being, relative words.
_BREAK_WORDS = """
    i i'm i've i'd i'll me we we're us you you're he she it it's they they're them who whom
    whose which that where when why how because since as so but or if then than though
    although while is are was were be been being am has have had do does did don't doesn't
    didn't will would can could should shall may might must not no yes just also even really
    actually probably maybe perhaps suppose think guess know mean said says say runs run
    made make makes making decides decided decide closing close closes to at by with from on
    in into about what there here all some any
"""
_BREAKS = frozenset(_BREAK_WORDS.split())
#: Break words that may still sit inside a short name ("Families on my caseload").
_PREPOSITIONS = frozenset({"to", "at", "by", "with", "from", "on", "in", "into", "about"})
#: Fillers that open or close a clause without naming anything.
_FILLERS = (
    "honestly",
    "well",
    "so",
    "and",
    "but",
    "mainly",
    "mostly",
    "mostly just",
    "basically",
    "probably",
    "maybe",
    "perhaps",
    "really",
    "i think",
    "i suppose",
    "i guess",
    "i'd say",
    "it's",
    "it is",
    "that's",
    "that would be",
    "it would be",
    "i need to influence",
    "i need",
    "ultimately",
    "officially",
    "in practice",
    "on paper",
)
_FILLER_START = re.compile(
    r"^(?:(?:" + "|".join(re.escape(f) for f in sorted(_FILLERS, key=len, reverse=True)) + r")"
    r"\b[\s,]*)+",
    re.I,
)
_FILLER_END = re.compile(
    r"(?:[\s,]+(?:"
    + "|".join(re.escape(f) for f in sorted(_FILLERS, key=len, reverse=True))
    + r"))+$",
    re.I,
)
#: Words for the bodies people usually need to influence: a phrase holding one is a name.
_BODY_WORDS = """
    agency authority board boards cabinet ccg charity clinic college commission commissioners
    committee council councillor councillors department directorate executive forum foundation
    government group hospital icb inspectorate manager managers ministry nhs office panel
    partnership practice school service services surgery team trust trustees unit
"""
_BODIES = frozenset(_BODY_WORDS.split())
#: Where one clause of an answer ends and another begins.
_CLAUSES = re.compile(r"[.!?;:,()\[\]\n]+|\s[-–—]+\s|\s[-–—]+|[-–—]+\s")
_WORD = re.compile(r"[^\s\"“”‘]+")
_YES = frozenset(
    {
        "yes",
        "y",
        "yeah",
        "yep",
        "yup",
        "ok",
        "okay",
        "sure",
        "fine",
        "good",
        "great",
        "perfect",
        "right",
        "correct",
        "that's fine",
        "that is fine",
        "that's right",
        "that's good",
        "that works",
        "that's it",
        "sounds good",
        "sounds right",
        "go with that",
        "use that",
        "yes that's fine",
        "yes that's right",
        "yes please",
        "ok thanks",
        "yes thanks",
        "fine by me",
    }
)


def word_count(text: str) -> int:
    """How many words `text` has, as a person would count them."""
    return len(text.split())


def mid(name: object) -> str:
    """A name as it reads mid-sentence: "The council's team" → "the council's team".

    Only a leading article or possessive (The, A, An, Our, My, Their, This, …) written with
    a capital is lowered; proper names and acronyms stay as typed ("NHS Fife", "Sam Patel",
    "Children's Services", "THE TRUST").
    """
    text = str(name)
    first, sep, rest = text.partition(" ")
    if first.lower() in _LEADING and first[:1].isupper() and first[1:] == first[1:].lower():
        return first.lower() + sep + rest
    return text


def accepts_suggestion(text: str) -> bool:
    """Whether the answer to "shall I call them X?" takes X ("yes", "that's fine", "ok")."""
    said = " ".join(text.lower().replace("’", "'").replace(",", " ").split()).strip(" .!")
    said = re.sub(r"\s*\b(?:please|thanks|thank you)$", "", said).strip(" .!")
    if said in _YES:
        return True
    first, _, rest = said.partition(" ")
    return first in ("yes", "yeah", "yep", "ok", "okay") and rest in _YES  # "yes, that's it"


#: Words around a name typed at "what shall I call them?" that are not part of it:
#: "just Mark", "call them the HA", "'the board' is fine", "maybe just the trust".
_GIVEN_START = re.compile(
    r"^(?:(?:just|simply|only|maybe|perhaps|probably|um|er|oh|ok|okay|yes|yeah|yep|no|nah|actually|"
    r"let's say|lets say|say|how about|what about|use|try|i'd say|i would say|i'd go with|"
    r"go with|(?:you can |you could |let's |lets |i'd |i )?call (?:them|him|her|it)|"
    r"(?:they're|they are|he's|he is|she's|she is|it's|it is) (?:called|known as))"
    r"\b[\s,:-]*)+",
    re.I,
)
_GIVEN_END = re.compile(
    r"(?:[\s,]+(?:is fine|will do|is ok|is okay|is good|works|would do|please|thanks|"
    r"thank you|for short|for now)\b)+[\s.!]*$",
    re.I,
)


def name_given(text: str) -> str:
    """The name typed at "what shall I call them?", without the words around it:
    "just Mark" → "Mark", "call them the HA" → "the HA", "'the board' is fine" → "the board".
    The typed words are returned as they were when nothing else would be left."""
    said = " ".join(text.split()).strip(" .!")
    bare = _GIVEN_END.sub("", _GIVEN_START.sub("", said)).strip(" .!,'\"“”‘’")
    return bare or said.strip(" .!'\"“”‘’")


_YES_THEN_MORE = re.compile(
    r"^(?:yes|yeah|yep|yup|ok|okay|right|exactly|correct|pretty much|more or less|basically)"
    r"(?:[\s,.!-]+(?:that's it|that's right|that is it|that's the one|that sums it up|"
    r"that's about it|pretty much|basically|exactly|mostly))?[\s,.!;:-]+"
    r"(?:and |but |also |plus |so |though |although |except |only )?(?P<more>\S.*)$",
    re.I | re.S,
)


def yes_and_more(text: str) -> str | None:
    """What follows a "yes" that takes the words offered back and adds to them ("yes that's
    it, and they won't come to our meetings either" → "they won't come to our meetings
    either"); None when the answer is not a yes with more."""
    found = _YES_THEN_MORE.match(" ".join(text.split()))
    if found is None:
        return None
    more = found.group("more").strip()
    return more if len(more.split()) >= 2 else None


def _words(clause: str) -> list[str]:
    return _WORD.findall(clause)


def _bare(word: str) -> str:
    return word.lower().strip("'’.").replace("’", "'")


def _is_capital(word: str) -> bool:
    return word[:1].isupper() and word.lower() != "i" and not word.lower().startswith("i'")


def _candidates(clause: str) -> list[tuple[int, list[str]]]:
    """Phrases in a clause that could be a name, with their start, as lists of words.

    A phrase opens at a determiner or a capitalised word and runs until a word names no thing
    (a pronoun, a verb of being or saying, a relative word); "of"/"for" may join two parts,
    "and"/"&" only between capitalised words ("Health and Wellbeing Board").
    A short clause with no such word is a candidate whole ("Families on my caseload").
    """
    words = _words(clause)
    found: list[tuple[int, list[str]]] = []
    if words and all(
        (_bare(w) not in _BREAKS or _bare(w) in _PREPOSITIONS) and w not in ("and", "&")
        for w in words
    ):
        found.append((0, words))
    i = 0
    while i < len(words):
        word = words[i]
        bare = _bare(word)
        if bare in _DETERMINERS or (_is_capital(word) and bare not in _BREAKS):
            phrase = [word]
            j = i + 1
            while j < len(words):
                nxt, bare_next = words[j], _bare(words[j])
                if bare_next in ("of", "for") and j + 1 < len(words):
                    if _bare(words[j + 1]) in _BREAKS:
                        break
                elif bare_next in ("and", "&"):
                    if not (
                        _is_capital(phrase[-1]) and j + 1 < len(words) and _is_capital(words[j + 1])
                    ):
                        break
                elif bare_next in _BREAKS or bare_next in _DETERMINERS:
                    break
                phrase.append(nxt)
                j += 1
            while phrase and _bare(phrase[-1]) in ("of", "for", "and", "&"):
                phrase.pop()
            if len(phrase) > 1 or bare not in _DETERMINERS:
                found.append((i, phrase))
            i = j
        else:
            i += 1
    return found


def _shorten(phrase: list[str], max_words: int) -> list[str]:
    """A phrase cut to `max_words`, keeping what it names: before its first "of"/"for" ("the
    director of adult social care" → "the director"), else a proper name inside it ("Our
    local Health and Wellbeing Board" → "Health and Wellbeing Board"), else its opening word
    and its last words, where English keeps the thing named."""
    if len(phrase) <= max_words:
        return phrase
    for n, word in enumerate(phrase):
        if _bare(word) in ("of", "for") and 1 < n <= max_words:
            return phrase[:n]
    start = next((n for n, w in enumerate(phrase) if n and _is_capital(w)), None)
    if start is not None and 1 < len(phrase) - start <= max_words:
        return phrase[start:]
    if max_words == 1:
        return phrase[-1:]
    return [phrase[0], *phrase[len(phrase) - max_words + 1 :]]


def _score(phrase: list[str], whole_clause: bool, clause_index: int) -> float:
    bares = [_bare(w) for w in phrase]
    score = 0.0
    if whole_clause:
        score += 3  # said on its own: "The trust, I suppose"
    if any(b in _BODIES or b.removesuffix("'s") in _BODIES for b in bares):
        score += 2
    if bares[0] in _DETERMINERS:
        score += 1
    if any(_is_capital(w) for w in phrase[1:]) or any(w.isupper() and len(w) > 1 for w in phrase):
        score += 1  # a proper name or an acronym
    elif whole_clause and _is_capital(phrase[0]) and bares[0] not in _DETERMINERS:
        score += 1.5  # a name said on its own before the rest: "Jade, a mum on my caseload"
    return score - 0.1 * clause_index


def suggest_name(text: str, max_words: int = 5) -> str:
    """The most name-like short phrase in an answer, written as it reads mid-sentence.

    "Honestly I don't even know who made the decision. The trust, I suppose - they're
    closing the clinic" → "the trust"; "The council's commissioning team, mainly Sam Patel
    who runs it" → "the council's commissioning team". A phrase the user said on its own
    counts most, then one naming a body (a trust, a council, a team), then one that opens
    with "the"/"our" or holds a proper name; earlier clauses win ties. With no such phrase,
    the answer's first words.
    """
    best: tuple[float, list[str]] | None = None
    clauses = [c.strip() for c in _CLAUSES.split(text) if c and c.strip()]
    for index, raw in enumerate(clauses):
        clause = _FILLER_END.sub("", _FILLER_START.sub("", raw)).strip(" '\"“”‘’")
        if not clause:
            continue
        clause_words = _words(clause)
        for start, phrase in _candidates(clause):
            whole = start == 0 and len(phrase) == len(clause_words)
            short = _shorten(phrase, max_words)
            score = _score(short, whole, index)
            if best is None or score > best[0]:
                best = (score, short)
    if best is None:
        first = next(
            (_FILLER_START.sub("", c).strip() for c in clauses if _FILLER_START.sub("", c).strip()),
            text.strip(),
        )
        words = _words(first)[:max_words]
    else:
        words = best[1]
    name = mid(" ".join(words).strip(" '\"“”‘’"))
    return name or " ".join(text.split()[:max_words])


# == what a person asks to be called =============================================================

#: Ways of giving one's own name before it: "call me Sam", "I'm Sam", "my name is Sam".
_OWN_NAME = re.compile(
    r"^(?:(?:you can|please|just)\s+)*(?:call me|i'm|i am|im|my name is|my name's|it's|"
    r"it is|name's|i go by)\s+(.+)$"
)
#: Closing words that are not part of a name: "Sam please", "Sam, thanks".
_OWN_NAME_END = re.compile(r"[\s,]+(?:please|thanks|thank you|is fine|will do|is good)$")
#: Answers to "what shall I call you?" that decline to say.
_DECLINED_ANSWERS = (
    "no|no thanks|skip|pass|not now|rather not|i'd rather not|i would rather not|"
    "don't mind|i don't mind|whatever|anything|nothing|none|no name|not telling"
)
_DECLINED = frozenset(_DECLINED_ANSWERS.split("|"))
#: Words that are never a name on their own: greetings, yes and no, the coach's commands.
_NOT_A_NAME_WORDS = """
    hi hello hey hiya morning evening afternoon yes yeah yep ok okay sure thanks thank cheers
    help menu steps history show start quit exit bye back undo restart pause summary done
    partly dropped the a an and or of to in on it is i me my you your we us diagnose power
"""
_NOT_A_NAME = frozenset(_NOT_A_NAME_WORDS.split())
_NAME_WORD = re.compile(r"^[^\W\d_]+(?:['’.-][^\W\d_]+)*\.?$")


def read_own_name(text: str) -> tuple[str | None, bool]:
    """(the name a person asks to be called, whether they declined to give one).

    "call me Sam", "I'm Sam", "sam", "Dr Okafor please" → "Sam", "Sam", "Sam", "Dr Okafor";
    at most three words of letters; all lower case is capitalised ("sam" → "Sam"), any other
    spelling kept ("McKenzie", "DJ"). Greetings, commands and sentences are no name.
    """
    said = " ".join(text.strip().replace("’", "'").split()).strip(" .!\"'")
    lowered = said.lower()
    if lowered in _DECLINED:
        return None, True
    given = _OWN_NAME.match(lowered)
    if given is not None:
        said = said[len(said) - len(given.group(1)) :]
    said = _OWN_NAME_END.sub("", said).strip(" .,!\"'")
    words = said.split()
    if not 1 <= len(words) <= 3 or len(said) > 40:
        return None, False
    if not all(_NAME_WORD.match(w) for w in words):
        return None, False
    if given is None and (len(words) > 2 or any(w.lower() in _NOT_A_NAME for w in words)):
        return None, False
    if said == said.lower():
        said = " ".join(w[:1].upper() + w[1:] for w in words)
    return said, False
