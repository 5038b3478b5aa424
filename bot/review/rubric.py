"""The rubric of tags coaches give conversations: a YAML file with a list of `tags`."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML, YAMLError

from bot.errors import CoachError

DEFAULT_RUBRIC = Path(__file__).with_name("rubric.yaml")


def load_rubric(path: Path = DEFAULT_RUBRIC) -> tuple[str, ...]:
    """The tags, in the file's order; CoachError when the file is missing or not a list."""
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise CoachError(f"Cannot read the review rubric {path}: {exc}") from None
    tags = data.get("tags") if isinstance(data, dict) else None
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise CoachError(f"{path}: `tags` must be a list of words or phrases.")
    return tuple(dict.fromkeys(" ".join(t.split()) for t in tags))
