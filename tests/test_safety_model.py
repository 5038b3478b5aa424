"""The trained model that listens beside the safety rules (bot.safety_model): it hears what
the rules miss, never lowers what they found, leaves short answers alone, says why it spoke,
fails closed when its file is broken, and is the model the shipped sentences make."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import DialogueError
from bot.loader import load_catalog, load_safety
from bot.safety import SafetyDetector
from bot.safety_eval import evaluate, load_corpus
from bot.safety_model import digest, load_model
from bot.safety_training import train_files, write_model
from bot.schema import SafetyConfig
from tests.conftest import DIALOGUES, Catalog, Chat

REPO = Path(__file__).resolve().parents[1]
SENTENCES = REPO / "tests" / "safety"

#: Written for this test, in none of the labelled files: danger the rules have no pattern for.
ROPE = (
    "picked up a length of rope from the garden centre yesterday, it's under the stairs now "
    "and I keep thinking about the hook in the loft"
)
HOSE = (
    "bought a hosepipe and some tape at the garage, the car's in the garage at home, I keep "
    "thinking tonight"
)
#: Danger the model leans to, but not surely enough to stop the coaching: it asks.
AFTER = (
    "I've left instructions for the volunteers and sorted out my flat, there's nothing after "
    "the inquiry for me"
)


@pytest.fixture(scope="module")
def config() -> SafetyConfig:
    return load_catalog(DIALOGUES).require_safety()


def test_the_shipped_model_learned_from_the_shipped_sentences() -> None:
    """Adding or changing labelled sentences without retraining fails here, not in use."""
    model = load_model(DIALOGUES / "safety_model.json")
    shipped = {p.relative_to(REPO).as_posix(): digest(p) for p in SENTENCES.glob("*.yaml")}
    learned = {t.file: t.sha256 for t in model.trained_on}
    assert learned == shipped, "run `coach dialogues safety-train` after editing tests/safety/"


@pytest.mark.parametrize("said", [ROPE, HOSE])
def test_danger_the_rules_have_no_pattern_for_is_heard(config: SafetyConfig, said: str) -> None:
    assert SafetyDetector(config, model=None).screen(said).alert is None
    alert = SafetyDetector(config).screen(said).alert
    assert alert is not None and alert.category.id == "self_harm"
    assert alert.rule.startswith("model 0.")  # who spoke, for admins


def test_danger_the_model_hears_stops_the_coaching_in_a_conversation(
    chat: Chat, catalog: Catalog
) -> None:
    chat.open()
    chat.say("start diagnose")
    chat.say("1")
    assert chat.state == "situation"

    reply = chat.say(ROPE)

    self_harm = next(c for c in catalog.require_safety().categories if c.id == "self_harm")
    assert reply.messages[0].text == self_harm.message.strip()
    assert "Samaritans" in reply.text and "116 123" in reply.text
    assert chat.state != "other_party"  # not the next coaching question


def test_danger_the_model_is_less_sure_of_is_asked_about_as_a_concern(
    config: SafetyConfig,
) -> None:
    """Between `alert_at` and `danger_at` the model does not stop the coaching with crisis
    numbers: it asks whether they are safe (a concern; "not safe" leads to the danger
    message). Never the next question."""
    detector = SafetyDetector(config)
    verdict = detector.verdict(AFTER)
    assert verdict is not None and verdict.category == "self_harm"
    assert config.model is not None
    assert config.model.alert_at <= verdict.probability < config.model.danger_at
    alert = detector.screen(AFTER).alert
    assert alert is not None and alert.level == "concern"
    assert alert.category.unsafe == "self_harm"  # "not safe" shows the self-harm message


def test_a_concern_only_the_model_heard_claims_nothing_about_it(chat: Chat) -> None:
    """The model can misread: its check-in says no more than that it wants to check, not a
    category's acknowledgement ("Being treated that way because of who you are…")."""
    chat.open()
    chat.say("start diagnose")
    chat.say("1")
    assert chat.state == "situation"
    reply = chat.say(AFTER)
    assert "Before we go on, I'd like to check in about what you've just written." in reply.text
    assert "Are you safe right now?" in reply.text
    assert "That sounds really heavy" not in reply.text
    assert chat.state != "other_party"


@pytest.mark.parametrize(
    "said",
    [
        "I want to kill myself",  # danger by the rules stays danger
        "he cornered me in the car park after the meeting",
    ],
)
def test_the_model_never_lowers_what_the_rules_found(config: SafetyConfig, said: str) -> None:
    rules = SafetyDetector(config, model=None).screen(said).alert
    both = SafetyDetector(config).screen(said).alert
    assert rules is not None and both is not None
    assert (both.category.id, both.rule) == (rules.category.id, rules.rule)


@pytest.mark.parametrize(
    "said",
    [
        "start diagnose",
        "yes",
        "the kids",
        "I got roped into chairing the residents group last year",
        "my daughter had exams so life got in the way",
        "I'm honestly not sure who decides, I think it's the director and I never get a say",
        "the cuts will kill the service and I'm furious about it",
    ],
)
def test_ordinary_answers_raise_nothing(config: SafetyConfig, said: str) -> None:
    """Short answers are the rules' alone (one word's weight would be the whole score), and
    ordinary first-person answers are not a style to be alarmed by."""
    assert SafetyDetector(config).screen(said).alert is None


def test_explain_says_which_rule_or_which_words(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "bot.cli", "dialogues", "safety-explain"]
    by_model = subprocess.run([*run, ROPE], capture_output=True, text=True, cwd=REPO, check=True)
    assert "rules:" not in by_model.stdout
    assert "model: 0.9" in by_model.stdout and "leans to self_harm" in by_model.stdout
    assert "+0." in by_model.stdout.split("words:")[1]  # the words that weighed, with weights
    assert "answer: self_harm (danger)" in by_model.stdout
    by_rule = subprocess.run(
        [*run, "I feel suicidal"], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert "rules: self_harm (danger) by" in by_rule.stdout
    assert "answer: self_harm (danger)" in by_rule.stdout


ALL_FILES = sorted(str(p) for p in (REPO / "tests" / "safety").glob("*.yaml"))


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """`coach dialogues safety-eval tests/safety/*.yaml | head -1`: the report (every file's,
    more than a pipe holds) is long, the reader leaves after a line, and the admin sees that
    line and nothing of Python's insides."""
    evaluating = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "dialogues", "safety-eval", "--rules-only", *ALL_FILES],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert evaluating.stdout is not None and evaluating.stderr is not None
    first = evaluating.stdout.readline()
    evaluating.stdout.close()  # what `head -1` does once it has its line
    errors = evaluating.stderr.read().decode()
    evaluating.wait(timeout=120)
    assert first.startswith(b"== ")
    assert "Traceback" not in errors and "BrokenPipe" not in errors


# -- the model file fails closed ---------------------------------------------------------


@pytest.fixture
def dialogues_copy(tmp_path: Path) -> Path:
    target = tmp_path / "dialogues"
    shutil.copytree(DIALOGUES, target)
    return target


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda p: p.unlink(), "missing; safety.yaml names it under `model:`"),
        (lambda p: p.write_text('{"format": 1,\n "alert": [}'), "safety_model.json:2:"),
        (lambda p: p.write_text('{"format": 99}'), "format 99 is not known"),
        (lambda p: p.write_bytes(b"\xff\xfe"), "cannot be read"),
    ],
)
def test_a_broken_or_missing_model_file_stops_the_coach(
    dialogues_copy: Path, damage: object, expected: str
) -> None:
    model = dialogues_copy / "safety_model.json"
    damage(model)  # type: ignore[operator]
    with pytest.raises(DialogueError) as caught:
        load_safety(dialogues_copy / "safety.yaml")
    assert expected in str(caught.value)
    assert "safety_model.json" in str(caught.value)
    chat = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "chat",
            "--dialogues",
            str(dialogues_copy),
            "--db",
            str(dialogues_copy.parent / "c.db"),
        ],
        input="",
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert chat.returncode != 0
    assert "safety_model.json" in chat.stderr and "Traceback" not in chat.stderr


# -- training -------------------------------------------------------------------------------


def test_training_is_repeatable_and_what_it_writes_is_read_back(
    config: SafetyConfig, tmp_path: Path
) -> None:
    """The same sentences give the same file, byte for byte: a retrained model's diff shows
    only what the new sentences taught it."""
    corpus = [SENTENCES / "corpus.yaml"]
    first, second = tmp_path / "one.json", tmp_path / "two.json"
    write_model(train_files(config, corpus, REPO), first)
    write_model(train_files(config, corpus, REPO), second)
    assert first.read_bytes() == second.read_bytes()
    model = load_model(first)
    assert [t.file for t in model.trained_on] == ["tests/safety/corpus.yaml"]
    data = json.loads(first.read_text())
    assert data["alert"]["features"]  # one feature per line in the file, for diffs
    assert first.read_text().count("\n") > len(data["alert"]["features"])


@pytest.mark.slow
def test_a_model_that_never_saw_a_set_of_sentences_still_hears_them(
    config: SafetyConfig,
) -> None:
    """What the model adds on sentences it did not learn from (written apart, set H), with
    the README's floors: at least 90% of danger and of concern heard at their level or
    more serious, at most 3% of ordinary talk alarmed."""
    held = SENTENCES / "apart_h.yaml"
    others = [p for p in sorted(SENTENCES.glob("*.yaml")) if p != held]
    model = train_files(config, others, REPO)
    report = evaluate(load_corpus(held), SafetyDetector(config, model=model).screen, config)
    rules = evaluate(load_corpus(held), SafetyDetector(config, model=None).screen, config)
    levels = {row.id: row for row in report.levels}
    alone = {row.id: row for row in rules.levels}
    for level in ("level danger", "level concern"):
        assert (levels[level].recall.value or 0) >= 0.90, levels[level]
        assert (levels[level].recall.value or 0) > (alone[level].recall.value or 0)
        assert (levels[level].false_alarms.value or 0) <= 0.03
