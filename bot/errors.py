"""Our own exception types: each carries a message a person can act on."""

from __future__ import annotations


class CoachError(Exception):
    """Base class: the message is safe to show to a user or an admin as it is."""


class DialogueError(CoachError):
    """A dialogue file is malformed; the message names file:line:col and what was expected."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


class UnknownDialogue(CoachError):
    """A dialogue id was asked for that no loaded file provides."""


class StorageError(CoachError):
    """The database could not be opened, read or written; nothing was half-saved."""


class ConfigError(CoachError):
    """A setting (path, token, environment variable) is missing or unusable."""


class SafetyUnavailable(CoachError):
    """The safety screen has no valid configuration, so the coach must not run at all."""

    def __init__(self, detail: str | None = None) -> None:
        what = detail or "the safety configuration (dialogues/safety.yaml) was not loaded"
        super().__init__(
            f"The coach will not start without its safety screen: {what}\n"
            "Fix the file (run `coach dialogues validate` to see every problem with its "
            "line and column) and start the coach again."
        )


class DialogueLoop(CoachError):
    """A dialogue passed through more steps in one turn than any real one has, without
    asking anything: its file goes round in a loop (validation refuses such files, but a
    file can reach a running coach by reload). The turn is rolled back."""

    def __init__(self, dialogue: str, state: str | None, steps: int) -> None:
        self.dialogue = dialogue
        self.state = state
        super().__init__(
            f"dialogue '{dialogue}' passed through {steps} steps in one turn without asking "
            f"anything (last at '{state}'): its steps go round in a loop"
        )


class TemplateTooCostly(CoachError):
    """A template asked for more than any message needs (too long, too slow, or what the
    sandbox refuses) while rendering: validation refuses what it can see, but a file can
    reach a running coach by reload. The turn is rolled back."""

    def __init__(self, why: str) -> None:
        super().__init__(f"a template {why}")
