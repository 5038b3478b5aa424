"""A compiled dialogue's machine drawn as a Mermaid state diagram, for admins.

Drawn from the machine class itself (its states, transitions, guards and entry callbacks),
not from the YAML, so the picture is of what actually runs. Mermaid renders in GitHub,
GitLab and most Markdown editors with nothing to install.
"""

from __future__ import annotations

from statemachine import State, StateMachine
from statemachine.transition import Transition

from bot.compiler import PROCEED


def _quote(text: str) -> str:
    return text.replace('"', "'")


def _guards(transition: Transition) -> list[str]:
    labels = []
    for spec in transition.cond:
        func = spec.func
        label = getattr(func, "label", None) or getattr(func, "__name__", None) or str(func)
        labels.append(label if spec.expected_value else f"not {label}")
    return labels


def _edge(transition: Transition) -> str:
    line = f"{transition.source.id} --> {transition.target.id}"
    events = [e for e in (str(ev) for ev in transition.events) if e != PROCEED]
    if not events:
        return line  # a step that asks nothing moves on by itself
    label = " / ".join(e.replace("_", " ").capitalize() for e in events)
    guards = _guards(transition)
    if guards:
        label += f" [{' and '.join(guards)}]"
    return f"{line} : {label}"


def _entry_actions(state: State) -> list[str]:
    names = []
    for spec in state.enter:
        if spec.is_convention or isinstance(spec.func, str):
            continue
        names.append(getattr(spec.func, "__name__", str(spec.func)))
    return names


def mermaid(machine_class: type[StateMachine]) -> str:
    """The state diagram: each state with its title, where it starts and ends, every edge."""
    lines = ["stateDiagram-v2", "    direction LR"]
    for state in machine_class.states:
        lines.append(f'    state "{_quote(state.name)}" as {state.id}')
        for action in _entry_actions(state):
            lines.append(f"    {state.id} : entry / {action}")
    lines.append(f"    [*] --> {machine_class.initial_state.id}")
    for state in machine_class.final_states:
        lines.append(f"    {state.id} --> [*]")
    for state in machine_class.states:
        for transition in state.transitions:
            lines.append(f"    {_edge(transition)}")
    return "\n".join(lines)
