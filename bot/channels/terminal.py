"""The terminal channel: an interactive chat, piped lines, or JSON lines for other programs.

Like bolt's Flask handler it only translates: read a line into a UserInput, call the engine,
print the Reply (as text, or one JSON object per message with `await` on the last).
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import sys
import textwrap
from collections import deque
from typing import TextIO

from bot import messages
from bot.engine import Engine
from bot.turns import Reply, UserInput

#: Chat emphasis (*words*) and code marks (`done 1`), which a terminal would show raw.
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
_CODE = re.compile(r"`([^`\n]+)`")


def _unmarked(line: str) -> str:
    """A line without chat mark-up: emphasis dropped, a command in quotes ('done 1')."""
    return _CODE.sub(r"'\1'", _EMPHASIS.sub(r"\1", line))


def plain(text: str, width: int | None = None) -> str:
    """Chat text for a terminal: code fences dropped (their lines kept as they are, so charts
    stay aligned), and other long lines wrapped at `width` under their own indent."""
    out: list[str] = []
    in_code = False
    for line in text.split("\n"):
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        if not in_code:
            line = _unmarked(line)
        if in_code or width is None or len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out.append(textwrap.fill(line, width, subsequent_indent=indent + "  " * bool(indent)))
    return "\n".join(out)


def render_text(reply: Reply, width: int | None = None) -> str:
    """A reply as plain text: options numbered, a scale shown on one line."""
    blocks: list[str] = []
    for message in reply.messages:
        lines = [plain(message.text, width)] if message.text else []
        if message.choices:
            if reply.awaits.kind == "scale" and message is reply.messages[-1]:
                lines.append("   " + "   ".join(c.label for c in message.choices))
            else:
                lines.extend(f"  {n}. {c.label}" for n, c in enumerate(message.choices, 1))
        blocks.append("\n".join(lines))
    return "\n\n".join(b for b in blocks if b)


def render_json(reply: Reply) -> list[str]:
    """A reply as JSON lines: one object per message, `await` on the last one of the turn."""
    objects = [m.as_dict() for m in reply.messages] or [{"text": ""}]
    objects[-1]["await"] = reply.awaits.as_dict()
    return [json.dumps(o, ensure_ascii=False) for o in objects]


class HeldNotices(logging.Handler):
    """Holds the coach's log lines while a person types in the same terminal.

    An admin's edit refused by the dialogue watcher is logged from another thread; written to
    stderr at once it lands in the middle of the line being typed. Held here, it is shown
    after the next reply, on a line of its own. Log lines carry file names and positions,
    never a user's words (tests/test_privacy_logs.py), so showing them is safe.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))
        self._held: deque[str] = deque()

    def emit(self, record: logging.LogRecord) -> None:
        self._held.append(self.format(record))

    def drain(self) -> list[str]:
        """Everything held so far, oldest first; the holder is left empty."""
        lines = []
        while self._held:
            lines.append(self._held.popleft())
        return lines


class TerminalChat:
    """Holds one user's chat on a pair of text streams until they quit or input ends."""

    def __init__(
        self,
        engine: Engine,
        user_id: str,
        *,
        display_name: str | None = None,
        json_mode: bool = False,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        notices: HeldNotices | None = None,
    ) -> None:
        self.engine = engine
        self.user_id = user_id
        self.display_name = display_name
        self.json_mode = json_mode
        self.stdin = stdin or sys.stdin
        if hasattr(self.stdin, "reconfigure"):
            # A Latin-1 terminal or file must not end the chat: undecodable bytes become �.
            self.stdin.reconfigure(errors="replace")
        self.stdout = stdout or sys.stdout
        self.interactive = self.stdin.isatty() and self.stdout.isatty() and not json_mode
        self.notices = notices

    def show(self, reply: Reply) -> None:
        if reply.duplicate:
            return
        if self.json_mode:
            for line in render_json(reply):
                print(line, file=self.stdout)
        else:
            width = shutil.get_terminal_size().columns - 1 if self.interactive else None
            text = render_text(reply, width)
            if text:
                print(text + "\n", file=self.stdout)
            for line in self.notices.drain() if self.notices else ():
                print(f"{messages.ADMIN_NOTICE} {line}\n", file=self.stdout)
        self.stdout.flush()

    def read(self) -> str | None:
        """The next line from the user, or None at the end of input."""
        if self.interactive:
            try:
                return input("> ")
            except EOFError:
                print(file=self.stdout)
                return None
        line = self.stdin.readline()
        if not line:
            return None
        return line.rstrip("\r\n")

    def run(self) -> int:
        """Open the chat, then one turn per line until `quit` or end of input."""
        self.show(
            self.engine.open(self.user_id, channel="terminal", display_name=self.display_name)
        )
        try:
            while True:
                line = self.read()
                if line is None:
                    return 0
                reply = self.engine.handle(
                    self.user_id,
                    UserInput(line),
                    channel="terminal",
                    display_name=self.display_name,
                )
                self.show(reply)
                if reply.ended:
                    return 0
        except KeyboardInterrupt:
            note = messages.STOPPED_TERMINAL
            if self.json_mode:
                print(json.dumps({"text": note, "await": {"kind": "none"}}), file=self.stdout)
            else:
                print(f"\n{note}", file=self.stdout)
            return 0
