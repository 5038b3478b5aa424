"""What the user wrote, said back to them: the `reflect` template filter.

A coach reflects a lesson back in the listener's words: "I learned I need to ask for the
numbers in writing" → "you need to ask for the numbers in writing". First person becomes
second (I, my, we, our → you, your), a leading "I learned that" is dropped (the sentence
around it says so), and a long answer is cut to its first sentence. Nothing else changes:
the user's own words, not a paraphrase.
"""

from __future__ import annotations

import re

#: First person → second, word by word (lower case; the case of the first letter is kept).
_SWAP: dict[str, str] = {
    "i": "you",
    "i'm": "you're",
    "i've": "you've",
    "i'd": "you'd",
    "i'll": "you'll",
    "me": "you",
    "my": "your",
    "mine": "yours",
    "myself": "yourself",
    "we": "you",
    "we're": "you're",
    "we've": "you've",
    "we'd": "you'd",
    "we'll": "you'll",
    "us": "you",
    "our": "your",
    "ours": "yours",
    "ourselves": "yourselves",
}
#: After I, the verb changes too: "I am" → "you are", "I was" → "you were".
_AFTER_I = {"am": "are", "was": "were"}
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
#: "I learned (that)", "what we learned is", "the lesson was": the sentence around the
#: reflection already says it is a lesson.
_LESSON = re.compile(
    r"^(?:so,?\s+|well,?\s+)?(?:"
    r"(?:what\s+)?(?:i|we)\s+(?:have\s+|'ve\s+|had\s+)?"
    r"(?:learned|learnt|realised|realized|found out|found|discovered|noticed|saw)"
    r"(?:\s+(?:is|was))?"
    r"|the\s+(?:lesson|learning)\s+(?:is|was)|lesson:"
    r")\s*(?:that\s+|:\s*|,\s*)?",
    re.IGNORECASE,
)
#: Words that start a sentence and read in lower case mid-sentence; anything else (a name,
#: an acronym) keeps its capital.
_LOWER_FIRST = frozenset(
    {
        *("the", "a", "an", "this", "that", "these", "those", "it", "its", "there", "here"),
        *("they", "their", "them", "she", "her", "he", "his", "people", "everyone"),
        *("nothing", "nobody", "no", "not", "when", "if", "once", "after", "before"),
        *("because", "so", "then", "asking", "getting", "being", "having", "going"),
    }
)
#: A long answer is cut to its first sentence when it runs past this many words.
MOST_WORDS = 30


def reflect(text: object) -> str:
    """`text` said back to its writer: second person, without "I learned that", one sentence
    at most when long, no closing full stop (the template adds its own)."""
    said = " ".join(str(text or "").replace("’", "'").split())
    if len(said.split()) > MOST_WORDS:
        first = re.split(r"(?<=[.!?])\s+", said, maxsplit=1)[0]
        said = first if len(first) < len(said) else said
    lesson = _LESSON.sub("", said, count=1)
    if lesson.strip():
        said = lesson
    said = _swap(said).strip().rstrip(".!").strip()
    first, _, rest = said.partition(" ")
    if first.lower() in _LOWER_FIRST or first.lower() in _SWAP.values():
        said = f"{first[:1].lower()}{first[1:]} {rest}".strip()
    return said


def _swap(text: str) -> str:
    out: list[str] = []
    last = 0
    previous = ""
    for match in _WORD.finditer(text):
        word = match.group(0)
        lower = word.lower()
        swapped = _SWAP.get(lower)
        if swapped is None and previous == "i":
            swapped = _AFTER_I.get(lower)
        if swapped is not None:
            # "I" is always written capital: only a capital elsewhere is kept.
            capital = word[:1].isupper() and (lower != "i" or match.start() == 0)
            word = swapped[:1].upper() + swapped[1:] if capital else swapped
        out.append(text[last : match.start()])
        out.append(word)
        last = match.end()
        previous = lower
    out.append(text[last:])
    return "".join(out)
