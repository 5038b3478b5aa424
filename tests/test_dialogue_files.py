"""Dialogue files: the shipped ones load, compile and cite their sources; broken ones are
reported as `file:line:col: what was expected`, so an admin can go straight to the mistake."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from bot.cli import main
from bot.compiler import compile_dialogue
from bot.engine import Engine
from bot.errors import DialogueError
from bot.loader import load_catalog, load_dialogue_file
from bot.schema import Dialogue
from bot.turns import UserInput
from tests.conftest import copy_safety

DIALOGUES = Path(__file__).resolve().parent.parent / "dialogues"
SHIPPED = sorted(p for p in DIALOGUES.glob("*.yaml") if p.name != "safety.yaml")

# A small valid dialogue; each error test breaks one thing in it.
TINY = """\
id: tiny
title: Tiny check
version: 1
description: A tiny dialogue for loader tests.
steps:
  ask:
    kind: choice
    prompt: Shall we go on?
    slot: go_on
    choices:
      - value: yes
        label: Yes
      - value: no
        label: No
    next: name_it
  name_it:
    kind: text
    prompt: What is it called?
    slot: name
    next:
      - when: go_on == 'no'
        to: stopped
      - to: done
  stopped:
    kind: end
    text: "Stopping here with {{ name }}."
  done:
    kind: end
    text: "Carrying on with {{ name }}."
"""


def write(folder: Path, text: str, name: str = "tiny.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    assert old in TINY, old
    text = TINY.replace(old, new, 1)
    return write(tmp_path, text), text


def load_error(path: Path) -> str:
    with pytest.raises(DialogueError) as caught:
        load_dialogue_file(path)
    assert caught.value.path == str(path)
    return str(caught.value)


def at(path: Path, text: str, needle: str) -> str:
    """`path:line:col` (1-based) of the first occurrence of `needle` in `text`."""
    offset = text.index(needle)
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{path}:{line}:{col}"


def line_of(path: Path, text: str, needle: str) -> str:
    return at(path, text, needle).rsplit(":", 1)[0] + ":"


def problem_at(message: str, where: str) -> str:
    """The one problem line of `message` that starts at `where`."""
    lines = [line for line in message.splitlines() if line.startswith(where)]
    assert lines, f"no problem reported at {where}:\n{message}"
    return lines[0]


# -- the shipped dialogues --------------------------------------------------------------------


def _sources(node: Any) -> list[Any]:
    """Every value of a `source:` key anywhere in a YAML tree."""
    found: list[Any] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "source":
                found.append(value)
            found.extend(_sources(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_sources(item))
    return found


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_dialogue_loads_compiles_and_cites_every_source(path: Path) -> None:
    loaded = load_dialogue_file(path)
    compiled = compile_dialogue(loaded)
    dialogue = loaded.dialogue
    for step_id in dialogue.steps:
        assert compiled.knows_state(step_id), step_id
    assert compiled.knows_state(dialogue.start_step)

    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    sources = _sources(yaml.load(path.read_text(encoding="utf-8")))
    blank = [s for s in sources if not isinstance(s, str) or not s.strip()]
    assert not blank, f"{path.name} has {len(blank)} empty `source:` values"
    for rec in dialogue.recommendations:
        assert rec.source.strip(), rec.id
        assert rec.idea.strip() and rec.text.strip(), rec.id


def test_diagnose_offers_at_least_fifteen_cited_recommendations() -> None:
    dialogue = load_dialogue_file(DIALOGUES / "diagnose.yaml").dialogue
    assert len(dialogue.recommendations) >= 15
    assert all(rec.source.strip() for rec in dialogue.recommendations)
    assert len({rec.id for rec in dialogue.recommendations}) == len(dialogue.recommendations)


def test_every_shipped_dialogue_file_points_editors_at_the_schema() -> None:
    """VS Code's YAML extension (and other editors using the YAML language server) complete
    keys and underline mistakes as an admin types, from this first line."""
    from bot.loader import dialogue_files

    files = list(dialogue_files(DIALOGUES))
    assert len(files) >= 4
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=./schema.json", path


def test_schema_json_matches_the_models() -> None:
    shipped = (DIALOGUES / "schema.json").read_text(encoding="utf-8")
    expected = json.dumps(Dialogue.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
    assert shipped == expected, "dialogues/schema.json is stale: run `coach dialogues schema`"


def test_shipped_dialogues_validate_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dialogues", "validate", "--dialogues", str(DIALOGUES)]) == 0
    out = capsys.readouterr().out
    assert out.endswith("0 error(s), 0 warning(s)\n")
    for path in SHIPPED:
        assert f"ok   {path}" in out


# -- loader errors: file:line:col and what was expected -----------------------------------------


def test_the_tiny_dialogue_itself_is_valid(tmp_path: Path) -> None:
    loaded = load_dialogue_file(write(tmp_path, TINY))
    assert loaded.dialogue.id == "tiny"
    compile_dialogue(loaded)


def test_yaml_syntax_error_is_located(tmp_path: Path) -> None:
    path, _ = broken(tmp_path, "title: Tiny check", "title: [Tiny check")
    message = load_error(path)
    match = re.match(rf"{re.escape(str(path))}:(\d+):(\d+): (.+)", message)
    assert match, message
    assert int(match.group(1)) in (2, 3)  # the open bracket, or where YAML gave up on it
    assert match.group(3).startswith("the `[` at line 2, column 8 is not closed with `]`")


def test_duplicate_key_is_located_at_the_second_one(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "version: 1\n", "version: 1\ntitle: Again\n")
    message = load_error(path)
    assert message.startswith(f"{at(path, text, 'title: Again')}: ")
    assert "the key 'title' appears twice in the same mapping" in message


def test_unknown_step_kind_is_located_and_lists_the_kinds(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "kind: text", "kind: txt")
    message = load_error(path)
    assert message.startswith((f"{at(path, text, 'name_it:')}: ", f"{at(path, text, 'txt')}: "))
    assert "unknown step kind" in message
    assert "expected one of" in message
    for kind in ("'message'", "'text'", "'choice'", "'end'"):
        assert kind in message


def test_unknown_step_kind_names_the_misspelt_kind(tmp_path: Path) -> None:
    path, _ = broken(tmp_path, "kind: text", "kind: txt")
    message = load_error(path)
    assert "unknown step kind 'txt'" in message
    assert "What is it called?" not in message  # not the whole step dumped back


def test_missing_required_field_is_located_at_its_step(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "    prompt: What is it called?\n", "")
    message = load_error(path)
    assert message.startswith(f"{at(path, text, 'name_it:')}: ")
    # The path as the file has it (no `.text.` tag of pydantic's), and what needs it.
    assert "steps.name_it.prompt: required but missing: a `text` step needs `prompt`" in message


def test_misspelt_key_is_reported_on_its_line(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "prompt: What is it called?", "promt: What is it called?")
    message = load_error(path)
    problem = problem_at(message, line_of(path, text, "promt:"))
    assert "unknown key 'promt'" in problem
    assert "check its spelling" in problem
    assert "prompt: required but missing" in message  # and what was expected instead


def test_next_naming_a_missing_step_points_at_that_next(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "next: name_it", "next: nowhere")
    message = load_error(path)
    problem = problem_at(message, at(path, text, "nowhere"))
    assert "steps.ask.next: no step is called 'nowhere'" in problem


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("go_on.real == 'no'", "only the fields of step and then can be read with `.`"),
        ("going_on == 'no'", "names 'going_on', which is not a slot of this dialogue"),
        (
            "__import__('os')",
            "calls something other than abs, any_of, contains, len, lower, max, min",
        ),
    ],
    ids=["attribute", "unknown_slot", "call"],
)
def test_invalid_condition_is_located_at_its_when(
    tmp_path: Path, condition: str, expected: str
) -> None:
    path, text = broken(tmp_path, "go_on == 'no'", condition)
    message = load_error(path)
    problem = problem_at(message, at(path, text, condition))
    assert "steps.name_it.next.0.when" in problem
    assert expected in problem


def test_template_syntax_error_is_located_at_its_field(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "What is it called?", "'What is {{ it called?'")
    message = load_error(path)
    problem = problem_at(message, at(path, text, "'What is {{"))
    assert "steps.name_it.prompt: template error" in problem


def test_unreachable_step_is_located(tmp_path: Path) -> None:
    lonely = "  lonely:\n    kind: message\n    text: Nobody comes here.\n    next: done\n"
    path = write(tmp_path, TINY + lonely)
    message = load_error(path)
    problem = problem_at(message, at(path, TINY + lonely, "lonely:"))
    assert "steps.lonely: no path from the start reaches this step" in problem


# -- also:, multiple: and max: ---------------------------------------------------------------

ASK_CHOICES = """    choices:
      - value: yes
        label: Yes
      - value: no
        label: No
"""


def test_an_also_phrase_claimed_by_two_options_is_located_at_the_second(tmp_path: Path) -> None:
    path, text = broken(
        tmp_path,
        ASK_CHOICES,
        ASK_CHOICES.replace("label: Yes\n", "label: Yes\n        also: [sure, go on]\n").replace(
            "label: No\n", "label: No\n        also: [stop, Go on]\n"
        ),
    )
    message = load_error(path)
    line = problem_at(message, at(path, text, "Go on]"))
    assert "'Go on' is claimed by two options: 'yes' and 'no'" in line


def test_an_also_phrase_that_is_another_options_label_is_refused(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "label: No\n", "label: No\n        also: [nope, yes]\n")
    message = load_error(path)
    assert "'yes' is claimed by two options" in problem_at(message, at(path, text, "yes]"))


def test_two_options_with_the_same_label_are_refused(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "label: No\n", "label: yes.\n")
    message = load_error(path)
    assert "'yes.' is also option 'yes'" in problem_at(message, at(path, text, "yes."))


def test_max_needs_multiple_and_enough_options(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "    slot: go_on\n", "    slot: go_on\n    max: 2\n")
    message = load_error(path)
    assert "`max` needs `multiple: true`" in problem_at(message, at(path, text, "2\n"))

    path, text = broken(
        tmp_path, "    slot: go_on\n", "    slot: go_on\n    multiple: true\n    max: 3\n"
    )
    message = load_error(path)
    assert "`max` is 3 but there are only 2 options" in problem_at(message, at(path, text, "3\n"))


def test_a_multiple_step_cannot_branch_per_option(tmp_path: Path) -> None:
    path, text = broken(
        tmp_path,
        "    slot: go_on\n",
        "    slot: go_on\n    multiple: true\n",
    )
    text = text.replace("label: No\n", "label: No\n        next: stopped\n")
    write(tmp_path, text)
    message = load_error(path)
    line = problem_at(message, at(path, text, "stopped\n"))
    assert "a `multiple` step cannot branch per option" in line
    assert "`'no' in go_on`" in line


def test_a_multiple_step_loads_and_conditions_test_membership(tmp_path: Path) -> None:
    text = TINY.replace("    slot: go_on\n", "    slot: go_on\n    multiple: true\n").replace(
        "when: go_on == 'no'", "when: \"'no' in go_on and len(go_on) == 1\""
    )
    loaded = load_dialogue_file(write(tmp_path, text))
    assert loaded.dialogue.steps["ask"].multiple  # type: ignore[union-attr]
    compile_dialogue(loaded)


def test_notes_of_choices_ratings_and_yes_no_are_slots_templates_may_use(tmp_path: Path) -> None:
    text = TINY.replace("Stopping here with {{ name }}.", "Stopping: {{ go_on_note }}.").replace(
        "when: go_on == 'no'", "when: go_on == 'no' and not go_on_note"
    )
    assert "go_on_note" in load_dialogue_file(write(tmp_path, text)).dialogue.slot_names()


def test_yes_and_no_stay_strings(tmp_path: Path) -> None:
    """YAML 1.2: `value: no` is the word "no", not False (the Norway problem)."""
    loaded = load_dialogue_file(write(tmp_path, TINY))
    choices = loaded.dialogue.steps["ask"].choices
    assert [(c.value, c.label) for c in choices] == [("yes", "Yes"), ("no", "No")]
    assert all(isinstance(c.value, str) for c in choices)


def test_listed_no_hides_a_dialogue(tmp_path: Path) -> None:
    path, _ = broken(tmp_path, "version: 1\n", "version: 1\nlisted: no\n")
    assert load_dialogue_file(path).dialogue.listed is False


@pytest.fixture
def tiny_engine(tmp_path: Path, store: Any, clock: Any) -> Engine:
    folder = tmp_path / "dialogues"
    folder.mkdir()
    write(folder, TINY)
    copy_safety(folder)
    catalog = load_catalog(folder)
    assert not catalog.problems
    return Engine(store, catalog, clock=clock)


def talk(engine: Engine, text: str) -> str:
    return engine.handle("terminal:nora", UserInput(text)).text


def test_a_no_choice_steers_the_conversation(tiny_engine: Engine) -> None:
    tiny_engine.open("terminal:nora")
    assert "Shall we go on?" in talk(tiny_engine, "Tiny check")
    talk(tiny_engine, "no")
    assert "Stopping here with the widget." in talk(tiny_engine, "the widget")
    assert "Shall we go on?" in talk(tiny_engine, "start tiny")
    talk(tiny_engine, "Yes")
    assert "Carrying on with the gadget." in talk(tiny_engine, "the gadget")


def test_running_conversations_do_not_widen_what_conditions_may_call(
    tiny_engine: Engine, tmp_path: Path
) -> None:
    """Evaluating a condition once must not let later files call list/set/dict/tuple."""
    tiny_engine.open("terminal:nora")
    talk(tiny_engine, "Tiny check")
    talk(tiny_engine, "no")
    assert "Stopping here" in talk(tiny_engine, "the widget")  # a `when:` was evaluated
    path, text = broken(tmp_path, "go_on == 'no'", "set(go_on) == set()")
    message = load_error(path)
    problem = problem_at(message, at(path, text, "set(go_on)"))
    assert "calls something other than abs, any_of, contains, len, lower, max, min" in problem


# -- a folder with a broken file, and the validate command ------------------------------------


@pytest.fixture
def mixed_folder(tmp_path: Path) -> tuple[Path, Path, Path, str]:
    folder = tmp_path / "dialogues"
    folder.mkdir()
    good = write(folder, TINY, "good.yaml")
    text = TINY.replace("id: tiny", "id: tiny_broken").replace("next: name_it", "next: nowhere")
    bad = write(folder, text, "broken.yaml")
    copy_safety(folder)
    return folder, good, bad, at(bad, text, "nowhere")


def test_catalog_loads_the_good_file_and_names_the_broken_one(
    mixed_folder: tuple[Path, Path, Path, str],
) -> None:
    folder, good, bad, where = mixed_folder
    catalog = load_catalog(folder)
    assert list(catalog.dialogues) == ["tiny"]
    assert catalog.dialogues["tiny"].path == str(good)
    (problem,) = catalog.problems
    assert problem.path == str(bad)
    assert f"{where}: steps.ask.next: no step is called 'nowhere'" in str(problem)
    assert catalog.safety is not None


def test_validate_command_fails_and_prints_where(
    mixed_folder: tuple[Path, Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, good, bad, where = mixed_folder
    assert main(["dialogues", "validate", "--dialogues", str(folder)]) == 1
    out = capsys.readouterr().out
    assert f"ok   {good}: tiny v1" in out
    assert f"{where}: error: steps.ask.next: no step is called 'nowhere'" in out

    assert main(["dialogues", "validate", str(bad)]) == 1
    assert f"{where}: error:" in capsys.readouterr().out


# -- asking for a dialogue that does not exist ----------------------------------------------


def test_unknown_dialogue_lists_the_available_ones(chat: Any) -> None:
    chat.open()
    chat.say("start nonsense")
    assert "I don't know a dialogue called 'nonsense'" in chat.text
    assert "These are available: diagnose, own_power, revisit." in chat.text
    assert "checkin" not in chat.text  # not offered: it only runs when a step is due
    assert chat.state is None
    assert {c.value for c in chat.last.awaits.choices} == {"diagnose", "own_power", "revisit"}


def test_unknown_dialogue_mid_conversation_keeps_your_place(chat: Any) -> None:
    # At a question with options; at a free-text question "start …" is taken as the answer.
    chat.open()
    chat.say("diagnose")
    assert chat.state == "role"
    chat.say("start nonsense")
    assert "I don't know a dialogue called 'nonsense'" in chat.text
    assert "closest to your role" in chat.text
    assert chat.state == "role"
    assert chat.last.awaits.kind == "choice"


# -- the picture of the flow ----------------------------------------------------------------


def graph_of(folder: Path, dialogue_id: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["dialogues", "graph", dialogue_id, "--dialogues", str(folder)]) == 0
    return [line.strip() for line in capsys.readouterr().out.splitlines()]


def test_graph_draws_every_step_and_branch_as_mermaid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, TINY.replace("  name_it:\n", "  name_it:\n    title: Naming it\n"))
    lines = graph_of(tmp_path, "tiny", capsys)

    assert lines[0] == "stateDiagram-v2"
    assert 'state "Naming it" as name_it' in lines  # a step's title, else its id
    assert "[*] --> ask" in lines  # where it starts
    assert {"stopped --> [*]", "done --> [*]"} <= set(lines)  # where it can end
    # The condition an admin wrote is shown on its branch; the fallback has none.
    assert "name_it --> stopped : Answer [go_on == 'no']" in lines
    assert "name_it --> done : Answer" in lines
    assert "ask --> name_it : Answer" in lines
    # The commands users have are part of the flow too.
    assert "name_it --> ask : Back [back to ask]" in lines
    assert "name_it --> ask : Restart" in lines


def test_graph_shows_choice_branches_and_passes_through_message_steps(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = graph_of(DIALOGUES, "own_power", capsys)

    assert "difference --> who_decides : Answer ['not_sure' in differences]" in lines
    assert "difference --> difference_shows : Answer" in lines
    # A step that asks nothing moves on by itself: no answer is needed.
    assert "summary --> recommend" in lines
    assert "commit__due --> commit : Answer [fewer than 3 steps]" in lines


def test_graph_of_an_unknown_dialogue_names_the_ones_there_are(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["dialogues", "graph", "nonsense", "--dialogues", str(DIALOGUES)]) != 0
    out = capsys.readouterr()
    assert "nonsense" in out.err + out.out
    assert "diagnose" in out.err + out.out
    assert "Traceback" not in out.err + out.out


# -- an admin edits a dialogue while people are in it ----------------------------------------


def engine_after_edit(folder: Path, store: Any, clock: Any, text: str | None) -> Engine:
    """A restarted coach that loads the edited file (None: the file was deleted)."""
    if text is None:
        (folder / "tiny.yaml").unlink()
    else:
        write(folder, text)
    if not (folder / "safety.yaml").exists():
        copy_safety(folder)
    return Engine(store, load_catalog(folder), clock=clock)


@pytest.fixture
def nora_at_name_it(tiny_engine: Engine, store: Any) -> None:
    tiny_engine.open("terminal:nora")
    talk(tiny_engine, "Tiny check")
    assert "What is it called?" in talk(tiny_engine, "no")
    row = store.current_conversation("terminal:nora")
    assert row.state == "name_it"


@pytest.mark.usefixtures("nora_at_name_it")
def test_a_conversation_finishes_on_its_version_and_a_new_one_takes_the_edit(
    tmp_path: Path, store: Any, clock: Any
) -> None:
    edited = TINY.replace("Stopping here with", "We stop here, with").replace(
        "version: 1", "version: 2"
    )
    engine = engine_after_edit(tmp_path / "dialogues", store, clock, edited)
    assert "Stopping here with the widget." in talk(engine, "the widget")
    (finished,) = store.conversations_of("terminal:nora")
    assert (finished.status, finished.dialogue_version) == ("completed", 1)

    talk(engine, "start tiny")
    talk(engine, "no")
    assert "We stop here, with the gadget." in talk(engine, "the gadget")


EDITS_THAT_REMOVE_THE_QUESTION = [
    pytest.param(
        lambda t: t.replace("next: name_it", "next: named").replace("name_it:", "named:"),
        id="question renamed",
    ),
    pytest.param(
        lambda t: t.replace(
            "    kind: text\n    prompt: What is it called?\n    slot: name\n",
            "    kind: message\n    text: Noted.\n",
        ).replace("{{ name }}", "it"),  # no slot `name` now for the ends to show
        id="question now a message",
    ),
]


@pytest.mark.parametrize("change", EDITS_THAT_REMOVE_THE_QUESTION)
@pytest.mark.parametrize("how", ["restart", "reload"])
def test_an_edit_that_removes_your_question_does_not_break_your_conversation(
    tiny_engine: Engine, tmp_path: Path, store: Any, clock: Any, change: Any, how: str
) -> None:
    """Started on version 1, the conversation finishes on version 1 after the edit, whether
    the coach restarts or reloads the folder while it runs."""
    tiny_engine.open("terminal:nora")
    talk(tiny_engine, "Tiny check")
    assert "What is it called?" in talk(tiny_engine, "no")
    folder = tmp_path / "dialogues"
    edited = change(TINY).replace("version: 1", "version: 2")
    if how == "restart":
        engine = engine_after_edit(folder, store, clock, edited)
    else:
        write(folder, edited)
        assert tiny_engine.reload(folder) == []
        engine = tiny_engine
    assert not engine.catalog.problems, [str(p) for p in engine.catalog.problems]

    reply = engine.handle("terminal:nora", UserInput("the widget"))

    assert "Stopping here with the widget." in reply.text
    assert "has been updated since we spoke" not in reply.text
    (row,) = store.conversations_of("terminal:nora")
    assert (row.status, row.dialogue_version, row.slots["name"]) == ("completed", 1, "the widget")


@pytest.mark.parametrize("change", EDITS_THAT_REMOVE_THE_QUESTION)
@pytest.mark.usefixtures("nora_at_name_it")
def test_a_conversation_from_before_versions_were_kept_is_set_aside_when_its_question_goes(
    tmp_path: Path, store: Any, clock: Any, change: Any
) -> None:
    store.db.execute("DELETE FROM dialogue_versions")  # as a store from before m010 has none
    edited = change(TINY).replace("version: 1", "version: 2")
    engine = engine_after_edit(tmp_path / "dialogues", store, clock, edited)
    assert not engine.catalog.problems, [str(p) for p in engine.catalog.problems]

    reply = engine.handle("terminal:nora", UserInput("the widget"))

    assert "The Tiny check dialogue has been updated since we spoke" in reply.text
    assert "Stopping here" not in reply.text and "Carrying on" not in reply.text
    assert "tiny" in {c.value for c in reply.awaits.choices}  # it can be started again
    statuses = [row.status for row in store.conversations_of("terminal:nora")]
    assert statuses == ["abandoned"]


def test_each_version_a_conversation_started_on_is_stored_once_with_its_source(
    tiny_engine: Engine, store: Any
) -> None:
    for _ in range(2):
        tiny_engine.open("terminal:nora")
        talk(tiny_engine, "start tiny")
        talk(tiny_engine, "no")
        talk(tiny_engine, "the widget")
    rows = store.db.execute("SELECT dialogue, version, source FROM dialogue_versions").fetchall()
    assert rows == [("tiny", 1, TINY)]


@pytest.mark.usefixtures("nora_at_name_it")
def test_a_deleted_dialogue_says_so_and_offers_the_menu(
    tmp_path: Path, store: Any, clock: Any
) -> None:
    engine = engine_after_edit(tmp_path / "dialogues", store, clock, None)

    reply = engine.handle("terminal:nora", UserInput("the widget"))

    assert "The dialogue you were in (tiny) is no longer available." in reply.text
    assert reply.awaits.kind == "choice"
    assert [row.status for row in store.conversations_of("terminal:nora")] == ["abandoned"]


def test_a_step_that_fails_while_speaking_loses_nothing_and_the_user_can_go_on(
    tmp_path: Path, store: Any, clock: Any
) -> None:
    """An error inside the machine's entry callback reaches the engine, never half a turn."""
    folder = tmp_path / "dialogues"
    folder.mkdir()
    write(folder, TINY.replace("Carrying on with {{ name }}.", "{{ 1 // (name == 'x') }}"))
    copy_safety(folder)
    engine = Engine(store, load_catalog(folder), clock=clock)
    engine.open("terminal:nora")
    talk(engine, "Tiny check")
    talk(engine, "yes")
    before = store.messages_of("terminal:nora")

    reply = talk(engine, "the gadget")  # entering `done` divides by zero

    assert "Something went wrong on my side and your last message wasn't saved" in reply
    assert store.messages_of("terminal:nora") == before
    row = store.current_conversation("terminal:nora")
    assert (row.state, row.status, "name" in row.slots) == ("name_it", "active", False)
    # The conversation is whole: the user can go back and take the other way.
    assert "Shall we go on?" in talk(engine, "back")
    talk(engine, "no")
    assert "Stopping here with the widget." in talk(engine, "the widget")


# -- compiled once per version ------------------------------------------------------------------


def test_a_dialogue_is_compiled_once_per_version_and_an_edit_makes_one_new_class(
    tmp_path: Path,
) -> None:
    """Reloading files (every start, later every hot reload) must not pile up machine classes:
    python-statemachine keeps every class it builds in a global registry."""
    from statemachine import registry

    def classes() -> int:
        return len(set(registry._REGISTRY.values()))

    path = write(tmp_path, TINY)
    first = compile_dialogue(load_dialogue_file(path))
    before = classes()

    for _ in range(5):
        assert compile_dialogue(load_dialogue_file(path)) is first
    assert classes() == before

    write(tmp_path, TINY.replace("Shall we go on?", "Shall we carry on?"))
    edited = compile_dialogue(load_dialogue_file(path))
    assert edited is not first
    assert edited.machine_class is not first.machine_class
    assert classes() == before + 1
    assert compile_dialogue(load_dialogue_file(path)) is edited


# -- steps that go round in a loop without asking anything ------------------------------------

LOOPING = TINY.replace(
    '  stopped:\n    kind: end\n    text: "Stopping here with {{ name }}."\n',
    "  stopped:\n    kind: message\n    text: Round we go.\n    next: again\n"
    "  again:\n    kind: message\n    text: And again.\n    next: stopped\n",
)


def test_a_loop_of_steps_that_ask_nothing_is_refused_where_it_starts(tmp_path: Path) -> None:
    path = write(tmp_path, LOOPING)
    message = load_error(path)
    problem = problem_at(message, at(path, LOOPING, "stopped:\n    kind: message"))
    assert "go round in a loop without asking anything (stopped → again → stopped)" in problem


def test_a_looping_dialogue_that_reaches_a_running_coach_ends_its_own_turn(
    tmp_path: Path, store: Any, clock: Any, caplog: Any, monkeypatch: Any
) -> None:
    """Validation refuses the file, but a file can reach a running coach by other routes: the
    engine bounds a turn, so the loop ends with a message and holds nothing."""
    import bot.flow as flow
    import bot.schema as schema

    folder = tmp_path / "dialogues"
    folder.mkdir()
    write(folder, LOOPING)
    copy_safety(folder)
    monkeypatch.setattr(schema.Dialogue, "_silent_loops", lambda self: [])
    monkeypatch.setattr(flow, "_no_way_out", lambda dialogue, reachable: iter(()))
    catalog = load_catalog(folder)
    assert not catalog.problems
    engine = Engine(store, catalog, clock=clock)
    engine.open("terminal:nora")
    talk(engine, "Tiny check")
    talk(engine, "no")

    reply = engine.handle("terminal:nora", UserInput("the widget"))

    assert reply.failed and "goes round in a loop" in reply.text
    assert "Traceback" not in reply.text and "the widget" not in caplog.text
    assert "What would you like to do" in talk(engine, "menu")  # the user can go elsewhere
