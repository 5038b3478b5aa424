"""Web API failures that end: what Slack refuses for good is not retried, what is passing
trouble is retried a bounded number of times, and then the coach gives up with one log line.

Each failure is one the fake Web API answers as Slack does (an `ok: false` error, a 429
with Retry-After, a 503, a dropped connection, an upload host nobody answers on). The user's
turn is stored whatever happens to its reply, and nothing is tried again on a later pass.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.channels.slack import outbox, texts, web
from bot.channels.slack.app import SlackCoach, SlackSettings
from bot.engine import Engine
from storage.store import Store
from tests.conftest import FakeClock
from tests.slack_support import BOT_TOKEN, SIGNING_SECRET, join_exports, sections
from tests.test_erasure import file_bytes
from tests.test_slack import (
    FakeSlack,
    Slack,
    count_rows,
    user_messages,
)

TYPED = "Smith & Jones won't return my calls"
U1 = "slack:T1:U1"


@pytest.fixture
def slack(engine: Engine, fake: FakeSlack) -> Slack:
    coach = SlackCoach(
        engine,
        SlackSettings(
            bot_token=BOT_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=fake.base_url,
            retry_backoff=0.01,  # the waits between retries, not their number, made short
        ),
        client=WebClient(token=BOT_TOKEN, base_url=fake.base_url),
        process_before_response=True,
    )
    fake.add_user("U1", "Ann")
    return Slack(coach, fake)


def failure_lines(caplog: pytest.LogCaptureFixture, call: str = "chat.postMessage") -> list[str]:
    """The log lines saying a call of one kind was given up on (by any thread: an export's
    runs on its own)."""
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"{call} failed")]


def assert_given_up_once(
    slack: Slack, caplog: pytest.LogCaptureFixture, store: Store, tries: int, kind: str
) -> None:
    """The DM's turn is stored, its reply was tried `tries` times and given up on with one
    log line naming `kind` (and not the user's words), and no later pass tries it again."""
    assert len(slack.fake.of("chat.postMessage")) == tries
    assert user_messages(store) == [TYPED]
    lines = failure_lines(caplog)
    assert len(lines) == 1, lines
    assert kind in lines[0]
    assert "Smith" not in caplog.text
    assert count_rows(store.path, "inbox") == 0
    assert slack.coach.run_stranded(everything=True) == 0
    assert len(slack.fake.of("chat.postMessage")) == tries


@pytest.mark.parametrize(
    "error",
    ["token_revoked", "account_inactive", "invalid_auth", "channel_not_found", "not_in_channel"],
)
def test_a_reply_refused_for_good_is_tried_once_and_the_turn_stays_stored(
    slack: Slack, fake: FakeSlack, store: Store, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    caplog.set_level(logging.INFO)
    fake.failures["chat.postMessage"] = error

    slack.dm(TYPED)

    assert_given_up_once(slack, caplog, store, tries=1, kind=error)


def test_a_bot_token_revoked_while_running_ends_the_reply_at_once(
    slack: Slack, fake: FakeSlack, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    slack.dm("hello")  # Bolt checks the token once (auth.test) and keeps the answer
    fake.revoked.add(BOT_TOKEN)  # the fake now refuses it, as Slack does

    slack.dm(TYPED)

    assert len(fake.of("chat.postMessage")) == 2
    assert user_messages(store) == ["hello", TYPED]
    (line,) = failure_lines(caplog)
    assert "token_revoked" in line and "Smith" not in caplog.text
    assert slack.coach.run_stranded(everything=True) == 0
    assert len(fake.of("chat.postMessage")) == 2


TROUBLES = [
    pytest.param("rate_limits", "0", "ratelimited", id="429"),
    pytest.param("rate_limits", "120", "ratelimited", id="429 retry in 2 min"),
    pytest.param("server_errors", "0", "service_unavailable", id="503"),
    pytest.param("drops", "0", "RemoteDisconnected", id="network"),
]


@pytest.mark.parametrize(("trouble", "retry_after", "kind"), TROUBLES)
def test_trouble_that_never_clears_is_tried_a_bounded_number_of_times_then_the_user_is_told(
    slack: Slack,
    fake: FakeSlack,
    store: Store,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    trouble: str,
    retry_after: str,
    kind: str,
) -> None:
    getattr(fake, trouble)["chat.postMessage"] = 1000
    fake.retry_after = retry_after

    slack.dm(TYPED)

    # Tried once in the turn, which did not wait for Slack: the reply waits in the outbox.
    assert len(fake.of("chat.postMessage")) == 1
    assert slack.coach.courier.holds(U1) == 1
    for _ in range(outbox.TRIES - 1):  # the follow-up loop's passes, as time goes by
        clock.advance(seconds=130)
        slack.coach.deliver_held()
    assert len(fake.of("chat.postMessage")) == outbox.TRIES
    assert user_messages(store) == [TYPED]
    (line,) = failure_lines(caplog)
    assert kind in line and f"after {outbox.TRIES} tries" in line
    assert "Smith" not in caplog.text
    # Told where the coach can: the Home tab at once ...
    (home,) = fake.of("views.publish")
    assert texts.UNREACHED_HOME in str(home["view"]["blocks"])

    # ... and one note in the DM with where we are, once Slack takes messages again.
    getattr(fake, trouble)["chat.postMessage"] = 0
    clock.advance(seconds=61)
    assert slack.coach.deliver_held() == 1
    first, *_, note = fake.of("chat.postMessage")
    assert sections(note)[0] == texts.UNREACHED
    assert sections(note)[-1] == sections(first)[-1]  # the question they are on
    clock.advance(days=1)
    assert slack.coach.deliver_held() == 0
    assert slack.coach.run_stranded(everything=True) == 0
    assert len(fake.of("chat.postMessage")) == outbox.TRIES + 1
    slack.open_home()
    assert texts.UNREACHED_HOME not in str(fake.of("views.publish")[-1]["view"]["blocks"])


@pytest.mark.parametrize("trouble", ["server_errors", "drops", "rate_limits"])
def test_passing_trouble_is_sent_later_in_order_and_the_user_gets_every_reply(
    slack: Slack, fake: FakeSlack, clock: FakeClock, caplog: pytest.LogCaptureFixture, trouble: str
) -> None:
    getattr(fake, trouble)["chat.postMessage"] = 1

    slack.dm("hello")
    slack.dm("start diagnose")  # its reply queues behind the first, never overtaking it

    assert len(fake.of("chat.postMessage")) == 1
    clock.advance(seconds=1)
    assert slack.coach.deliver_held() == 2
    attempts = fake.of("chat.postMessage")
    assert len(attempts) == 3
    assert "What would you like to do?" in str(attempts[1]["blocks"])
    assert "Let's look at one situation together" in str(attempts[2]["blocks"])
    assert failure_lines(caplog) == []


@pytest.mark.parametrize(
    ("trouble", "tries"),
    [
        ("rate_limits", 1 + web.RATE_LIMIT_RETRIES),
        ("server_errors", 1 + web.SERVER_ERROR_RETRIES),
        ("drops", 1 + web.NETWORK_RETRIES),
    ],
)
def test_an_export_outside_a_turn_retries_in_place_a_bounded_number_of_times_then_says_so(
    slack: Slack, fake: FakeSlack, trouble: str, tries: int
) -> None:
    slack.dm(TYPED)
    getattr(fake, trouble)["files.getUploadURLExternal"] = 1000

    slack.command("export")

    told = fake.wait_for("response/1")
    join_exports()
    assert told[-1]["text"] == texts.EXPORT_FAILED
    assert len(fake.of("files.getUploadURLExternal")) == tries


def test_an_export_whose_upload_host_is_unreachable_tells_the_user(
    slack: Slack, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.dm(TYPED)
    fake.uploads_unreachable = True

    slack.command("export")

    told = fake.wait_for("response/1")
    join_exports()
    assert told[-1]["text"] == texts.EXPORT_FAILED
    assert fake.of("files.completeUploadExternal") == []
    lines = failure_lines(caplog, "export upload")
    assert len(lines) == 1 and "URLError" in lines[0]
    assert "Traceback" not in caplog.text and "Smith" not in caplog.text


def test_an_export_refused_by_slack_tells_the_user_where_they_typed_the_command(
    slack: Slack, fake: FakeSlack
) -> None:
    slack.dm(TYPED)
    fake.revoked.add(BOT_TOKEN)  # the workspace removed the app: no DM can be posted

    slack.command("export")

    told = fake.wait_for("response/1")
    join_exports()
    assert told[-1]["text"] == texts.EXPORT_FAILED
    assert told[-1].get("response_type", "ephemeral") == "ephemeral"


# == the outbox outlives the process =============================================================


def restart(slack: Slack, fake: FakeSlack, clock: FakeClock) -> Slack:
    """The coach's process is gone; a new one starts on the same database file."""
    old = slack.coach
    old.drain()
    store = Store(old.engine.store.path)
    engine = Engine(store, old.engine.catalog, clock=clock)
    coach = SlackCoach(
        engine,
        old.settings,
        client=WebClient(token=BOT_TOKEN, base_url=fake.base_url),
        process_before_response=True,
    )
    return Slack(coach, fake)


def test_a_reply_slack_rate_limited_is_sent_once_by_the_next_process_when_slack_said(
    slack: Slack, fake: FakeSlack, store: Store, clock: FakeClock
) -> None:
    """Before, a reply Slack refused with 429 waited in memory only: a restart (a deploy, a
    crash) lost it, and the person never saw the coach's answer to a turn that was stored."""
    fake.rate_limits["chat.postMessage"] = 1
    fake.retry_after = "30"
    slack.dm("hello")
    (refused,) = fake.of("chat.postMessage")

    again = restart(slack, fake, clock)

    assert again.coach.deliver_held() == 0  # Slack said 30 seconds: not before
    clock.advance(seconds=31)
    assert again.coach.deliver_held() == 1
    assert fake.of("chat.postMessage") == [refused, refused]
    assert "What would you like to do?" in str(refused["blocks"])
    clock.advance(days=1)
    assert again.coach.deliver_held() == 0  # taken by Slack: never sent again
    assert restart(again, fake, clock).coach.deliver_held() == 0
    assert len(fake.of("chat.postMessage")) == 2
    assert count_rows(store.path, "outbox") == 0


def test_after_a_restart_replies_still_owed_go_first_and_in_order(
    slack: Slack, fake: FakeSlack, clock: FakeClock
) -> None:
    fake.rate_limits["chat.postMessage"] = 1
    fake.retry_after = "30"
    slack.dm("hello")
    slack.dm("start diagnose")  # queued behind the first

    again = restart(slack, fake, clock)
    again.dm("I'm a community leader or a resident")  # answered after both, not before them

    assert len(fake.of("chat.postMessage")) == 1
    clock.advance(seconds=31)
    assert again.coach.deliver_held() == 3
    hello, start, answer = fake.of("chat.postMessage")[1:]
    assert "What would you like to do?" in str(hello["blocks"])
    assert "Let's look at one situation together" in str(start["blocks"])
    assert answer not in (hello, start)
    assert user_messages(again.coach.engine.store) == [
        "hello",
        "start diagnose",
        "I'm a community leader or a resident",
    ]


def test_the_note_for_someone_given_up_on_is_still_sent_after_a_restart(
    slack: Slack, fake: FakeSlack, clock: FakeClock
) -> None:
    fake.rate_limits["chat.postMessage"] = 1000
    fake.retry_after = "0"
    slack.dm(TYPED)
    for _ in range(outbox.TRIES - 1):
        clock.advance(seconds=1)
        slack.coach.deliver_held()

    again = restart(slack, fake, clock)
    fake.rate_limits["chat.postMessage"] = 0
    clock.advance(seconds=61)

    assert again.coach.deliver_held() == 1
    assert sections(fake.of("chat.postMessage")[-1])[0] == texts.UNREACHED
    assert again.coach.deliver_held() == 0


def test_forgetting_someone_takes_the_replies_still_owed_to_them_out_of_the_file(
    slack: Slack, fake: FakeSlack, store: Store, clock: FakeClock
) -> None:
    fake.add_user("U1", "Zebediah")  # the reply greets them by name
    fake.rate_limits["chat.postMessage"] = 1
    fake.retry_after = "30"
    slack.dm("hello")
    assert b"Zebediah" in file_bytes(Path(store.path))
    assert count_rows(store.path, "outbox", U1) == 1

    slack.coach.engine.forget(U1)  # what /coach forget, confirmed, and `coach forget` do

    assert count_rows(store.path, "outbox") == 0
    assert b"Zebediah" not in file_bytes(Path(store.path))
    clock.advance(seconds=31)
    assert restart(slack, fake, clock).coach.deliver_held() == 0
    assert len(fake.of("chat.postMessage")) == 1
