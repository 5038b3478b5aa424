"""Dialogue files that look back on a past conversation (`about:`, a `recall` step, a commit
step with `redate`, an end step's `next_dialogue`): every mistake is reported at
file:line:col, the ones a single file shows when it loads, the ones only the whole catalog
can see (a dialogue or a field of it that is not there) when the catalog loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import DialogueError
from bot.loader import load_catalog, load_dialogue_file
from tests.conftest import copy_safety
from tests.test_dialogue_files import at

PAST = """\
id: past
title: A past one
version: 1
description: Something to look back on.
steps:
  position:
    kind: scale
    prompt: How central are you?
    slot: my_position
    next: done
  done:
    kind: end
    text: Thanks.
"""

LOOK = """\
id: look
title: Look again
version: 1
description: Looks back on a past one.
about:
  dialogue: past
  label: "{{ date | day }}"
  none: Nothing to look back on yet.
steps:
  which:
    kind: recall
    prompt: Which one?
    choices:
      - value: fresh
        label: A new one
        next: done
    next: position
  position:
    kind: scale
    prompt: "And now? (Last time: {{ then.my_position }})"
    slot: my_position
    next:
      - when: my_position > then.my_position
        to: up
      - to: done
  up:
    kind: message
    text: Up.
    next: done
  done:
    kind: end
    text: Thanks.
"""


def after(path: Path, text: str, key: str) -> str:
    """`path:line:col` of the value that follows `key`."""
    where, col = at(path, text, key).rsplit(":", 1)
    return f"{where}:{int(col) + len(key)}"


def folder(tmp_path: Path, look: str = LOOK, past: str = PAST) -> Path:
    (tmp_path / "past.yaml").write_text(past, encoding="utf-8")
    (tmp_path / "look.yaml").write_text(look, encoding="utf-8")
    copy_safety(tmp_path)
    return tmp_path


def file_error(tmp_path: Path, old: str, new: str) -> tuple[str, Path, str]:
    assert old in LOOK, old
    text = LOOK.replace(old, new, 1)
    path = tmp_path / "look.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DialogueError) as caught:
        load_dialogue_file(path)
    return str(caught.value), path, text


def catalog_error(tmp_path: Path, old: str, new: str) -> tuple[str, Path, str]:
    assert old in LOOK, old
    text = LOOK.replace(old, new, 1)
    loaded = load_catalog(folder(tmp_path, text))
    assert "look" not in loaded.dialogues  # set aside, the others still load
    assert "past" in loaded.dialogues
    (problem,) = [p for p in loaded.problems if p.path.endswith("look.yaml")]
    return str(problem), tmp_path / "look.yaml", text


def test_a_dialogue_about_another_loads_beside_it(tmp_path: Path) -> None:
    loaded = load_catalog(folder(tmp_path))
    assert not loaded.problems, [str(p) for p in loaded.problems]
    assert loaded.dialogues["look"].dialogue.about is not None


def test_a_recall_step_needs_about(tmp_path: Path) -> None:
    text = LOOK.replace(
        'about:\n  dialogue: past\n  label: "{{ date | day }}"\n'
        "  none: Nothing to look back on yet.\n",
        "",
    ).replace("my_position > then.my_position", "my_position > 3")
    path = tmp_path / "look.yaml"
    path.write_text(text.replace("(Last time: {{ then.my_position }})", ""), encoding="utf-8")
    with pytest.raises(DialogueError) as caught:
        load_dialogue_file(path)
    assert f"{at(path, path.read_text(), 'recall')}: steps.which.kind: a `recall` step needs" in (
        str(caught.value)
    )


def test_then_is_a_slot_only_of_a_dialogue_about_another(tmp_path: Path) -> None:
    text = PAST.replace(
        "    next: done\n",
        "    next:\n      - when: then.my_position > 1\n        to: done\n      - to: done\n",
        1,
    )
    path = tmp_path / "past.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DialogueError) as caught:
        load_dialogue_file(path)
    where = at(path, text, "then.my_position > 1")
    assert f"{where}: steps.position.next.0.when: 'then.my_position > 1' names 'then'" in (
        str(caught.value)
    )


def test_redate_needs_about(tmp_path: Path) -> None:
    text = LOOK.replace(
        'about:\n  dialogue: past\n  label: "{{ date | day }}"\n'
        "  none: Nothing to look back on yet.\n",
        "",
    )
    text = text.replace("  which:\n    kind: recall\n    prompt: Which one?\n", "  which:\n")
    text = text.replace(
        "    choices:\n      - value: fresh\n        label: A new one\n        next: done\n"
        "    next: position\n",
        "    kind: commit\n    prompt: Pick one\n    due_prompt: When?\n    redate: true\n"
        "    next: position\n",
    )
    text = text.replace("then.my_position", "3").replace("{{ 3 }}", "3")
    text += (
        "recommendations:\n  - id: one\n    title: One\n    text: Do one.\n"
        "    idea: Because.\n    source: Somebody (2020)\n"
    )
    path = tmp_path / "look.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DialogueError) as caught:
        load_dialogue_file(path)
    assert f"{at(path, text, 'true')}: steps.which.redate: `redate: true` needs `about:`" in (
        str(caught.value)
    )


def test_a_recall_option_may_not_be_called_past(tmp_path: Path) -> None:
    message, path, text = file_error(tmp_path, "value: fresh", "value: past")
    where = at(path, text, "past\n        label")
    assert f"{where}: steps.which.choices.0.value: 'past' is what picking" in message


def test_a_broken_label_template_is_located(tmp_path: Path) -> None:
    message, path, text = file_error(tmp_path, '"{{ date | day }}"', '"{{ date | day }"')
    where = at(path, text, '"{{ date')
    assert message.startswith(f"{where}: about.label: template error")


def test_about_a_dialogue_that_is_not_loaded(tmp_path: Path) -> None:
    message, path, text = catalog_error(tmp_path, "dialogue: past", "dialogue: pats")
    assert f"{at(path, text, 'pats')}: about.dialogue: no dialogue 'pats' is loaded" in message


@pytest.mark.parametrize(
    ("old", "new", "needle", "field"),
    [
        ("{{ then.my_position }})", "{{ then.my_postion }})", '"And now?', "steps.position.prompt"),
        (
            "my_position > then.my_position",
            "my_position > then['my_postion']",
            "my_position > then[",
            "steps.position.next.0.when",
        ),
    ],
)
def test_a_field_the_past_dialogue_has_no_slot_for(
    tmp_path: Path, old: str, new: str, needle: str, field: str
) -> None:
    message, path, text = catalog_error(tmp_path, old, new)
    assert f"{at(path, text, needle)}: {field}: `then.my_postion`: 'past' has no slot" in message


def test_an_end_step_leading_to_a_dialogue_that_is_not_loaded(tmp_path: Path) -> None:
    message, path, text = catalog_error(
        tmp_path,
        "    kind: end\n    text: Thanks.",
        "    kind: end\n    text: Bye.\n    next_dialogue: nowhere",
    )
    assert f"{at(path, text, 'nowhere')}: steps.done.next_dialogue: no dialogue 'nowhere'" in (
        message
    )


def test_an_end_step_does_not_start_its_own_dialogue(tmp_path: Path) -> None:
    message, path, text = file_error(
        tmp_path,
        "    kind: end\n    text: Thanks.",
        "    kind: end\n    text: Bye.\n    next_dialogue: look",
    )
    where = after(path, text, "next_dialogue: ")
    assert f"{where}: steps.done.next_dialogue: an end step cannot start" in message
