"""An alert told as past and over ("back in 2019 a resident threatened me; the police dealt
with it and I'm fine now") is asked about gently instead of stopping the coaching with 999,
and a concern told so is not raised. Signs it goes on now keep the full response, and the
categories the coach always stops or checks for (self-harm, sexual harassment, distress) are
never lowered. `told_as_past` in safety.yaml is validated like the rest of the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.loader import load_catalog
from bot.safety import SafetyDetector
from bot.schema import SafetyConfig
from tests.conftest import DIALOGUES, Chat
from tests.test_dialogue_files import at, problem_at
from tests.test_safety_config import SMALL, load_error, write

#: Written for this test: each told as a while ago and over, in different words.
OVER = [
    (
        "violence",
        "Back in 2018 a tenant threatened me at the housing office. It was dealt with and "
        "I'm fine now, it's just why I always book the room with two exits.",
    ),
    (
        "stalking",
        "Years ago a service user followed me home from the day centre a few times. He moved "
        "on and it's all behind me now, I just mention it because I train new staff.",
    ),
]


@pytest.fixture(scope="module")
def config() -> SafetyConfig:
    return load_catalog(DIALOGUES).require_safety()


@pytest.mark.parametrize(("category", "said"), OVER)
def test_a_danger_told_as_past_and_over_is_asked_about_not_stopped(
    config: SafetyConfig, category: str, said: str
) -> None:
    without = SafetyDetector(config)
    without._told_as_past = None  # what the rules alone say: the danger is heard
    heard = without.screen(said).alert
    assert heard is not None and heard.category.id == category and heard.level == "danger"

    alert = SafetyDetector(config).screen(said).alert
    assert alert is not None and alert.level == "concern" and alert.told_as_past
    assert alert.category.unsafe == category or alert.category.unsafe == "violence"


@pytest.mark.parametrize(
    "said",
    [
        # the same stories, going on now
        "Back in 2018 a tenant threatened me at the housing office. It was dealt with, but "
        "he's started again this week and I'm scared to go in.",
        "Years ago a service user followed me home. He moved on, but now he's back and he's "
        "still turning up outside the centre.",
        # past, but nothing says it is over
        "Back in 2018 a tenant threatened me at the housing office and I think about it a lot.",
    ],
)
def test_signs_it_goes_on_now_keep_the_danger(config: SafetyConfig, said: str) -> None:
    alert = SafetyDetector(config).screen(said).alert
    assert alert is not None and alert.level == "danger" and not alert.told_as_past


@pytest.mark.parametrize(
    ("category", "said"),
    [
        ("self_harm", "I used to self harm years ago, when I was a teenager, I'm fine now."),
        (
            "sexual_harassment",
            "A councillor groped me at a civic dinner back in 2016. He left and it's all "
            "behind me now.",
        ),
    ],
)
def test_self_harm_and_sexual_harassment_are_never_lowered(
    config: SafetyConfig, category: str, said: str
) -> None:
    alert = SafetyDetector(config).screen(said).alert
    assert alert is not None and alert.category.id == category and alert.level == "danger"


def test_a_concern_told_as_past_and_over_raises_nothing(config: SafetyConfig) -> None:
    said = (
        "My old manager was a real bully, but she left two years ago and the new one is "
        "great. How do I get the team to trust a manager again?"
    )
    assert SafetyDetector(config).screen(said).alert is None
    ongoing = "My manager is a real bully and I dread every Monday."
    alert = SafetyDetector(config).screen(ongoing).alert
    assert alert is not None and alert.category.id == "bullying"


def test_in_a_conversation_it_checks_in_gently_and_not_safe_still_gets_the_numbers(
    chat: Chat, config: SafetyConfig
) -> None:
    chat.open()
    chat.say("start diagnose")
    chat.say("1")
    assert chat.state == "situation"

    reply = chat.say(OVER[0][1])

    assert config.told_as_past is not None
    assert config.told_as_past.ack in reply.text
    assert "Are you safe right now?" in reply.text
    assert "call 999" not in reply.text  # not the crisis message, unasked
    assert chat.state != "other_party"  # and not the next question either
    unsafe = chat.say(config.concern_labels.unsafe)
    assert "999" in unsafe.text  # "I'm not safe right now" still gets the danger message


# -- validation -----------------------------------------------------------------------------

TOLD = """\
told_as_past:
  ack: That was a while ago, but I'd like to check in.
  lower:
    violence: hostility
  past:
    - years ago
  over:
    - dealt with
"""


def test_a_small_file_with_told_as_past_loads_and_lowers(tmp_path: Path) -> None:
    from bot.loader import load_safety

    config = load_safety(write(tmp_path, SMALL + TOLD))
    said = "someone threatened me years ago but it was dealt with"
    alert = SafetyDetector(config, model=None).screen(said).alert
    assert alert is not None and alert.category.id == "hostility" and alert.told_as_past


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        (
            "violence: hostility",
            "violence: null",
            "null",
            "a danger ('violence') can only be lowered to a concern, never to nothing "
            "(concerns: hostility)",
        ),
        (
            "violence: hostility",
            "violence: legal",
            "legal\n  past",
            "'legal' is not a concern category (those are: hostility)",
        ),
        (
            "violence: hostility",
            "legal: null",
            "null",
            "'legal' is not a danger or concern category (those are: violence, hostility)",
        ),
        ("- years ago", "- (years ago", "(years ago", "'(' is never closed with ')'"),
    ],
)
def test_told_as_past_mistakes_are_errors_at_their_position(
    tmp_path: Path, old: str, new: str, needle: str, expected: str
) -> None:
    text = SMALL + TOLD.replace(old, new, 1)
    path = write(tmp_path, text)
    message = load_error(path)
    assert expected in problem_at(message, at(path, text, needle)), message
