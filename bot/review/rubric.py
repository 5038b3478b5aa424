"""The rubric of tags coaches give conversations: a YAML file with a list of `tags`, checked
like a dialogue file (every problem at file:line:col; `coach dialogues validate` reports it)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from bot.errors import CoachError
from bot.loader import validate_document
from bot.schema import LocatedProblems, Strict

DEFAULT_RUBRIC = Path(__file__).with_name("rubric.yaml")
#: The longest tag: it is shown as a button and a filter on the review page.
MOST_CHARACTERS = 60


class Rubric(Strict):
    """The tags, each a word or a short phrase, each once."""

    tags: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _each_once(self) -> Rubric:
        """Every tag is checked, so all the problems are reported together."""
        seen: set[str] = set()
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for i, tag in enumerate(self.tags):
            plain = " ".join(tag.lower().split())
            if not plain:
                problems.append((("tags", i), "a tag needs words"))
            elif len(plain) > MOST_CHARACTERS:
                problems.append((("tags", i), f"at most {MOST_CHARACTERS} characters"))
            elif plain in seen:
                problems.append((("tags", i), f"'{tag}' is listed twice"))
            seen.add(plain)
        if problems:
            raise LocatedProblems(problems)
        return self


def load_rubric(path: Path = DEFAULT_RUBRIC) -> tuple[str, ...]:
    """The tags, in the file's order; DialogueError (file:line:col) when the file is not a
    list of distinct tags, CoachError when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CoachError(f"Cannot read the review rubric {path}: {exc}") from None
    rubric = validate_document(str(path), text, Rubric)
    return tuple(" ".join(t.split()) for t in rubric.tags)
