"""`coach dialogues graph ID --format svg|dot`: a dialogue's flow drawn by Graphviz, branches
labelled with their conditions, advice steps marked, unreachable steps coloured."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.flowchart import ADVICE_COLOUR, UNREACHABLE_COLOUR

HERE = Path(__file__).resolve().parent
DIALOGUES = HERE.parent / "dialogues"
UNREACHABLE = HERE / "validate" / "unreachable.yaml"
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is missing: `make graphviz` as root"
)


def graph(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["dialogues", "graph", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_branches_are_labelled_with_their_conditions_and_advice_steps_are_marked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = graph(capsys, "own_power", "--format", "dot", "--dialogues", str(DIALOGUES))
    assert code == 0
    lines = [line.strip() for line in out.splitlines()]
    assert "difference -> who_decides [label=\"'not_sure' in differences\"];" in lines
    assert 'difference -> difference_shows [label="otherwise"];' in lines
    assert "summary -> recommend;" in lines
    recommend = next(line for line in lines if line.startswith("recommend ["))
    assert "★ recommend: Options" in recommend and ADVICE_COLOUR in recommend
    commit = next(line for line in lines if line.startswith("commit ["))
    assert "★ commit: Next steps" in commit
    assert UNREACHABLE_COLOUR not in out  # a shipped dialogue strands nothing


def test_a_file_that_does_not_validate_is_drawn_with_its_stranded_step_coloured(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = graph(capsys, str(UNREACHABLE), "--format", "dot")
    assert code == 0
    lonely = next(line.strip() for line in out.splitlines() if line.strip().startswith("lonely ["))
    assert UNREACHABLE_COLOUR in lonely and "dashed" in lonely
    ask = next(line.strip() for line in out.splitlines() if line.strip().startswith("ask ["))
    assert UNREACHABLE_COLOUR not in ask


@needs_dot
def test_svg_is_written_by_graphviz(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "flow.svg"
    code, out, _ = graph(
        capsys,
        "own_power",
        "--format",
        "svg",
        "--output",
        str(target),
        "--dialogues",
        str(DIALOGUES),
    )
    assert (code, out.strip()) == (0, f"wrote {target}")
    svg = target.read_text(encoding="utf-8")
    assert "<svg" in svg
    assert "Who relies on you" in svg
    assert "★ recommend: Options" in svg


def test_without_graphviz_the_message_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere on it
    code, _, err = graph(
        capsys,
        "own_power",
        "--format",
        "svg",
        "--output",
        str(tmp_path / "x.svg"),
        "--dialogues",
        str(DIALOGUES),
    )
    assert code == 2
    assert "Graphviz's `dot`, which is not installed" in err
    assert "apt-get install graphviz" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x.svg").exists()


def test_the_readme_shows_a_rendered_diagram() -> None:
    readme = (HERE.parent / "README.md").read_text(encoding="utf-8")
    assert "![" in readme and "(docs/own_power.svg)" in readme
    assert "<svg" in (HERE.parent / "docs" / "own_power.svg").read_text(encoding="utf-8")
