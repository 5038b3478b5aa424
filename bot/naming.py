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
    made make makes making decides decided decide closing close closes called named to at by
    with from on in into about what there here all some any
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
    """A phrase cut to `max_words`, keeping what it names: before its first "of"/"for" or
    other preposition ("the director of adult social care" → "the director", "the man from
    the housing association" → "the man"), else a proper name inside it ("Our local Health
    and Wellbeing Board" → "Health and Wellbeing Board"), else its opening word and its last
    words, where English keeps the thing named."""
    if len(phrase) <= max_words:
        return phrase
    for n, word in enumerate(phrase):
        if _bare(word) in _PREPOSITIONS | {"of", "for"} and 1 < n <= max_words:
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


# == a person's name inside an answer ===========================================================

#: Titles a person's name may carry: "Cllr Patel", "Dr Okafor", "Chief Superintendent Hughes".
#: These may be typed in lower case ("cllr patel"); the others need their capital.
_TITLE_WORDS_ANY_CASE = """
    cllr councillor dr mr mrs ms mx miss prof professor inspector superintendent supt
    sergeant sgt sir dame
"""
_TITLES_ANY_CASE = frozenset(_TITLE_WORDS_ANY_CASE.split())
_TITLE_WORDS_CAPITAL = """
    doctor lord lady baroness baron constable pc detective rev reverend revd canon father
    bishop judge commander captain colonel major mayor
"""
_TITLES_CAPITAL = frozenset(_TITLE_WORDS_CAPITAL.split())
#: Words that may open a title: "Chief Inspector", "Detective Sergeant", "Deputy Mayor".
_TITLE_OPENERS = frozenset({"chief", "detective", "deputy", "assistant", "acting"})
#: Abbreviated titles written with a full stop ("Dr. Okafor"); the stop is not a sentence end.
_TITLE_STOP = re.compile(r"\b(Dr|Mr|Mrs|Ms|Mx|Cllr|Prof|Rev|Revd|Supt|Insp|Sgt|Det)\.(?=\s)", re.I)
#: Words for a person by their role: a name right after one is theirs ("my manager Sarah").
_ROLE_WORD = """
    head director manager chair chairman chairwoman chairperson officer lead leader councillor
    mp msp mla member executive ceo boss clerk worker nurse doctor gp headteacher teacher
    principal commissioner secretary minister mayor inspector superintendent sergeant
    constable commander coordinator co-ordinator administrator president trustee governor
    vicar priest imam rabbi landlord caseworker adviser advisor planner surveyor solicitor
    lawyer matron receptionist practitioner holder spokesperson representative rep deputy
    assistant supervisor consultant partner owner colleague contact man woman guy bloke lady
    chap fella person someone somebody
"""
_ROLES = frozenset(_ROLE_WORD.split())
#: Capitalised words that are no person's name: bodies, places, days, months, parties.
_NOT_NAME_WORD = """
    healthwatch nhs council councils police trust board committee team services service
    department directorate association society charity foundation network forum group club
    project centre center unit ward street road lane avenue drive close way house hall
    court park estate school academy college university church mosque temple surgery
    hospital clinic practice water housing homes health care social adult adults children
    children's family families community local county city borough district parish town
    village england scotland wales ireland britain uk british english welsh scottish irish
    european government ministry office commission agency authority inspectorate ofsted
    advice citizens age concern mind shelter carers partnership integrated green labour
    conservative conservatives tory tories liberal democrat democrats reform independent
    monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december christmas easter today
    tomorrow yesterday tonight everyone everybody anyone anybody nobody someone somebody
    people staff officers residents parents families tenants patients users members
    senior junior new old north south east west northern southern eastern western central
    greater upper lower saint st honestly basically mainly mostly definitely apparently
    obviously sadly luckily hopefully currently recently ok okay thanks please sorry yes no
"""
_NOT_NAMES = (
    _BREAKS
    | _DETERMINERS
    | _BODIES
    | _ROLES
    | _TITLES_ANY_CASE
    | _TITLES_CAPITAL
    | _TITLE_OPENERS
    | frozenset(_NOT_NAME_WORD.split())
    | {"of", "for", "and", "&", "or", "nor", "a", "an"}
)
#: Words no name runs through, even after a title ("Dr Patel at the surgery"); a capital
#: after a title is a name even where it would be a word ("Dr May", "Inspector Ward").
_NAME_BREAKS = (
    _DETERMINERS
    | _PREPOSITIONS
    | _TITLES_ANY_CASE
    | _TITLES_CAPITAL
    | _TITLE_OPENERS
    | {"of", "for", "and", "&", "or", "nor", "a", "an", "who", "whom", "whose", "which", "that"}
    | {"i"}
)
#: Words that say the next words are what someone or something is called.
_CALLED = frozenset({"called", "named"})
_CALLED_AFTER = (("known", "as"), ("goes", "by"), ("go", "by"), ("name", "is"), ("name's",))
#: A person's words before "called" make it a verb: "she called the police".
_CALLER = frozenset(
    {"i", "he", "she", "they", "we", "you", "it", "who", "that", "which", "someone", "somebody"}
)
#: Words for a person that a lower-case name may follow: "a guy called derek".
_PERSON_NOUNS = frozenset(
    {"man", "woman", "guy", "bloke", "lady", "chap", "fella", "person", "someone", "somebody"}
)
#: Words before a run of capitals that make it a place: "in Tower Hamlets", "near Elm Park".
_PLACE_BEFORE = frozenset(
    {"in", "at", "near", "around", "across", "over", "from", "of", "for", "within", "outside"}
)
#: Words opening a clause that point at the one person meant: "specifically Dr Okafor".
_POINTING = re.compile(r"^(?:specifically|particularly|in particular|especially|actually)\b", re.I)
_LETTERS = re.compile(r"^[^\W\d_]+(?:['’-][^\W\d_]+)*$")


def _name_word(word: str, lower_ok: bool = False, said_to_be: bool = False) -> bool:
    """Whether `word` could be (part of) a person's name: a capitalised word that is no
    body, place, day or ordinary word; in lower case only where `lower_ok` ("called derek").
    After a title or "called" (`said_to_be`) any capitalised word will do ("Inspector Ward",
    "Dr May"), but for the small words a name does not run through."""
    unlike = _NAME_BREAKS if said_to_be and word[:1].isupper() else _NOT_NAMES
    if not _LETTERS.match(word) or _bare(word) in unlike:
        return False
    if word.lower().endswith(("'s", "’s")):
        return False  # "Derek's team" names the team
    if len(word) > 1 and word.isupper():
        return False  # an acronym: NHS, ICB
    return word[:1].isupper() or (lower_ok and word.islower())


def _name_run(
    words: list[str], start: int, lower_ok: bool = False, said_to_be: bool = False
) -> list[str]:
    """The one to three name words from `start`: "Anna Hughes", "Patel"."""
    run: list[str] = []
    while start + len(run) < len(words) and len(run) < 3:
        word = words[start + len(run)].rstrip(".")
        if not _name_word(word, lower_ok, said_to_be):
            break
        run.append(word)
    return run


def _title_at(words: list[str], i: int) -> int:
    """How many words from `i` make a title ("Chief Superintendent" → 2), else 0."""
    n = 0
    while (
        i + n < len(words) and words[i + n][:1].isupper() and _bare(words[i + n]) in _TITLE_OPENERS
    ):
        n += 1
    if i + n >= len(words):
        return 0
    word = words[i + n].rstrip(".")
    bare = _bare(word)
    if bare in _TITLES_ANY_CASE or (bare in _TITLES_CAPITAL and word[:1].isupper()):
        return n + 1
    return 0


def _titled(words: list[str], i: int, lower_ok: bool = False) -> list[str]:
    """A titled name from `i` ("Cllr Patel", "Chief Superintendent Anna Hughes"), else []."""
    title = _title_at(words, i)
    if not title:
        return []
    abbreviated = _bare(words[i + title - 1]) in _TITLES_ANY_CASE
    run = _name_run(words, i + title, lower_ok or abbreviated, said_to_be=True)
    return [w.rstrip(".") for w in words[i : i + title]] + run if run else []


def _explicit(words: list[str]) -> list[str]:
    """A name the clause says is one: "a man called Derek", "Sandra by name", "her name is
    Ruth Bell", "a charity called the Friends of Elm Park"; else []."""
    for i, word in enumerate(words):
        bare = _bare(word)
        after, lower_ok = 0, False
        if bare in _CALLED and not (i and _bare(words[i - 1]) in _CALLER):
            after, lower_ok = i + 1, i > 0 and _bare(words[i - 1]) in _PERSON_NOUNS
        for cue in _CALLED_AFTER:
            if [_bare(w) for w in words[i : i + len(cue)]] == list(cue):
                owner = i > 0 and _bare(words[i - 1]) in ("his", "her", "their", "whose")
                after, lower_ok = i + len(cue), cue[0].startswith("name") and owner
        if after and after < len(words):
            name = (
                _titled(words, after, lower_ok=True)
                or _name_run(words, after, lower_ok, said_to_be=True)
                or _proper(words, after)
            )
            if name:
                return name
        if bare == "by" and i + 1 < len(words) and _bare(words[i + 1]) == "name":
            start = i
            while start and i - start < 3 and _name_word(words[start - 1]):
                start -= 1
            if start < i:
                return words[start:i]
    return []


def _proper(words: list[str], i: int) -> list[str]:
    """The proper name of a body after "called": "Mind", "the Friends of Elm Park"."""
    start = j = i + 1 if _bare(words[i]) == "the" else i
    while j < len(words):
        word = words[j]
        proper = _is_capital(word) and not word.lower().endswith(("'s", "’s"))
        joining = (
            j > start
            and _bare(word) in ("of", "and", "&")
            and j + 1 < len(words)
            and _is_capital(words[j + 1])
        )
        if not (proper or joining):
            break
        j += 1
    return words[i:j] if j > start else []


def _people(clause: str, next_clause: str, first_of_sentence: bool) -> list[tuple[int, list[str]]]:
    """Names of people in a clause, in order, each with how surely it is one (2: said to be
    a name; 1: titled, or known by where it stands)."""
    words = _words(clause)
    explicit = _explicit(words)
    if explicit:
        return [(2, explicit)]
    found: list[tuple[int, list[str]]] = []
    i = 0
    while i < len(words):
        titled = _titled(words, i)
        if titled:
            found.append((1, titled))
            i += len(titled)
            continue
        run = _name_run(words, i)
        if not run:
            i += 1
            continue
        end = i + len(run)
        before = _bare(words[i - 1]) if i else ""
        whole = i == 0 and end == len(words)
        followed_by_who = (
            _bare(words[end]) in ("who", "who's", "whose")
            if end < len(words)
            else _bare(next_clause.split(" ", 1)[0]) in ("who", "who's", "whose")
        )
        opening = i == 0 and first_of_sentence and len(run) == 1
        # A first name and a surname stand alone; "Greater Manchester Combined Authority",
        # "Tower Hamlets council", "in Elm Park" are bodies and places.
        after = words[end] if end < len(words) else ""
        full_name = (
            len(run) > 1
            and before not in _PLACE_BEFORE
            and not (i and _is_capital(words[i - 1]))
            and not _is_capital(after)
            and _bare(after).removesuffix("'s") not in _BODIES
        )
        if not opening and (whole or followed_by_who or before in _ROLES or full_name):
            found.append((1, run))
        i = end
    return found


def _body_named(phrase: list[str]) -> bool:
    """Whether a phrase names a body rather than a person: the word it is about, before any
    "of", "for" or "at", is a body ("the council's commissioning team"), not a role ("the
    director of children's services", "the GP partner at our surgery")."""
    cut = next(
        (n for n, w in enumerate(phrase) if n and _bare(w) in _PREPOSITIONS | {"of", "for"}),
        len(phrase),
    )
    head = _bare(phrase[cut - 1]).removesuffix("'s")
    return head in _BODIES and head not in _ROLES


def _fit(name: list[str], max_words: int) -> list[str]:
    """A person's name cut to `max_words`: the title goes first ("Anna Hughes"), then the
    first names ("Hughes")."""
    name = list(name)
    while len(name) > max_words and len(name) > 1 and _title_at(name, 0):
        name.pop(0)
    return name[-max_words:] if len(name) > max_words else name


def _clauses(text: str) -> list[tuple[str, bool]]:
    """The clauses of an answer, each with whether it opens a sentence."""
    found: list[tuple[str, bool]] = []
    opens = True
    at = 0
    for stop in [*_CLAUSES.finditer(text), None]:
        piece = text[at : stop.start() if stop else len(text)].strip()
        if piece:
            found.append((piece, opens))
            opens = False
        if stop is not None:
            opens = opens or bool(re.search(r"[.!?\n]", stop.group()))
            at = stop.end()
    return found


def suggest_name(text: str, max_words: int = 5) -> str:
    """The most name-like short phrase in an answer, written as it reads mid-sentence.

    "Honestly I don't even know who made the decision. The trust, I suppose - they're
    closing the clinic" → "the trust"; "The council's commissioning team, mainly Sam Patel
    who runs it" → "the council's commissioning team". A phrase the user said on its own
    counts most, then one naming a body (a trust, a council, a team), then one that opens
    with "the"/"our" or holds a proper name; earlier clauses win ties. With no such phrase,
    the answer's first words.

    A person's name beats all of these ("the cabinet member for adult social care, Cllr
    Patel" → "Cllr Patel"; "the head of repairs, a man called Derek" → "Derek"), unless a
    body was named on its own before it (the team above, "mainly Sam Patel" being in it).
    A name is one said to be ("called", "named", "by name", "her name is"), one with a title
    (Cllr, Dr, Ms, Professor, Inspector…), or capitals where only a name stands: on their
    own, before "who", after a role ("my manager Sarah"). Capitalised ordinary words (The
    Council, NHS, Healthwatch, Monday) are no name.
    """
    text = _TITLE_STOP.sub(r"\1", text)
    best: tuple[float, list[str]] | None = None
    body_at: int | None = None  # the first clause that is a body's name on its own
    person: tuple[int, int, list[str]] | None = None  # (-sureness, clause, name)
    pieces = _clauses(text)
    clauses = [c for c, _ in pieces]
    for index, (raw, opens) in enumerate(pieces):
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
            if whole and body_at is None and _body_named(short):
                body_at = index
        following = clauses[index + 1] if index + 1 < len(clauses) else ""
        pointing = _POINTING.match(raw) is not None
        for sure, said in _people(clause, following, opens and not _FILLER_START.match(raw)):
            found = (-(sure + pointing), index, said)
            if person is None or found[:2] < person[:2]:
                person = found
    # A body said on its own before a name keeps its place, unless the name was said to be one
    # or pointed at ("the trust, specifically Dr Okafor").
    if person is not None and not (body_at is not None and body_at < person[1] and person[0] > -2):
        words = _fit(person[2], max_words)
    elif best is None:
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
