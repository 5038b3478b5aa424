"""Dialogue templates render the way they are written: each line of text on its own line.

A tag on a line of its own leaves no trace (Jinja's trim_blocks); a tag that ends a line of
text keeps that line's break, so `Label: {{ x }}{% if note %}: "{{ note }}"{% endif %}`
never glues the next label on. The shipped summaries are rendered with realistic answers.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.loader import Catalog
from bot.templates import TemplateProblem, check_template, keep_line_breaks, render

# == the rule =====================================================================================


def test_a_tag_ending_a_line_of_text_keeps_the_line_break() -> None:
    source = (
        'Their main power: {{ kind }}{% if note %}: "{{ note }}"{% endif %}\n'
        "Their mandate comes from: {{ mandate }}{% if none %} (unused){% endif %}\n"
        "Who could question it: {{ check }}{# a comment ends this line #}\n"
        "Done."
    )

    shown = render(source, {"kind": "Resources", "note": 'they said "no"', "mandate": "Law"})

    assert shown.split("\n") == [
        'Their main power: Resources: "they said "no""',
        "Their mandate comes from: Law",
        "Who could question it: —",
        "Done.",
    ]


def test_a_tag_on_a_line_of_its_own_still_leaves_no_trace() -> None:
    source = (
        "Here's what you said.\n"
        "{% if coming %}\n"
        "Your next point of power: {{ point }}\n"
        "{% else %}\n"
        "No meeting in view yet.\n"
        "{% endif %}\n"
        "  {% for c in steps %}\n"
        "• {{ c }}\n"
        "  {% endfor %}\n"
        "{# a note for admins #}\n"
        "{% set shown = 2 %}{% set also = 3 %}\n"
        "The end."
    )

    assert render(source, {"coming": True, "point": "the board", "steps": ["a", "b"]}) == (
        "Here's what you said.\nYour next point of power: the board\n• a\n• b\nThe end."
    )
    assert render(source, {"steps": []}) == (
        "Here's what you said.\nNo meeting in view yet.\nThe end."
    )


def test_text_kept_for_later_in_a_macro_or_a_set_block_is_not_text_of_its_line() -> None:
    source = (
        "Top\n"
        "{% macro row(name, n=1) %}{{ name }}: {{ n }}{% endmacro %}\n"
        "{% set title %}Your {{ what }}{% endset %}\n"
        "{{ row('Resources', 3) }}\n"
        "{{ title }}"
    )

    assert render(source, {"what": "plan"}) == "Top\nResources: 3\nYour plan"


def test_a_line_ending_in_a_whitespace_control_is_left_as_its_author_wrote_it() -> None:
    source = "A{% if x -%}\n   B{%- endif %}\nC{% if x +%}\nD{% endif %}\nE"

    assert keep_line_breaks(source) == source.replace("endif %}\nC", "endif +%}\nC").replace(
        "endif %}\nE", "endif +%}\nE"
    )
    assert render(source, {"x": True}) == "AB\nC\nD\nE"


def test_only_a_plus_is_added_so_errors_keep_their_line_numbers() -> None:
    source = "Line one {% if a %}x{% endif %}\nLine two {% if b %}\nLine three {{ oops( }}"

    with pytest.raises(TemplateProblem, match="on its line 3"):
        check_template(source)
    assert keep_line_breaks(source).count("\n") == source.count("\n")
    assert keep_line_breaks("{% if %}{{ unclosed") == "{% if %}{{ unclosed"  # Jinja says why


# == the shipped summaries ========================================================================


def step_of(catalog: Catalog, dialogue: str, step: str) -> Any:
    return catalog.get(dialogue).dialogue.steps[step]


def label(catalog: Catalog, dialogue: str, slot: str, value: str) -> str:
    """The label the dialogue shows for `value` at the question that fills `slot`."""
    for step in catalog.get(dialogue).dialogue.steps.values():
        if getattr(step, "slot", None) == slot:  # several questions may fill one slot
            for choice in step.choices:
                if choice.value == value:
                    return choice.label
    raise AssertionError(f"no question fills {slot} with {value}")


def with_labels(catalog: Catalog, dialogue: str, slots: dict[str, Any]) -> dict[str, Any]:
    """Slots as the engine keeps them: each choice with its `<slot>_label` beside it."""
    labelled = dict(slots)
    for step in catalog.get(dialogue).dialogue.steps.values():
        slot = getattr(step, "slot", None)
        if step.kind == "choice" and isinstance(slots.get(slot), str):
            labelled[f"{slot}_label"] = label(catalog, dialogue, slot, slots[slot])
        elif step.kind == "choice" and isinstance(slots.get(slot), list):
            names = [label(catalog, dialogue, slot, v) for v in slots[slot]]
            labelled[f"{slot}_label"] = " and ".join(names)
    return labelled


def headings(template: str) -> list[str]:
    """The labels that start lines of a template ("Their main power:"), tags left out."""
    found = []
    for line in template.splitlines():
        text = re.sub(r"{%.*?%}|{{.*?}}", "", line).strip()
        match = re.match(r"([A-Z][^:{]*?):", text)
        if match:
            found.append(match.group(0))
    return found


def assert_each_heading_starts_a_line(template: str, shown: str) -> list[str]:
    present = [h for h in headings(template) if h in shown]
    for heading in present:
        for match in re.finditer(re.escape(heading), shown):
            assert match.start() == 0 or shown[match.start() - 1] == "\n", (
                f"{heading!r} does not start a line:\n{shown}"
            )
    return present


QUOTED = 'They told us "take it or leave it, lump it."'
DIAGNOSE = {
    "role": "voluntary",
    "situation": "The partnership board decides our funding next month; we have no seat.",
    "other_party": "the county council",
    "other_kind": "organisation",
    "power_kinds": ["resources"],
    "power_kinds_note": "It's the money first, but they also write the specs",
    "mandate_source": "elected",
    "mandate_source_note": QUOTED,
    "in_room": False,
    "in_room_note": "We're not on the board",
    "mandate_check": ["community"],
    "mandate_check_note": 'Residents, if they ever heard about it. "Nobody asks us."',
    "their_resources": 5,
    "my_resources": 2,
    "their_expertise": 4,
    "my_expertise": 3,
    "their_importance": 4,
    "my_importance": 3,
    "their_position": 5,
    "my_position": 1,
    "my_sources": ["local_knowledge"],
    "my_sources_note": 'I know this estate better than anyone at the trust: "we live here"',
    "coming_up": ["meeting"],
    "point_of_power": "The partnership board on the 14th",
    "allies": ["voluntary_groups"],
    "share_leadership": True,
    "hope": "Small groups would have a seat when funding is decided.",
}


@pytest.mark.parametrize(
    "answers",
    [
        DIAGNOSE,
        {**DIAGNOSE, "role": "professional", "other_kind": "person", "coming_up": ["nothing"]},
        {k: v for k, v in DIAGNOSE.items() if not k.endswith("_note")}
        | {"my_sources": ["community_relationships"]},
    ],
    ids=["notes", "professional-with-a-person", "no-notes"],
)
def test_the_diagnose_summary_puts_every_heading_on_its_own_line(
    catalog: Catalog, answers: dict[str, Any]
) -> None:
    template = step_of(catalog, "diagnose", "summary").text

    shown = render(template, with_labels(catalog, "diagnose", answers))

    present = assert_each_heading_starts_a_line(template, shown)
    assert len(present) >= 10, present
    assert 'lump it."Their' not in shown and 'lump it."\nWho could' not in shown
    if answers.get("mandate_source_note"):
        assert f': "{QUOTED}"\nWho could question it:' in shown
    assert "communityYour" not in shown and '"we live here""Your' not in shown
    ally_heading = (
        "\nWho is on their side:"
        if answers["role"] == "professional"
        else "\nWho shares the concern:"
    )
    assert ally_heading in shown


def test_the_own_power_summary_puts_every_heading_on_its_own_line_and_says_each_once(
    catalog: Catalog,
) -> None:
    template = step_of(catalog, "own_power", "summary").text
    answers = {
        "who_relies": "Families on my caseload, for decisions about respite care",
        "for_them": "For them it's their whole week: whether the kids get a break.",
        "life_impact": 5,
        "power_felt": 2,
        "differences": ["class_education"],
        "difference_shows": 'I write the assessment; they read "concerns about parenting"',
        "who_decides": "me_or_team",
        "what_stops_me": "Time, and a panel that wants the form done",
        "obstacle": "time",
        "habits": ["listening"],
    }

    shown = render(template, with_labels(catalog, "own_power", answers))

    present = assert_each_heading_starts_a_line(template, shown)
    assert len(present) >= 7, present
    assert "For them, it's: For them it's" not in shown
    assert shown.count("For them it's") == 1


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        (
            "whether the family holds together really",
            '"whether the family holds together really". That',
        ),
        ("whether the family holds together.", '"whether the family holds together". That'),
        ("is it fair?", '"is it fair?". That'),
        ("and so on...", '"and so on...". That'),
    ],
)
def test_words_quoted_mid_sentence_end_on_one_full_stop(said: str, shown: str) -> None:
    assert render('"{{ words | quoted }}". That', {"words": said}) == shown


def test_quotes_inside_quoted_words_become_single_ones() -> None:
    """Tried as a youth worker: the date question read `When will you do "Ask them what
    "independence" would mean for them" by?`: a quote within a quote is written single."""
    title = 'Ask them what "independence" would mean for them'
    assert render('"{{ t | quoted }}" by?', {"t": title}) == (
        '"Ask them what ‘independence’ would mean for them" by?'
    )
