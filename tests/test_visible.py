"""What a user typed is never replayed as terminal control, in any channel.

An escape sequence (`\\x1b]0;…\\x07` retitles a terminal, `\\x1b[2J` clears it), a C1 control
or a right-to-left override typed by a user is shown as a visible placeholder wherever the
bot quotes it back — prompts, the summary, error messages, the JSON lines, Slack's home tab
and commands, the Markdown export — while the stored text stays exactly as typed.
"""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot import cli
from bot.engine import Engine
from bot.export import export_markdown
from bot.text import json_escaped, visible
from bot.turns import Await, BotMessage, Choice, UserInput
from storage.store import Store
from tests.conftest import QUICK, Chat
from tests.slack_support import plant_overdue_step
from tests.test_slack import FakeSlack, Slack, ack_body, block_texts, build_coach
from tests.test_terminal import chat_cmd, coach_env

REPO = Path(__file__).resolve().parent.parent
TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
RLO = "\u202e"
#: An other party as a careless paste (or a hostile one) would give it.
EVIL_NAME = f"The {TITLE}trust{CLEAR} board {RLO}draob\u2066x\u2069 \x9b31m\x85team"
#: Six words (NEL splits too), so the coach asks for a short name: this one, as evil.
EVIL_SHORT = f"The {TITLE}trust{CLEAR} board {RLO}draob"
#: Flags of England, Scotland and Wales are spelled with invisible tag characters.
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
FLAG = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")


def forbidden(char: str) -> bool:
    """A character nothing the bot shows may hold raw (defined apart from bot.text, on purpose):
    C0 and C1 controls and DEL but newline and tab, the bidi embeddings, overrides and
    isolates, the deprecated format controls, interlinear annotations and tag characters."""
    code = ord(char)
    return (
        (unicodedata.category(char) == "Cc" and char not in "\n\t")
        or 0x202A <= code <= 0x202E
        or 0x2066 <= code <= 0x206F
        or 0xFFF9 <= code <= 0xFFFB
        or 0xE0000 <= code <= 0xE007F
    )


def raw_controls(text: str) -> list[str]:
    """The forbidden characters in `text` (a flag's tag characters aside), as their codes."""
    return [f"U+{ord(c):04X}" for c in FLAG.sub("", text) if forbidden(c)]


def strings_in(value: Any) -> Iterator[str]:
    """Every string in a decoded JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


# == visible(): the one function ==================================================================


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        (TITLE, "␛]0;pwned␇"),
        (CLEAR + "nope", "␛[2Jnope"),
        ("a\x00b\x08c\rd\x0be\x0cf\x1fg", "a␀b␈c␍d␋e␌f␟g"),
        ("rm\x7f", "rm␡"),
        ("\x85 next line, \x9b31m CSI", "⟨U+0085⟩ next line, ⟨U+009B⟩31m CSI"),
        (f"abc{RLO}fed", "abc⟨U+202E⟩fed"),
        ("\u202a\u202b\u202c\u202d", "⟨U+202A⟩⟨U+202B⟩⟨U+202C⟩⟨U+202D⟩"),
        ("\u2066\u2067\u2068\u2069", "⟨U+2066⟩⟨U+2067⟩⟨U+2068⟩⟨U+2069⟩"),
        ("\u206a swap", "⟨U+206A⟩ swap"),
        ("seen\ufff9hidden\ufffa\ufffb", "seen⟨U+FFF9⟩hidden⟨U+FFFA⟩⟨U+FFFB⟩"),
        ("smuggled\U000e0041\U000e0042", "smuggled⟨U+E0041⟩⟨U+E0042⟩"),
        (f"{SCOTLAND} and a stray \U000e007f", f"{SCOTLAND} and a stray ⟨U+E007F⟩"),
    ],
)
def test_visible_shows_each_control_as_a_placeholder(typed: str, shown: str) -> None:
    assert visible(typed) == shown


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Plain words.\n\n  Indented\tand tabbed.",
        "Zoë’s café — naïve «quotes» £5 ■■■□□",
        "العربية\u200f (RLM) and \u200eLRM, \u061c ALM",  # marks that RTL writing needs
        "👩\u200d👩\u200d👧 family, می\u200cخواهم ZWNJ",  # joiners: emoji and Persian
        f"Wales 🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f, {SCOTLAND}",
        "soft\u00adhyphen, no\u00a0break",
    ],
)
def test_visible_leaves_text_without_controls_as_it_is(text: str) -> None:
    assert visible(text) is text


CONTROLS = st.sampled_from(
    [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]
    + [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x2070), 0xFFF9, 0xFFFA, 0xFFFB)]
    + ["\U000e0001", "\U000e0041", "\U000e007f", "\U0001f3f4", SCOTLAND, "\u200d", "\u200f"]
)
#: Any text, with controls, flags and half-flags mixed in far more often than chance would.
TEXTS = st.lists(st.one_of(st.text(max_size=8), CONTROLS)).map("".join)


@given(TEXTS)
@example(EVIL_NAME)
@example(f"🏴{SCOTLAND}\U000e0067\U000e007f")
def test_visible_never_shows_a_raw_control(text: str) -> None:
    shown = visible(text)

    assert raw_controls(shown) == []
    assert visible(shown) == shown  # shown once is shown for good


@given(st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn"))))
def test_visible_changes_nothing_in_text_without_controls(text: str) -> None:
    assert visible(text) is text


@given(st.dictionaries(TEXTS, st.one_of(TEXTS, st.lists(TEXTS))))
def test_json_escaped_keeps_the_data_and_prints_no_raw_control(data: dict[str, Any]) -> None:
    dumped = json_escaped(json.dumps(data, ensure_ascii=False, indent=2))

    assert json.loads(dumped) == data
    assert [c for c in dumped if forbidden(c)] == []


def test_the_value_objects_hold_the_shown_text_and_keep_values_as_they_are() -> None:
    choice = Choice(f"v{CLEAR}", f"Carry on: {TITLE}")
    message = BotMessage(f"Which of these best describes {EVIL_NAME}?", (choice,))

    assert choice.label == "Carry on: ␛]0;pwned␇"
    assert choice.value == f"v{CLEAR}"  # what is stored and sent back, never shown
    assert raw_controls(message.text) == []
    assert raw_controls(json.dumps(message.as_dict(), ensure_ascii=False)) == []
    assert Await("choice", (choice,)).as_dict()["choices"][0]["label"] == choice.label


# == through the engine ===========================================================================


def test_an_other_party_typed_with_controls_is_shown_visibly_and_stored_as_typed(
    chat: Chat, store: Store
) -> None:
    chat.open()
    chat.say("start diagnose")
    chat.answer_until("other_party")

    named = chat.say(EVIL_NAME)
    assert chat.state == "other_party__name"
    assert all(raw_controls(message.text) == [] for message in named.messages)
    asked = chat.say(EVIL_SHORT)

    assert chat.state == "other_kind"
    assert "␛]0;pwned␇trust␛[2J board ⟨U+202E⟩draob" in asked.text
    for message in asked.messages:
        assert raw_controls(message.text) == []
        assert all(raw_controls(c.label) == [] for c in message.choices)
    assert all(raw_controls(c.label) == [] for c in asked.awaits.choices)

    chat.say(QUICK[chat.awaits])
    summary = chat.say("summary")

    assert "␛]0;pwned␇trust" in summary.text
    assert raw_controls(summary.text) == []
    row = store.current_conversation(chat.user)
    assert row is not None and row.slots["other_party"] == EVIL_SHORT
    assert row.slots["other_party_note"] == EVIL_NAME
    typed = [m["text"] for m in store.messages_of(chat.user) if m["sender"] == "user"]
    assert EVIL_NAME in typed
    said = [m["text"] for m in store.messages_of(chat.user) if m["sender"] == "bot"]
    assert all(raw_controls(text) == [] for text in said)  # the transcript is what was shown


def test_an_unknown_dialogue_name_with_controls_is_shown_visibly(chat: Chat, store: Store) -> None:
    chat.open()

    reply = chat.say(f"start {CLEAR}nope{RLO}")

    assert "i don't know a dialogue called '␛[2jnope⟨u+202e⟩'" in reply.text.lower()
    assert raw_controls(reply.text) == []
    typed = [m["text"] for m in store.messages_of(chat.user) if m["sender"] == "user"]
    assert typed[-1] == f"start {CLEAR}nope{RLO}"


# == the terminal, as a real process ==============================================================


@pytest.mark.slow
@pytest.mark.parametrize("json_mode", [True, False], ids=["json", "text"])
def test_coach_chat_prints_no_raw_control_the_user_typed(tmp_path: Path, json_mode: bool) -> None:
    lines = [
        "start diagnose",
        "1",
        f"Our funding{CLEAR} is cut",
        EVIL_NAME,
        EVIL_SHORT,
        "summary",
        f"start {CLEAR}nope{RLO}",
        f"menu{TITLE}",
        "quit",
    ]
    done = subprocess.run(
        chat_cmd(tmp_path / "coach.db", "mallory", *(["--json"] if json_mode else [])),
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=REPO,
        env=coach_env(),
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert raw_controls(done.stdout) == []  # the bytes a terminal would act on
    assert "␛]0;pwned␇trust␛[2J board ⟨U+202E⟩draob" in done.stdout
    assert "'␛[2jnope⟨u+202e⟩'" in done.stdout.lower()
    if json_mode:
        for line in done.stdout.splitlines():
            for text in strings_in(json.loads(line)):  # and what a program would then print
                assert raw_controls(text) == [], line


def test_coach_export_prints_escapes_not_controls_and_keeps_every_word(
    tmp_path: Path, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    user = Chat(engine, "terminal:mallory")
    user.open()
    user.say("start diagnose")
    user.answer_until("other_party")
    user.say(EVIL_NAME)

    assert cli.main(["export", "--db", str(engine.store.path), "--user", "mallory"]) == 0

    printed = capsys.readouterr().out
    assert [c for c in printed if forbidden(c)] == []
    data = json.loads(printed)
    assert EVIL_NAME in [m["text"] for m in data["messages"]]


# == Slack: what does not come from a BotMessage ==================================================


@pytest.fixture
def slack(engine: Engine) -> Iterator[Slack]:
    fake = FakeSlack().start()
    try:
        yield Slack(build_coach(engine, fake), fake)
    finally:
        fake.stop()


def finish_diagnosis(chat: Chat, other_party: str) -> None:
    """A whole diagnosis through the engine, naming `other_party`, quick answers elsewhere."""
    chat.open()
    chat.say("start diagnose")
    chat.answer_until("other_party")
    chat.say(other_party)
    if chat.state == "other_party__name":  # a long answer: the short name is as evil
        chat.say(EVIL_SHORT)
    for _ in range(80):
        if chat.engine.store.completed_conversations(chat.user, "diagnose"):
            return
        chat.say(QUICK[chat.awaits])
    raise AssertionError(f"the diagnosis never ended: {chat.text}")


def test_the_slack_home_tab_and_commands_show_no_raw_control(
    slack: Slack, engine: Engine, db_path: Path
) -> None:
    finish_diagnosis(Chat(engine, "slack:T1:U1"), EVIL_NAME)
    engine.handle("slack:T1:U1", UserInput("start own_power"))
    plant_overdue_step(db_path, "slack:T1:U1", title=f"Call {TITLE}the chair{RLO}")

    view = slack.open_home()
    shown = "\n".join(block_texts(view["blocks"]))
    steps = ack_body(slack.command("steps"))["text"]
    status = ack_body(slack.command("status"))["text"]
    unknown = ack_body(slack.command(f"{CLEAR}now"))["text"]

    assert "␛]0;pwned␇trust" in shown  # the past diagnosis, named as typed
    assert "Call ␛]0;pwned␇the chair⟨U+202E⟩" in shown
    assert "Call ␛]0;pwned␇the chair⟨U+202E⟩" in steps
    for text in (shown, json.dumps(view, ensure_ascii=False), steps, status, unknown):
        assert raw_controls(text) == [], text


def test_the_markdown_export_shows_no_raw_control(chat: Chat, store: Store) -> None:
    finish_diagnosis(chat, EVIL_NAME)

    document = export_markdown(store, chat.user)

    assert f"> {visible(EVIL_NAME)}" in document
    assert raw_controls(document) == []
    typed = [m["text"] for m in store.export_user(chat.user)["messages"]]
    assert EVIL_NAME in typed  # the data keeps it as typed
