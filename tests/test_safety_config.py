"""dialogues/safety.yaml fails closed: a missing, unreadable or invalid file stops the coach,
and every mistake in it is reported as `file:line:col: what is wrong`."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import DialogueError, SafetyUnavailable
from bot.loader import load_catalog, load_safety
from bot.safety import SafetyDetector
from bot.safety_patterns import PatternError, parse
from tests.test_dialogue_files import at, problem_at

# A small valid safety file; each error test breaks one thing in it.
SMALL = """\
version: 2
concern_ask: Are you safe right now?
concern_labels:
  support: Show me support
  carry_on: Carry on
  unsafe: I'm not safe
  stop: Stop
words:
  target: [me, her, him]
negation:
  words: [not, never, nobody]
categories:
  - id: violence
    level: danger
    message: Call 999.
    rules:
      - threaten @target
      - unless_negated: in danger
    except:
      - in danger of
  - id: hostility
    level: concern
    ack: That isn't OK.
    unsafe: violence
    message: Acas 0300 123 1100.
    rules:
      - shout ... at @target
  - id: legal
    level: note
    message: I can't give legal advice.
    rules:
      - judicial review
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "safety.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    assert old in SMALL, old
    text = SMALL.replace(old, new, 1)
    return write(tmp_path, text), text


def load_error(path: Path) -> str:
    with pytest.raises(DialogueError) as caught:
        load_safety(path)
    assert caught.value.path == str(path)
    return str(caught.value)


def test_the_small_file_loads_with_defaults_that_follow_the_level(tmp_path: Path) -> None:
    config = load_safety(write(tmp_path, SMALL))
    every_time = {c.id: c.every_time for c in config.categories}
    assert every_time == {"violence": True, "hostility": False, "legal": False}
    assert config.negation.window == 3


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        (
            "      - threaten @target",
            "      - threaten (@target",
            "threaten (@target",
            "never closed",
        ),
        ("      - threaten @target", '      - "*"', '"*"', "would match every message"),
        ("      - threaten @target", '      - ""', '""', "empty"),
        ("      - threaten @target", '      - "[really] ..."', '"[really] ..."', "gap"),
        ("      - threaten @target", '      - "[really|so]"', '"[really|so]"', "optional"),
        ("      - threaten @target", "      - i", "i\n", "common words (i)"),
        ("      - threaten @target", '      - "@target"', '"@target"', "common words"),
        ("      - threaten @target", "      - threaten @victim", "threaten @victim", "'victim'"),
        ("      - threaten @target", "      - threaten ~ me", "threaten ~ me", "how many"),
        ("      - threaten @target", "      - threaten ...40 me", "threaten ...40", "from 1 to"),
        ("      - threaten @target", "      - th* me", "th* me", "3 letters"),
        ("      - judicial review", "      - judicial {review}", "judicial {review}", "'{'"),
        ("      - judicial review", "      - judicial? review", "judicial? review", "in [ ]"),
        ("      - in danger of", "      - (in|of)", "(in|of)", "common words"),
        ("      - unless_negated: in danger", "      - unless_negated: '...'", "'...'", "every"),
    ],
)
def test_a_pattern_that_cannot_be_used_is_an_error_at_its_position(
    tmp_path: Path, old: str, new: str, needle: str, expected: str
) -> None:
    path, text = broken(tmp_path, old, new)
    message = load_error(path)
    assert expected in problem_at(message, at(path, text, needle)), message


def test_unsafe_must_name_a_danger_category(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "unsafe: violence", "unsafe: legal")
    problem = problem_at(load_error(path), at(path, text, "legal\n"))
    assert "'legal' is not a danger category (those are: violence)" in problem


def test_unsafe_must_name_a_category_that_exists(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "unsafe: violence", "unsafe: violnce")
    assert "'violnce' is not a danger category" in problem_at(
        load_error(path), at(path, text, "violnce")
    )


def test_a_concern_needs_an_ack_and_unsafe(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "    ack: That isn't OK.\n    unsafe: violence\n", "")
    message = load_error(path)
    assert "needs an `ack`" in message and "needs `unsafe`" in message
    assert problem_at(message, at(path, text, "concern\n"))


def test_only_a_concern_has_unsafe(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "    level: note\n", "    level: note\n    unsafe: violence\n")
    problem = problem_at(load_error(path), at(path, text, "violence\n    message: I can't"))
    assert "only concern categories have `unsafe`" in problem


def test_a_note_is_one_line(tmp_path: Path) -> None:
    path, _ = broken(
        tmp_path, "message: I can't give legal advice.", "message: |-\n      One.\n      Two."
    )
    assert "one line" in load_error(path)


def test_an_unknown_level_is_an_error_at_its_position(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "level: danger", "level: urgent")
    assert "categories.0.level" in problem_at(load_error(path), at(path, text, "urgent"))


def test_two_categories_with_one_id_is_an_error(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "- id: legal", "- id: hostility")
    assert "'hostility' is used twice" in problem_at(
        load_error(path), at(path, text, "hostility\n    level: note")
    )


def test_a_version_1_file_is_refused(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "version: 2", "version: 1")
    assert "version" in problem_at(load_error(path), at(path, text, "1\n"))


def test_an_old_phrases_key_is_refused_by_name(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "    rules:\n      - judicial review", "    phrases: [x]")
    message = load_error(path)
    assert "unknown key 'phrases'" in problem_at(message, at(path, text, "phrases"))


def test_a_short_typo_word_is_an_error(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "words:\n  target", "typos:\n  words: [hurt]\nwords:\n  target")
    assert "7 letters or more" in problem_at(load_error(path), at(path, text, "hurt"))


def test_a_yaml_mistake_is_reported_with_its_position(tmp_path: Path) -> None:
    path, _ = broken(tmp_path, "      - threaten @target", "      - @target threaten")
    assert load_error(path).startswith(f"{path}:17:9:")


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    message = load_error(tmp_path / "safety.yaml")
    assert "missing" in message


def test_an_unreadable_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "safety.yaml"
    path.write_bytes(b"\xff\xfe not utf-8")
    assert "cannot be read" in load_error(path)


def test_the_catalog_keeps_the_safety_problem_and_no_configuration(tmp_path: Path) -> None:
    path, text = broken(tmp_path, "unsafe: violence", "unsafe: legal")
    catalog = load_catalog(tmp_path)
    assert catalog.safety is None
    assert catalog.safety_problem is not None
    assert catalog.safety_problem in catalog.problems
    with pytest.raises(SafetyUnavailable) as caught:
        catalog.require_safety()
    assert at(path, text, "legal\n") in str(caught.value)
    assert "coach dialogues validate" in str(caught.value)


def test_a_catalog_without_a_safety_file_says_so(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path)
    assert catalog.safety is None
    assert "missing" in str(catalog.safety_problem)
    with pytest.raises(SafetyUnavailable, match=r"safety\.yaml: missing"):
        catalog.require_safety()


def test_a_catalog_of_a_folder_that_does_not_exist_has_a_safety_problem(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path / "nowhere")
    assert catalog.safety is None and catalog.safety_problem is not None


def test_the_pattern_error_says_where_in_the_pattern() -> None:
    with pytest.raises(PatternError) as caught:
        parse("shout at (me", {})
    assert caught.value.offset == 9


# -- the small file, screened: what each part of a rule does -------------------------------


@pytest.fixture
def small(tmp_path: Path) -> SafetyDetector:
    text = SMALL.replace(
        "      - shout ... at @target",
        "      - shout ... at @target\n      - harass* $\n      - called @target a @hidden\n"
        "      - wrote n*** on",
    ).replace("  target: [me, her, him]", "  target: [me, her, him]\n  hidden: [p***]")
    return SafetyDetector(load_safety(write(tmp_path, text)))


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("he threatened me", "violence"),
        ("she shouted right across at me", "hostility"),
        ("she shouted right across the room at me", None),  # more than 3 words apart
        ("they keep harassing", "hostility"),  # word* and $ (end of the message)
        ("they keep harassing. Anyway", "hostility"),  # $ at the end of a sentence too
        ("they keep harassing the council", None),
        ("I'm in danger", "violence"),
        ("I'm not in danger", None),  # unless_negated: a negation inside the match
        ("nobody said I was in danger", "violence"),  # too far back to negate it
        ("the library is in danger of closing", None),  # except
        ("she shouted. At me, later", None),  # ... never crosses a sentence
        ("We want a judicial review", None),
        ("he called me a p*** in the car park", "hostility"),  # a word hidden by asterisks
        ("he called me a p in the car park", None),
        ("someone wrote n***** on the door", "hostility"),  # n*****, n****** are both n***
        ("someone wrote n on the door", None),
        ("they keep *harassing*", "hostility"),  # emphasis is not a hidden word
    ],
)
def test_each_part_of_a_rule_does_what_the_header_says(
    small: SafetyDetector, text: str, expect: str | None
) -> None:
    screening = small.screen(text)
    assert (screening.alert.category.id if screening.alert else None) == expect
    assert screening == small.screen_unfiltered(text)


def test_a_hidden_word_is_read_as_the_listed_word_it_can_be(tmp_path: Path) -> None:
    text = (
        SMALL.replace("  target: [me, her, him]", "  target: [me, her, him]\n  abuse: [paki, poof]")
        .replace(
            "      - shout ... at @target",
            "      - shout ... at @target\n      - called @target a @abuse",
        )
        .replace("negation:", "typos:\n  hidden: [abuse]\nnegation:")
    )
    detector = SafetyDetector(load_safety(write(tmp_path, text)))
    assert detector.detect("he called me a p*ki") is not None  # p*ki can only be paki
    assert detector.detect("he called me a p*rk") is None
    assert detector.detect("he called me a p***") is None  # paki or poof: left as p***


def test_hidden_must_name_word_lists(tmp_path: Path) -> None:
    path, _ = broken(tmp_path, "negation:", "typos:\n  hidden: [nowhere]\nnegation:")
    assert "no word list is called 'nowhere'" in load_error(path)


def test_a_note_comes_with_an_alert(small: SafetyDetector) -> None:
    screening = small.screen("he threatened me over the judicial review")
    assert screening.alert is not None and screening.alert.category.id == "violence"
    assert [n.category.id for n in screening.notes] == ["legal"]
