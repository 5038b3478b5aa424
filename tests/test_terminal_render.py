"""How replies look in a terminal: charts stay aligned, long lines wrap, options are numbered."""

from __future__ import annotations

from bot.channels.terminal import render_text
from bot.turns import Await, BotMessage, Choice, Reply

CHART = "The asymmetry:\n```\n            Them   You\nResources   ■■■■■  ■□□□□\n```\nDone."


def test_code_fences_are_dropped_and_chart_lines_kept_as_they_are() -> None:
    shown = render_text(Reply((BotMessage(CHART),)), width=20)
    assert "```" not in shown
    assert "Resources   ■■■■■  ■□□□□" in shown.splitlines()  # longer than 20, not wrapped


def test_long_lines_wrap_at_the_terminal_width_under_their_indent() -> None:
    text = "   Why: " + "points of power are moments when anyone can shape the text " * 3
    shown = render_text(Reply((BotMessage(text),)), width=40)
    lines = shown.splitlines()
    assert len(lines) > 3
    assert all(len(line) <= 40 for line in lines)
    assert all(line.startswith("   ") for line in lines)


def test_options_are_numbered_and_a_scale_sits_on_one_line() -> None:
    choices = (Choice("a", "First"), Choice("b", "Second"))
    shown = render_text(Reply((BotMessage("Pick", choices),), Await("choice", choices)))
    assert "  1. First\n  2. Second" in shown
    scale = tuple(Choice(str(n), str(n)) for n in range(1, 6))
    shown = render_text(Reply((BotMessage("Rate", scale),), Await("scale", scale, 1, 5)))
    assert shown.splitlines()[-1].split() == ["1", "2", "3", "4", "5"]
