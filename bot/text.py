"""Text as it may be shown: characters that could drive a terminal, or reorder or hide the
words around them, made visible, so what a user typed is never replayed as a control.
"""

from __future__ import annotations

import re

#: Shown as a placeholder: C0 controls but tab and newline, DEL, C1 controls (ESC, CSI and
#: OSC start terminal sequences; CR and backspace overwrite what is shown); the bidi
#: embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and the deprecated
#: format controls after them (U+206A–U+206F, which swap brackets and digit shapes), all of
#: which reorder text ("Trojan Source"); the interlinear annotation marks (U+FFF9–U+FFFB),
#: which hide the text between them; and tag characters (U+E0000–U+E007F), which are
#: invisible, except where they spell a flag (🏴 + tags + cancel tag: England, Scotland, Wales).
#: Left alone because writing needs them and they cannot hide or reorder other text: the
#: bidi marks (LRM, RLM, ALM), zero-width joiners (emoji, Persian, Indic scripts), soft hyphen.
_CONTROLS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u206f\ufff9-\ufffb\U000e0000-\U000e007f"
)
_ANY = re.compile(f"[{_CONTROLS}]")
_FLAG = "\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"
_SHOWN = re.compile(f"({_FLAG})|[{_CONTROLS}]")


def placeholder(char: str) -> str:
    """How one control character is shown: a control picture (␛) for C0 and DEL, else its code."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"⟨U+{code:04X}⟩"


def _shown(match: re.Match[str]) -> str:
    return match.group(1) or placeholder(match.group())


def visible(text: str) -> str:
    """`text` with every control character but newline and tab shown as a visible placeholder.

    `\\x1b]0;title\\x07` becomes `␛]0;title␇`, a right-to-left override `⟨U+202E⟩`. Text with
    nothing to replace is returned as it is: the usual case costs about a microsecond for a
    300-character prompt (`benchmarks/visible.py`).
    """
    # isprintable() is false for every character replaced here, and runs in C several times
    # faster than a regex search; text it doubts (a non-breaking space, an emoji joiner)
    # gets the exact search.
    if text.replace("\n", " ").replace("\t", " ").isprintable() or _ANY.search(text) is None:
        return text
    shown = _SHOWN.sub(_shown, text)
    return text if shown == text else shown  # only flags: the same object, as promised


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # JSON writes a character outside the BMP as its UTF-16 pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_escaped(dumped: str) -> str:
    """JSON text (from `json.dumps(..., ensure_ascii=False)`) with every character `visible`
    would replace written as a `\\u` escape: the same data when read back, every word as
    typed, but nothing a terminal acts on when the JSON itself is printed."""
    if dumped.isprintable() or _ANY.search(dumped) is None:
        return dumped
    return _ANY.sub(_json_escape, dumped)
