"""`coach dialogues validate`: every problem of every file at once, as `file:line:col:
severity: message`, exit 1 on any error, JSON for editors and CI.

Each hostile file under tests/validate/ ends with `# expect: line:col: severity: message`
comments: exactly those problems, no more and no fewer, must be reported for it.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.loader import load_catalog
from bot.validation import LOCK_FILE

HERE = Path(__file__).resolve().parent
FIXTURES = sorted((HERE / "validate").rglob("*.yaml"))
DIALOGUES = HERE.parent / "dialogues"


def expected(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [f"{path}:{line.removeprefix('# expect: ')}" for line in lines if "# expect: " in line]


def validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["dialogues", "validate", *args])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_each_hostile_file_gets_exactly_its_problems_at_their_places(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wanted = expected(path)
    assert wanted, f"{path} says nothing about what it should get"
    code, out = validate(capsys, str(path))
    assert code == 1
    reported = [line for line in out.splitlines() if line.startswith(f"{path}:")]
    assert reported == wanted
    assert out.splitlines()[-1] == f"{len(wanted)} error(s), 0 warning(s)"


def test_every_file_named_is_checked_and_every_problem_reported_in_one_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = validate(capsys, *map(str, FIXTURES))
    assert code == 1
    for path in FIXTURES:
        for line in expected(path):
            assert line in out


def test_json_lists_the_same_problems_for_editors(capsys: pytest.CaptureFixture[str]) -> None:
    path = HERE / "validate" / "unknown_next.yaml"
    code, out = validate(capsys, "--format", "json", str(path))
    assert code == 1
    report = json.loads(out)
    assert report["errors"] == 1
    assert report["warnings"] == 0
    assert report["diagnostics"] == [
        {
            "file": str(path),
            "line": 11,
            "col": 11,
            "severity": "error",
            "message": "steps.ask.next: no step is called 'dne'; did you mean 'done'?",
        }
    ]


def test_the_shipped_dialogues_safety_screen_and_rubric_validate_clean(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = validate(capsys, "--dialogues", str(DIALOGUES))
    assert code == 0, out
    assert out.splitlines()[-1] == "0 error(s), 0 warning(s)"
    assert f"ok   {DIALOGUES / 'safety.yaml'}" in out
    assert "rubric.yaml" in out


def test_the_shipped_lock_records_every_dialogue_at_its_version(tmp_path: Path) -> None:
    folder = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, folder)
    assert main(["dialogues", "lock", "--dialogues", str(folder)]) == 0
    shipped = json.loads((DIALOGUES / LOCK_FILE).read_text(encoding="utf-8"))
    assert json.loads((folder / LOCK_FILE).read_text(encoding="utf-8")) == shipped, (
        "dialogues/versions.lock is stale: run `coach dialogues lock`"
    )


def _edited(folder: Path, old: str, new: str) -> Path:
    path = folder / "checkin.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_content_changed_under_the_same_version_is_a_warning_that_does_not_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, folder)
    path = _edited(folder, "title: A thought on it", "title: A thought about it")
    code, out = validate(capsys, "--dialogues", str(folder))
    assert code == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith("version: "))
    was = int(lines[line - 1].removeprefix("version: "))
    assert (
        f"{path}:{line}:10: warning: version: the content changed since version {was} was "
        f"recorded in {LOCK_FILE}; raise it to {was + 1} (then run `coach dialogues lock`)"
    ) in out
    assert out.splitlines()[-1] == "0 error(s), 1 warning(s)"

    _edited(folder, f"version: {was}", f"version: {was + 1}")
    assert validate(capsys, "--dialogues", str(folder))[1].endswith("0 error(s), 0 warning(s)\n")


def test_comments_and_layout_are_not_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, folder)
    _edited(folder, "  reading:\n", "  # a comment an admin added\n  reading:\n")
    code, out = validate(capsys, "--dialogues", str(folder))
    assert (code, out.splitlines()[-1]) == (0, "0 error(s), 0 warning(s)")


def test_a_dialogue_that_fails_validate_is_not_loaded_by_the_coach() -> None:
    from bot.loader import load_catalog

    for folder in (HERE / "validate", HERE / "validate" / "hostile"):
        catalog = load_catalog(folder)
        assert catalog.dialogues == {}
        files = [p for p in FIXTURES if p.parent == folder]
        assert len(catalog.problems) == len(files) + 1  # and the safety.yaml it lacks


def test_the_fast_reading_gives_the_same_dialogues_as_the_careful_one() -> None:
    """Files are read by ruamel's C parser, and again with positions only when something is
    wrong: both must make the same dialogue of every shipped file (YAML 1.2 both ways)."""
    from bot import loader
    from bot.schema import Dialogue

    for path in loader.dialogue_files(DIALOGUES):
        text = path.read_text(encoding="utf-8")
        fast = loader._fast_validated(str(path), text, Dialogue, None)
        careful, _ = loader._validated_with_positions(str(path), text, Dialogue, None)
        assert fast is not None and fast == careful, path


def test_a_look_back_label_naming_no_slot_of_the_past_dialogue_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`about.label` is worded from a past conversation's slots (another dialogue's), so
    only the whole folder can check its names; once it was found only when rendered."""
    folder = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, folder)
    revisit = folder / "revisit.yaml"
    text = revisit.read_text(encoding="utf-8")
    assert 'label: "{{ other_party }}, {{ date | day }}"' in text
    revisit.write_text(text.replace("{{ other_party }}, {{ date", "{{ other_prty }}, {{ dat"))
    code, out = validate(capsys, str(folder))
    assert code == 1
    told = "error: about.label: the template names '{}', which is no slot of a past 'diagnose' "
    assert f"{revisit}:33:10: {told.format('dat')}" in out
    assert (
        f"{revisit}:33:10: {told.format('other_prty')}conversation (a label is worded from its "
        "slots and `date`); did you mean 'other_party'?"
    ) in out


#: What pydantic says of itself, which means nothing to an admin: a union member it tried
#: (`constrained-str`, `list[Branch]`), a step kind tag in the path, a mapping's `[key]`, its
#: messages for Python types.
PYDANTIC_INSIDES = re.compile(
    r"constrained-|list\[|dict\[|\[key\]|\.\.|Input should|String should|Dictionary should"
    r"|after validation|value_error|valid dictionary|unable to parse|"
    r"steps\.\w+\.(message|text|choice|scale|yesno|date|summary|recommend|commit|recall|"
    r"outcome|end)\.\w"
)


def test_no_problem_in_the_hostile_corpus_shows_pydantic_s_insides(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every message says what the field must be, in the file's own terms: `steps.ask.next:
    must be the id of the step that comes next, or a list of branches`, not
    `steps.ask.text.next.constrained-str: Input should be a valid string`."""
    code, out = validate(capsys, *map(str, FIXTURES))
    assert code == 1
    shown = [line for line in out.splitlines() if PYDANTIC_INSIDES.search(line)]
    assert shown == []
    # The sentences that replaced them, one of each kind.
    for wanted in (
        "steps.ask.choices: must be a list of options, each with a `value` and a `label` "
        "(found 'money, time')",
        "steps.ask.next: must be the id of the step that comes next, or a list of branches",
        "steps.ask.slot: required but missing: a `text` step needs `slot`",
        "steps.ask.prompt: must be text (found a list)",
        "version: must be a whole number, such as 2 (found 'one')",
        "listed: must be true or false (found 'maybe')",
        "id: 'Tiny Check!' must be lower-case letters, digits and _, starting with a letter "
        "(such as 'tiny_check')",
        "steps.ask: must be a mapping of keys, one `key: value` a line indented under it "
        "(it is empty)",
        "steps.ask.next.0.when: must be text (found 3); put it in quotes to make it text",
        "steps: a dialogue needs at least one step",
    ):
        assert wanted in out


def test_a_copied_dialogue_that_keeps_its_id_is_the_one_refused_at_its_id_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Copying own_power.yaml to start a new dialogue keeps `id: own_power` until it is
    changed: the copy is refused, at its `id:` line, with an id to give it; the original
    stays loaded. The original was refused (`my_power.yaml` sorts first), at 1:1."""
    folder = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, folder)
    copy = folder / "my_power.yaml"
    shutil.copy(folder / "own_power.yaml", copy)
    code, out = validate(capsys, "--dialogues", str(folder))
    assert code == 1
    line = copy.read_text(encoding="utf-8").splitlines().index("id: own_power") + 1
    assert (
        f"{copy}:{line}:5: error: id: 'own_power' is already the id of "
        f"{folder / 'own_power.yaml'}; give this dialogue an id of its own (such as "
        "'my_power', after the file's name), so each keeps its conversations"
    ) in out
    assert f"ok   {folder / 'own_power.yaml'}: own_power v" in out
    assert out.splitlines()[-1] == "1 error(s), 0 warning(s)"
    assert load_catalog(folder).get("own_power").path == str(folder / "own_power.yaml")


def test_a_copy_with_its_own_id_is_warned_of_the_title_and_phrases_it_shares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given an id of its own, a copy still has the original's title and `also:` phrases:
    the menu would offer two the same, and a sentence typed there could not tell them
    apart. A warning in each file (it loads; nothing said this before)."""
    folder = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, folder)
    copy = folder / "my_power.yaml"
    copy.write_text(
        (folder / "own_power.yaml")
        .read_text(encoding="utf-8")
        .replace("id: own_power", "id: my_power"),
        encoding="utf-8",
    )
    code, out = validate(capsys, "--dialogues", str(folder))
    assert code == 0
    lines = copy.read_text(encoding="utf-8").splitlines()
    title, also = lines.index("title: Reflect on your own power") + 1, lines.index("also:") + 1
    original = folder / "own_power.yaml"
    assert (
        f"{copy}:{title}:8: warning: title: 'Reflect on your own power' is also the title of "
        f"own_power ({original}): the menu would offer two the same"
    ) in out
    assert (
        f"{copy}:{also}:1: warning: also: 27 phrase(s) are also own_power's ('my own power', "
        "'the power i hold', 'reflect', 'reflection', 'sharing power', …): said at the menu, "
        "they cannot tell the two apart; keep each in one dialogue"
    ) in out
    assert f"{original}:{title}:8: warning: title: " in out
    assert out.splitlines()[-1] == "0 error(s), 4 warning(s)"
