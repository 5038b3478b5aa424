"""`coach dialogues test`: conversation scripts run against the real engine on a temporary
database; a failure names the script's file:line, what was expected and what the coach said;
`--coverage` names what no script exercised by its line in the dialogue's YAML."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from tests.conftest import copy_safety

HERE = Path(__file__).resolve().parent
DIALOGUES = HERE.parent / "dialogues"

TINY = """\
id: tiny
title: Tiny check
version: 1
description: A tiny dialogue for script tests.
steps:
  ask:
    kind: yesno
    prompt: Shall we go on?
    slot: go_on
    next:
      - when: go_on
        to: done
      - to: stopped
  stopped:
    kind: end
    text: Stopping here.
  done:
    kind: end
    text: Carrying on.
"""

SCRIPT = """\
dialogue: tiny
tests:
  - name: going on
    turns:
      - say: start tiny
        expect: {step: ask, contains: [Shall we go on?], choices: ["Yes", "No"]}
      - say: "yes"
        expect: {ended: true, contains: [Carrying on], slots: {go_on: true}}
"""

#: A recommendation for tiny (which has no step that shows it): one a script may name.
TINY_ADVICE = """\
recommendations:
  - id: ask_in_writing
    title: Ask in writing
    text: Put the question in an email.
    idea: A written question gets a written answer.
    source: Nobody (2026)
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "dialogues"
    (root / "tests").mkdir(parents=True)
    (root / "tiny.yaml").write_text(TINY, encoding="utf-8")
    copy_safety(root)
    (root / "tests" / "tiny.yaml").write_text(SCRIPT, encoding="utf-8")
    return root


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["dialogues", "test", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def failing(
    capsys: pytest.CaptureFixture[str], folder: Path, name: str, text: str
) -> tuple[Path, str]:
    """Write the script `name` into the folder's scripts, run them all, and expect a failure:
    the script's path and what was said."""
    path = folder / "tests" / name
    path.write_text(text, encoding="utf-8")
    code, out = run(capsys, "--dialogues", str(folder))
    assert code == 1, out
    return path, out


def test_the_shipped_scripts_pass_and_take_every_link_of_every_shipped_dialogue(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = run(capsys, "--dialogues", str(DIALOGUES), "--coverage")
    assert code == 0, out
    assert "FAIL" not in out
    for dialogue in ("checkin", "diagnose", "own_power", "revisit"):
        assert re.search(rf"^{dialogue}: (\d+) of \1 links taken \(100%\)$", out, re.M), out
    assert "never reached" not in out
    assert "never taken" not in out
    # Every recommendation and insight is shown by a script, or explained (`# uncovered:`).
    assert "never shown" not in out
    assert "never said" not in out
    assert "`# uncovered:" not in out


def test_a_user_coming_back_is_asked_about_a_step_that_fell_due(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`open: true` after `wait_days`: the greeting of a user who comes back."""
    script = folder / "tests" / "tiny.yaml"
    script.write_text(
        SCRIPT + "      - open: true\n        wait_days: 3\n"
        "        expect: {contains: [Welcome back, Sam]}\n",
        encoding="utf-8",
    )
    code, out = run(capsys, "--dialogues", str(folder))
    assert code == 0, out


def test_a_passing_script_says_so(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--dialogues", str(folder))
    assert (code, out.strip()) == (0, "1 of 1 test(s) passed in 1 file(s)")


def test_a_failure_names_the_line_what_was_expected_and_what_the_coach_said(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = folder / "tests" / "tiny.yaml"
    script.write_text(SCRIPT.replace("[Carrying on]", "[Full steam ahead]"), encoding="utf-8")
    code, out = run(capsys, "--dialogues", str(folder))
    assert code == 1
    assert f"{script}:7: FAIL 'going on', after the user said 'yes':" in out
    assert "expected the reply to contain 'Full steam ahead'" in out
    assert "the coach said:\n    Carrying on." in out
    assert "0 of 1 test(s) passed" in out


def test_a_wrong_step_and_slot_are_both_reported(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = folder / "tests" / "tiny.yaml"
    script.write_text(
        SCRIPT.replace("{ended: true,", "{step: ask,").replace("go_on: true", "go_on: false"),
        encoding="utf-8",
    )
    code, out = run(capsys, "--dialogues", str(folder))
    assert code == 1
    assert f"{script}:7: FAIL" in out
    assert "expected to wait at step 'ask', but it is at None" in out
    assert "expected slot go_on = False, found True" in out


def test_coverage_names_the_untested_step_and_link_by_their_yaml_lines(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "--dialogues", str(folder), "--coverage")
    assert code == 0
    tiny = folder / "tiny.yaml"
    assert "tiny: 1 of 2 links taken (50%)" in out
    assert f"  {tiny}:13:9: ask → stopped never taken" in out
    assert f"  {tiny}:14:3: step 'stopped' never reached" in out
    assert "ask → done" not in out


def test_a_script_that_is_not_valid_is_reported_at_its_line_and_the_rest_run(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = folder / "tests" / "a_bad.yaml"
    bad.write_text("dialogue: tiny\ntests:\n  - name: x\n    turns:\n      - sey: hi\n")
    code, out = run(capsys, "--dialogues", str(folder))
    assert code == 1
    assert f"{bad}:5:9: unknown key 'sey'" in out
    assert "1 of 1 test(s) passed in 2 file(s); 1 file(s) could not be run" in out


def test_a_script_given_the_wrong_kind_of_value_is_told_what_it_must_be(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad, out = failing(
        capsys,
        folder,
        "a_bad.yaml",
        "dialogue: tiny\ntests:\n  - name: x\n    today: tomorrow\n    turns:\n"
        "      - say: hi\n        wait_days: -1\n        expect: {contains: hello}\n"
        "  - name: y\n    turns: hello\n",
    )
    for told in (
        "4:12: tests.0.today: must be a date written as year-month-day, such as 2026-12-01 "
        "(found 'tomorrow')",
        "7:20: tests.0.turns.0.wait_days: must be at least 0 (found -1)",
        "8:28: tests.0.turns.0.expect.contains: must be a list (found 'hello')",
        "10:12: tests.1.turns: must be a list of turns, each with `say:` (or `open: true`) and "
        "`expect:` (found 'hello')",
    ):
        assert f"{bad}:{told}" in out


def test_a_safety_interruption_and_stored_steps_can_be_expected(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (folder / "tiny.yaml").write_text(TINY + TINY_ADVICE, encoding="utf-8")
    script, out = failing(
        capsys,
        folder,
        "tiny.yaml",
        SCRIPT.replace("[Carrying on]", "[Carrying on], safety: none")
        + "  - name: a danger sign\n    turns:\n      - say: start tiny\n"
        "      - say: I want to kill myself\n        expect: {safety: self_harm}\n"
        "  - name: wrongly expected\n    turns:\n      - say: start tiny\n"
        "        expect: {safety: violence, steps: {ask_in_writing: 2026-12-04}}\n",
    )
    assert "FAIL 'going on'" not in out and "FAIL 'a danger sign'" not in out
    assert f"{script}:16: FAIL 'wrongly expected'" in out
    assert "expected safety ['violence'], raised none" in out
    assert "expected next step 'ask_in_writing' due 2026-12-04, stored: none" in out


def test_coverage_gives_why_for_an_item_a_script_file_leaves_uncovered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A recommendation or insight no script shows needs a `# uncovered: ID: why` comment in
    its dialogue's script file; coverage then lists it as explained, not as missing, and
    says so when a comment no longer holds (the item is shown, or is not there at all)."""
    folder = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, folder)
    script = folder / "tests" / "revisit.yaml"
    shipped = script.read_text(encoding="utf-8")
    bare = re.sub(r"^# uncovered: watch_a_meeting_again: .*\n", "", shipped, flags=re.M)
    assert bare != shipped
    script.write_text(bare, encoding="utf-8")
    code, out = run(capsys, str(script), "--dialogues", str(folder), "--coverage")
    assert code == 0, out
    assert "recommendation 'watch_a_meeting_again' never shown" in out

    why = "general advice that only makes up the minimum"
    script.write_text(
        bare
        + f"# uncovered: watch_a_meeting_again: {why}\n"
        + "# uncovered: tell_what_changed: a fallback\n"
        + "# uncovered: watch_a_meting: a typo\n",
        encoding="utf-8",
    )
    code, out = run(capsys, str(script), "--dialogues", str(folder), "--coverage")
    assert f"recommendation 'watch_a_meeting_again' not shown, explained: {why}" in out
    assert "watch_a_meeting_again' never shown" not in out
    lines = bare.count("\n")
    assert (
        f"{script}:{lines + 2}:1: `# uncovered: tell_what_changed` but a script shows it: "
        "remove the comment"
    ) in out
    assert (
        f"{script}:{lines + 3}:1: `# uncovered: watch_a_meting` names no recommendation or "
        "insight of revisit; did you mean 'watch_a_meeting_again'?"
    ) in out


MID_DIALOGUE = """\
dialogue: diagnose
tests:
  - name: a councillor who knows less than the service, from the last question
    start:
      at: hope
      slots:
        role: councillor
        situation: Children's services were rated inadequate
        other_party: the director of children's services
        other_kind: professional_service
        in_room: true
        mandate_check: [inspection]
        their_resources: 4
        my_resources: 2
        their_expertise: 5
        my_expertise: 2
        their_importance: 4
        my_importance: 3
        their_position: 4
        my_position: 2
        my_sources: [asking]
        coming_up: [meeting]
        allies: [scrutiny]
        share_leadership: false
    turns:
      - say: Residents who trust what the council tells them
        expect:
          step: commit
          contains: ["The situation: Children's services were rated inadequate"]
          recommendations: [name_the_paradox, use_inspection_reports]
"""


def test_a_test_can_start_mid_dialogue_at_a_question_with_slots_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`start: {at, slots}`: the conversation waits at that question with those answers, so
    one branch is tested without replaying the questions before it."""
    script = tmp_path / "mid.yaml"
    script.write_text(MID_DIALOGUE, encoding="utf-8")
    code, out = run(capsys, str(script), "--dialogues", str(DIALOGUES))
    assert (code, out.strip()) == (0, "1 of 1 test(s) passed in 1 file(s)"), out
    script.write_text(MID_DIALOGUE.replace("their_expertise: 5", "their_expertise: 2"))
    code, out = run(capsys, str(script), "--dialogues", str(DIALOGUES))
    assert code == 1
    assert "expected recommendation 'name_the_paradox'" in out  # the slots given count


def test_a_start_at_no_such_question_or_with_no_such_slot_is_reported_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "mid.yaml"
    script.write_text(
        MID_DIALOGUE.replace("at: hope", "at: hop").replace("role: councillor", "rol: councillor")
        + "  - name: at a message\n    start: {at: summary}\n    turns: [{say: hello}]\n"
        + "  - name: elsewhere\n    start: {dialogue: diagnos, at: hope}\n    turns: [{say: hi}]\n",
        encoding="utf-8",
    )
    code, out = run(capsys, str(script), "--dialogues", str(DIALOGUES))
    assert code == 1
    assert (
        f"{script}:5:11: tests.0.start.at: diagnose has no step 'hop'; did you mean 'hope'?"
    ) in out
    assert (
        f"{script}:7:14: tests.0.start.slots.rol: 'rol' is not a slot of diagnose; "
        "did you mean 'role'?"
    ) in out
    assert f"{script}:32:17: tests.1.start.at: 'summary' asks nothing, so a conversation" in out
    assert (
        f"{script}:35:23: tests.2.start.dialogue: no dialogue 'diagnos' is loaded; "
        "did you mean 'diagnose'?"
    ) in out
    assert "0 of 0 test(s) passed in 1 file(s); 1 file(s) could not be run" in out


NAMES_WRONG = """\
dialogue: tiny
tests:
  - name: names that are not there
    start:
      at: asc
      slots: {go_onn: true}
    turns:
      - say: "yes"
        expect:
          step: done
          recommendations: [ask_in_writng]
          not_recommendations: [carry_on]
          insights: [keen]
          slots: {go_no: true}
          safety: violance
          steps: {ask_in_writing: 2026-12-04, write_it_down: 2026-12-05}
      - say: "no"
        expect: {step: aks}
"""


def test_validate_checks_the_scripts_too_at_their_lines_and_fails(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken script is found by `validate`, as a broken dialogue is: bad YAML, a dialogue,
    step or slot that is not there, an id no recommendation or insight has, each at its
    file:line:col with the nearest name; before, only `coach dialogues test` saw them."""
    (folder / "tiny.yaml").write_text(TINY + TINY_ADVICE, encoding="utf-8")
    scripts = folder / "tests"
    (scripts / "a_yaml.yaml").write_text("dialogue: tiny\ntests: [\n", encoding="utf-8")
    (scripts / "b_names.yaml").write_text(NAMES_WRONG, encoding="utf-8")
    (scripts / "c_dialogue.yaml").write_text(
        SCRIPT.replace("dialogue: tiny", "dialogue: tinny"), encoding="utf-8"
    )
    code = main(["dialogues", "validate", "--dialogues", str(folder)])
    out = capsys.readouterr().out
    assert code == 1, out
    names = scripts / "b_names.yaml"
    wanted = [
        f"{scripts / 'a_yaml.yaml'}:3:1: error: ",
        f"{names}:5:11: error: tests.0.start.at: tiny has no step 'asc'; did you mean 'ask'?",
        f"{names}:6:23: error: tests.0.start.slots.go_onn: 'go_onn' is not a slot of tiny; "
        "did you mean 'go_on'?",
        f"{names}:10:17: error: tests.0.turns.0.expect.step: 'done' asks nothing, so a "
        "conversation never waits there; expect a question, or `ended: true`",
        f"{names}:11:29: error: tests.0.turns.0.expect.recommendations.0: no recommendation "
        "is called 'ask_in_writng'; did you mean 'ask_in_writing'?",
        f"{names}:12:33: error: tests.0.turns.0.expect.not_recommendations.0: no "
        "recommendation is called 'carry_on'",
        f"{names}:13:22: error: tests.0.turns.0.expect.insights.0: no insight is called 'keen'",
        f"{names}:14:26: error: tests.0.turns.0.expect.slots.go_no: no dialogue has a slot "
        "'go_no'; did you mean 'go_on'?",
        f"{names}:15:19: error: tests.0.turns.0.expect.safety: no safety category is called "
        "'violance' (the categories: ",
        f"{names}:16:62: error: tests.0.turns.0.expect.steps.write_it_down: no recommendation "
        "is called 'write_it_down', so it is never a next step",
        f"{names}:18:24: error: tests.0.turns.1.expect.step: no dialogue has a step 'aks'; "
        "did you mean 'ask'?",
        f"{scripts / 'c_dialogue.yaml'}:1:11: error: dialogue: no dialogue 'tinny' is loaded; "
        "did you mean 'tiny'?",
    ]
    for line in wanted:
        assert any(said.startswith(line) for said in out.splitlines()), (line, out)
    assert f"ok   {scripts / 'tiny.yaml'}: 1 test(s) of tiny" in out
    assert out.splitlines()[-1] == f"{len(wanted)} error(s), 0 warning(s)"


def test_a_script_named_to_validate_is_checked_as_a_script(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Against the dialogues of `--dialogues`, as `coach dialogues test` runs it; it was
    read as a dialogue ("unknown key 'dialogue'", "unknown key 'tests'")."""
    script = folder / "tests" / "tiny.yaml"
    code = main(["dialogues", "validate", str(script), "--dialogues", str(folder)])
    out = capsys.readouterr().out
    assert (code, out) == (0, f"ok   {script}: 1 test(s) of tiny\n0 error(s), 0 warning(s)\n")
    script.write_text(SCRIPT.replace("step: ask", "step: asks"), encoding="utf-8")
    code = main(["dialogues", "validate", str(script), "--dialogues", str(folder)])
    out = capsys.readouterr().out
    assert code == 1
    assert (
        f"{script}:6:24: error: tests.0.turns.0.expect.step: no dialogue has a step 'asks'; "
        "did you mean 'ask'?"
    ) in out


def test_a_script_naming_what_the_dialogue_lacks_is_refused_before_it_runs(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`coach dialogues test` says the misspelt id at its line, instead of running the test
    and reporting it as not shown ("expected recommendation 'ask_in_writng' (shown: [])")."""
    (folder / "tiny.yaml").write_text(TINY + TINY_ADVICE, encoding="utf-8")
    script, out = failing(
        capsys,
        folder,
        "tiny.yaml",
        SCRIPT.replace("slots: {go_on: true}", "recommendations: [ask_in_writng]"),
    )
    assert (
        f"{script}:8:74: tests.0.turns.1.expect.recommendations.0: no recommendation is "
        "called 'ask_in_writng'; did you mean 'ask_in_writing'?"
    ) in out
    assert "FAIL" not in out
    assert "0 of 0 test(s) passed in 1 file(s); 1 file(s) could not be run" in out


def test_while_a_dialogue_has_errors_its_scripts_names_are_not_reported_one_by_one(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo in a dialogue makes it unloaded, so every step its scripts expect would look
    missing: `validate` says the dialogue's error and checks the scripts' names once it loads."""
    tiny = folder / "tiny.yaml"
    tiny.write_text(TINY.replace("to: done", "to: dne"), encoding="utf-8")
    code = main(["dialogues", "validate", "--dialogues", str(folder)])
    out = capsys.readouterr().out
    assert code == 1
    assert f"{tiny}:12:13: error: steps.ask.next.0.to: no step is called 'dne'" in out
    script = folder / "tests" / "tiny.yaml"
    assert (f"ok   {script}: 1 test(s) of tiny (names not checked until the dialogues load)") in out
    assert out.splitlines()[-1] == "1 error(s), 0 warning(s)"
