"""Four contrasting users go through "Diagnose a power situation" end to end, and two
contrasting professionals through "Reflect on your own power".

Each profile answers every question by a choice's value or label (never its number), so the
tests keep working if options are reordered. The walker fails loudly when the bot asks a
question the profile has no answer for, or skips one it expected to be asked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.schema import Recommendation
from storage.store import ConversationRow

# -- walking a dialogue ----------------------------------------------------------------------


def walk(chat: Any, answers: dict[str, str], *, until: str = "commit", limit: int = 60) -> None:
    """Answer the question at each state from `answers` until the conversation reaches `until`.

    Fails clearly when the bot asks something the profile has no answer for, when an answer
    is not accepted, when a choice answer is not one of the offered values or labels, or when
    the profile holds answers to questions that were never asked.
    """
    asked: list[str] = []
    for _ in range(limit):
        state = chat.state
        if state == until:
            unused = sorted(set(answers) - set(asked))
            assert not unused, f"the bot never asked {unused}; asked: {asked}"
            return
        if state is None:
            pytest.fail(f"the conversation ended before reaching {until!r}:\n{chat.text}")
        if state not in answers:
            pytest.fail(
                f"the bot asked {state!r}, which this profile has no answer for:\n{chat.text}"
            )
        answer = answers[state]
        awaits = chat.last.awaits
        # A remembered answer offered back ("Still …?") also takes an answer to the question.
        offered_back = {c.value for c in awaits.choices} == {"yes", "changed"}
        if awaits.kind == "choice" and not offered_back:
            offered = {c.value for c in awaits.choices} | {c.label for c in awaits.choices}
            assert answer in offered, f"{answer!r} is not an option at {state!r}: {offered}"
        chat.say(answer)
        if chat.state == state:
            pytest.fail(f"the answer {answer!r} to {state!r} was not accepted:\n{chat.text}")
        asked.append(state)
    pytest.fail(f"more than {limit} questions without reaching {until!r}")


def commit(chat: Any, picks: list[tuple[str, str]]) -> None:
    """Pick each next step (by value or label) and give it a date, then say that's enough."""
    for pick, when in picks:
        assert chat.state == "commit", chat.text
        chat.say(pick)
        assert chat.state == "commit__due", f"{pick!r} was not taken:\n{chat.text}"
        assert chat.last.awaits.kind == "date"
        chat.say(when)
        assert chat.state == "commit", f"{when!r} was not taken as a date:\n{chat.text}"
    chat.say("That's enough for now")


def recommendation(engine: Any, dialogue: str, rec_id: str) -> Recommendation:
    recs = engine.catalog.dialogues[dialogue].dialogue.recommendations
    return next(r for r in recs if r.id == rec_id)


def conversations(engine: Any, user: str, dialogue: str) -> list[ConversationRow]:
    return [r for r in engine.store.conversations_of(user) if r.dialogue == dialogue]


def expected_due(when: str, today: dt.date) -> dt.date | None:
    """The date each form must give; None for 'next friday', checked by its weekday instead."""
    if when == "in 2 weeks":
        return today + dt.timedelta(weeks=2)
    if when == "next friday":
        return None
    return dt.date.fromisoformat(when)


def assert_due(when: str, due_date: str, today: dt.date) -> None:
    due = dt.date.fromisoformat(due_date)
    wanted = expected_due(when, today)
    if wanted is None:
        assert due.weekday() == 4, f"'next friday' gave {due:%A %d %B}"
        assert today < due <= today + dt.timedelta(days=14)
    else:
        assert due == wanted, f"{when!r} gave {due}, expected {wanted}"


# -- the four diagnose profiles ---------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    answers: dict[str, str]
    picks: list[tuple[str, str, str]]  # (what the user types, the date they give, the id)
    expect: set[str]
    never: set[str]
    chart_line: str
    summary_says: tuple[str, ...] = ()
    summary_never: tuple[str, ...] = field(default=())


CHARITY = Profile(
    answers={
        "role": "voluntary",
        "situation": "The partnership board decides our funding next month; we sit on it, "
        "with no budget.",
        "other_party": "Westshire Council's commissioning team",
        "other_kind": "An organisation, such as a council, NHS trust or funder",
        "in_room": "yes",
        "power_kind": "resources",
        "mandate_source": "commissioning",
        "mandate_check": "Elected representatives",
        "their_resources": "5",
        "my_resources": "1",
        "their_expertise": "3",
        "my_expertise": "4",
        "their_importance": "4",
        "my_importance": "2",
        "their_position": "5",
        "my_position": "1",
        "my_source": "local_knowledge",
        "coming_up": "meeting",
        "point_of_power": "Partnership board on the 14th, and the draft minutes after it",
        "allies": "Other voluntary groups",
        "share_leadership": "yes",
        "hope": "We help shape the commissioning plan instead of reading about it afterwards.",
    },
    picks=[
        ("name_the_asymmetry", "2026-12-01", "name_the_asymmetry"),
        ("Build a campaigning coalition with other groups", "next friday", "campaign_coalition"),
    ],
    expect={"name_the_asymmetry", "campaign_coalition"},
    never={"become_knowable", "councillor_briefing", "reflect_on_own_power", "listen_truly"},
    chart_line="Resources   ■■■■■  ■□□□□  +4",
    summary_says=(
        "Their main power: Resources others need",
        "Your next point of power: Partnership board on the 14th",
        "(and you'd share the lead)",
    ),
)

COMMUNITY = Profile(
    answers={
        "role": "I'm a community leader or a resident",
        "situation": "Families on our estate keep being moved between social workers.",
        "other_party": "Children's social care",
        "other_kind": "professional_service",
        "in_room": "no",
        "power_kind": "Professional power to give or withhold services, support or sanctions",
        "mandate_source": "statute",
        "mandate_check": "service_users",
        "their_resources": "3",
        "my_resources": "1",
        "their_expertise": "5",
        "my_expertise": "2",
        "their_importance": "4",
        "my_importance": "3",
        "their_position": "4",
        "my_position": "2",
        "my_source": "Lived experience",
        "coming_up": "Nothing yet",
        "allies": "nobody",
        "share_leadership": "yes",
        "hope": "Families know who their worker is and how to raise a concern.",
    },
    picks=[
        ("Make your group known to the service, on your terms", "in 2 weeks", "become_knowable"),
        ("question_the_mandate", "2026-12-01", "question_the_mandate"),
    ],
    expect={"become_knowable", "question_the_mandate"},
    never={"name_the_asymmetry", "councillor_briefing", "reflect_on_own_power"},
    chart_line="Expertise   ■■■■■  ■■□□□  +3",
    summary_says=("Nothing in view yet to shape.", "Who shares the concern: Nobody yet"),
    summary_never=("Your next point of power:",),
)

COUNCILLOR = Profile(
    answers={
        "role": "councillor",
        "situation": "Officers answer scrutiny questions with jargon; I can't tell if it works.",
        "other_party": "Adult social care",
        "other_kind": "A professional service (social workers, doctors, police, specialists)",
        "in_room": "no",
        "power_kind": "expertise",
        "mandate_source": "Elected representatives (councillors, MPs, a mayor)",
        "mandate_check": "elected_reps",
        "their_resources": "4",
        "my_resources": "2",
        "their_expertise": "5",
        "my_expertise": "1",
        "their_importance": "3",
        "my_importance": "3",
        "their_position": "4",
        "my_position": "3",
        "my_source_councillor": "voice",
        "coming_up": "meeting",
        "point_of_power": "Scrutiny committee on 3 December",
        "allies_councillor": "scrutiny",
        "share_leadership": "no",
        "hope": "I can ask a question at scrutiny and understand the answer.",
    },
    picks=[
        ("councillor_briefing", "next friday", "councillor_briefing"),
        (
            "Read the latest inspection report and ask about it",
            "in 2 weeks",
            "use_inspection_reports",
        ),
    ],
    expect={"councillor_briefing", "use_inspection_reports"},
    never={"campaign_coalition", "route_via_elected", "reflect_on_own_power", "become_knowable"},
    chart_line="Importance  ■■■□□  ■■■□□  0",
    summary_says=("Their mandate comes from: Elected representatives",),
)

PROFESSIONAL = Profile(
    answers={
        "role": "I'm a frontline professional or manager in a public service",
        "situation": "I decide whether a young mum keeps her support, and she never disagrees.",
        "other_party": "Jade, a mum on my caseload",
        "other_party__name": "yes",  # "Jade"
        "other_kind": "person",
        "power_kind": "professional",
        "mandate_source": "The law, statute or regulation",
        "mandate_check": "service_users",
        "their_resources": "1",
        "my_resources": "4",
        "their_expertise": "2",
        "my_expertise": "4",
        "their_importance": "2",
        "my_importance": "4",
        "their_position": "1",
        "my_position": "4",
        "my_source_professional": "pen",
        "coming_up": "nothing",
        "allies_professional": "Nobody yet",
        "share_leadership": "no",
        "hope": "She tells me what she actually needs, and we plan it together.",
    },
    picks=[
        ("Reflect on the power you hold over them", "2026-12-01", "reflect_on_own_power"),
        ("listen_truly", "in 2 weeks", "listen_truly"),
    ],
    expect={"reflect_on_own_power", "listen_truly"},
    never={"route_via_elected", "campaign_coalition", "councillor_briefing", "name_the_asymmetry"},
    chart_line="Resources   ■□□□□  ■■■■□  -3",
    summary_says=(
        "The main power in this relationship: Professional power",
        "That authority comes from: The law, statute or regulation",
    ),
    summary_never=("Their main power:",),
)

PROFILES = {
    "charity": CHARITY,
    "community_leader": COMMUNITY,
    "councillor": COUNCILLOR,
    "professional": PROFESSIONAL,
}
profiles = pytest.mark.parametrize("profile", list(PROFILES.values()), ids=list(PROFILES))


def diagnose(chat: Any, profile: Profile) -> None:
    chat.open()
    chat.say("diagnose")
    assert chat.state == "role", chat.text
    walk(chat, profile.answers)


def current_slots(chat: Any) -> dict[str, Any]:
    row = chat.engine.store.current_conversation(chat.user)
    assert row is not None
    return row.slots


@profiles
def test_recommendations_fit_who_the_user_is(chat: Any, profile: Profile) -> None:
    diagnose(chat, profile)
    recommended = current_slots(chat)["recommendations"]
    assert profile.expect <= set(recommended), recommended
    assert not profile.never & set(recommended), recommended


@profiles
def test_recommendations_are_shown_with_their_idea_and_source(chat: Any, profile: Profile) -> None:
    diagnose(chat, profile)
    shown = chat.text
    recommended = current_slots(chat)["recommendations"]
    assert recommended, "no recommendations were made"
    for rec_id in recommended:
        rec = recommendation(chat.engine, "diagnose", rec_id)
        assert rec.title in shown
        assert rec.text in shown
        assert f"Why: {rec.idea} ({rec.source})" in shown
    # The best one comes first, and every one is offered as a next step to pick.
    first = recommendation(chat.engine, "diagnose", recommended[0])
    listed = shown.index("From what you've told me")  # the insights above cite sources too
    assert listed < shown.index(f"1. {first.title}") < shown.index(first.source, listed)
    offered = [c.value for c in chat.last.awaits.choices]
    assert offered[: len(recommended)] == recommended


@profiles
def test_summary_reads_back_the_users_words_and_charts_the_asymmetry(
    chat: Any, profile: Profile
) -> None:
    diagnose(chat, profile)
    summary = chat.text.split("From what you've told me")[0]
    assert "Here's your diagnosis, in your words." in summary
    assert f"The situation: {profile.answers['situation']}" in summary
    assert profile.answers["other_party"] in summary
    assert f"What you'd like to change: {profile.answers['hope']}" in summary
    assert "Them   You    Gap" in summary
    assert profile.chart_line in summary
    for phrase in profile.summary_says:
        assert phrase in summary
    for phrase in profile.summary_never:
        assert phrase not in summary


@profiles
def test_committed_steps_are_stored_with_their_dates_idea_and_source(
    chat: Any, profile: Profile, clock: Any
) -> None:
    today = clock().date()
    diagnose(chat, profile)
    commit(chat, [(typed, when) for typed, when, _ in profile.picks])

    assert "That's your plan:" in chat.text
    assert chat.state is None, "the conversation should be complete"
    (row,) = conversations(chat.engine, chat.user, "diagnose")
    assert row.status == "completed"
    assert profile.expect <= set(row.slots["recommendations"])

    steps = {s.recommendation_id: s for s in chat.engine.store.next_steps_of(chat.user)}
    assert set(steps) == {rec_id for _, _, rec_id in profile.picks}
    for _, when, rec_id in profile.picks:
        step, rec = steps[rec_id], recommendation(chat.engine, "diagnose", rec_id)
        assert step.conversation_id == row.id
        assert step.status == "open"
        assert (step.title, step.text, step.idea, step.source) == (
            rec.title,
            rec.text,
            rec.idea,
            rec.source,
        )
        assert step.idea and step.source
        assert_due(when, step.due_date, today)
        # The goodbye lists the plan, each step with its day written out.
        day = dt.date.fromisoformat(step.due_date)
        assert f"• {rec.title}, by {day:%A} {day.day} {day:%B %Y}" in chat.text


def test_the_four_profiles_get_different_advice(chat: Any) -> None:
    """One user diagnoses four situations in a row: each gets advice of its own."""
    chat.open()
    for profile in PROFILES.values():
        chat.say("diagnose")
        walk(chat, profile.answers)
        commit(chat, [(typed, when) for typed, when, _ in profile.picks])
        assert chat.state is None, chat.text
    rows = conversations(chat.engine, chat.user, "diagnose")
    assert [r.status for r in rows] == ["completed"] * 4
    lists = [tuple(r.slots["recommendations"]) for r in rows]
    assert len(set(lists)) == 4, lists
    assert len({recs[0] for recs in lists}) == 4, "each profile should lead with different advice"
    charity, community, councillor, professional = (set(recs) for recs in lists)
    assert "campaign_coalition" in charity and "campaign_coalition" not in councillor
    assert "become_knowable" in community and "become_knowable" not in charity
    assert "councillor_briefing" in councillor and "councillor_briefing" not in community
    assert "reflect_on_own_power" in professional
    assert "route_via_elected" in charity and "route_via_elected" not in professional
    # Every commitment belongs to the conversation it was made in.
    by_conversation: dict[int, set[str]] = {}
    for step in chat.engine.store.next_steps_of(chat.user):
        by_conversation.setdefault(step.conversation_id, set()).add(step.recommendation_id)
    for row, profile in zip(rows, PROFILES.values(), strict=True):
        assert by_conversation[row.id] == {rec_id for _, _, rec_id in profile.picks}


# -- own_power with two contrasting reflections -------------------------------------------------

STRETCHED = {
    "who_relies": "Families on my caseload, for decisions about respite care",
    "for_them": "Whether they get a night's sleep this month.",
    "life_impact": "5",
    "power_felt": "2",
    "my_powers": "Decide, or recommend, whether they get a service or support",
    "difference": "race_ethnicity",
    "difference_shows": "They explain their culture to me before they can ask for anything.",
    "who_decides": "Our policies, targets or funders",
    "what_stops_me": "The eligibility forms take longer than the visits.",
    "obstacle": "rules",
    "habit": "Sharing what I know about legislation and process",
    "senior": "no",
}
STRETCHED_PICKS = [
    ("ask_what_empowering_means", "next friday", "ask_what_empowering_means"),
    ("List what you can give or withhold", "2026-12-01", "notice_unfelt_power"),
]

MANAGER = {
    "who_relies": "A team of eight support workers and the tenants they visit",
    "for_them": "Their home, and whether it feels like theirs.",
    "life_impact": "2",
    "power_felt": "5",
    "my_powers": "timing",
    "difference": "I'm not sure yet",
    "who_decides": "together",
    "what_stops_me": "A culture of covering ourselves instead of trying things.",
    "obstacle": "Managers or the culture around me",
    "habit": "reflection",
    "senior": "yes",
}
MANAGER_PICKS = [
    ("staff_walk_the_hoops", "in 2 weeks", "staff_walk_the_hoops"),
    ("Make ten minutes of reflection part of the week", "2026-12-01", "reflection_in_role"),
]


def test_own_power_advice_follows_the_reflection(chat: Any, clock: Any) -> None:
    today = clock().date()
    chat.open()
    chat.say("Reflect on your own power")
    walk(chat, STRETCHED)
    stretched_shown = chat.text
    commit(chat, [(typed, when) for typed, when, _ in STRETCHED_PICKS])
    assert chat.state is None, chat.text

    chat.say("own_power")
    walk(chat, MANAGER)  # "not sure" skips the question about how the difference shows
    manager_shown = chat.text
    commit(chat, [(typed, when) for typed, when, _ in MANAGER_PICKS])
    assert chat.state is None, chat.text

    assert "What you've committed to:" in chat.text
    first, second = conversations(chat.engine, chat.user, "own_power")
    assert first.status == second.status == "completed"
    stretched, manager = set(first.slots["recommendations"]), set(second.slots["recommendations"])
    assert {"ask_what_empowering_means", "notice_unfelt_power", "share_legislation"} <= stretched
    assert not {"staff_walk_the_hoops", "map_the_differences", "keep_deciding_together"} & (
        stretched
    )
    assert {"staff_walk_the_hoops", "map_the_differences", "reflection_in_role"} <= manager
    assert not {"ask_what_empowering_means", "notice_unfelt_power", "notice_difference"} & manager

    assert "The difference most present: Race, ethnicity, culture or caste" in stretched_shown
    assert STRETCHED["difference_shows"] in stretched_shown
    assert "Differences between you: not sure yet" in manager_shown
    assert "difference_shows" not in second.slots

    steps = chat.engine.store.next_steps_of(chat.user)
    for row, picks in ((first, STRETCHED_PICKS), (second, MANAGER_PICKS)):
        mine = {s.recommendation_id: s for s in steps if s.conversation_id == row.id}
        assert set(mine) == {rec_id for _, _, rec_id in picks}
        for _, when, rec_id in picks:
            rec = recommendation(chat.engine, "own_power", rec_id)
            assert (mine[rec_id].idea, mine[rec_id].source) == (rec.idea, rec.source)
            assert_due(when, mine[rec_id].due_date, today)


def test_a_long_name_is_used_once_then_the_questions_say_they(chat: Any) -> None:
    """People name the other party in their own words, often at length; the coach asks for
    a short name, and the questions that follow read naturally with it mid-sentence."""
    name = "The county council's commissioning team, led by Sam Patel"
    chat.open()
    chat.say("diagnose")
    chat.say("1")
    chat.say("Funding for prevention work is being decided without us")
    asked = chat.say(name)
    assert "What shall I call them in the questions ahead — " in asked.text
    asked = chat.say("yes")
    assert "Which of these best describes the county council's commissioning team?" in asked.text
    chat.say("3")
    chat.say("no")  # not in the room
    assert "What kind of power do they mostly hold over this?" in chat.text
    chat.say("2")
    assert "where does their authority to act come from?" in chat.text
    assert name not in chat.text


def test_what_a_user_wrote_at_an_option_question_is_in_their_diagnosis(chat: Any) -> None:
    """An explanation typed instead of an option is read back in the summary, in quotes."""
    account = "The cabinet member gave them the budget; scrutiny could question it"
    keys = list(CHARITY.answers)
    before = keys[: keys.index("mandate_source")]
    chat.open()
    chat.say("diagnose")
    walk(chat, {k: CHARITY.answers[k] for k in before}, until="mandate_source")
    chat.say(account)  # kept, and the same question asked again
    assert chat.state == "mandate_source"
    rest = {k: CHARITY.answers[k] for k in keys[len(before) :]}
    walk(chat, rest)
    summary = chat.text.split("From what you've told me")[0]
    assert f'Their mandate comes from: A commissioning or funding body: "{account}"' in summary
