"""The layering holds: Slack listeners reach the engine only through the pipeline, every button
enters through the gate, and every command in the grammar is wired."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.commands import TABLE
from bot.handlers import HANDLERS
from bot.roles import Role
from bot.slack.listeners.buttons import COMMAND_BUTTONS
from bot.views.confirm import CANCEL_ACTION, CONFIRM_ACTION

ROOT = Path(__file__).resolve().parent.parent
LISTENERS = ROOT / "bot" / "slack" / "listeners"
# What a listener may not import: anything that acts on an engine without the gate.
FORBIDDEN = ("docker", "bot.engine", "bot.handlers", "bot.jobs", "bot.follows", "bot.confirm",
             "bot.buttons", "bot.store")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_slack_listeners_import_nothing_that_reaches_an_engine_around_the_pipeline() -> None:
    offending = {
        path.name: sorted(name for name in imports_of(path)
                          if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN))
        for path in LISTENERS.glob("*.py")}
    assert {name: bad for name, bad in offending.items() if bad} == {}


def test_listeners_hand_every_action_to_the_pipeline() -> None:
    calls = {path.name: re.findall(r"runtime\.pipeline\.(\w+)\(", path.read_text())
             for path in LISTENERS.glob("*.py")}
    used = {name for names in calls.values() for name in names}
    assert used == {"execute", "click", "decide"}


def test_every_button_the_views_can_draw_enters_through_the_gate() -> None:
    """A new button is a stored command (COMMAND_BUTTONS) or a confirmation; nothing else."""
    drawn = set()
    for path in (ROOT / "bot").rglob("*.py"):
        drawn.update(re.findall(r'^[A-Z_]+_ACTION = "([\w.]+)"', path.read_text(), re.M))
    assert drawn == {*COMMAND_BUTTONS, CONFIRM_ACTION, CANCEL_ACTION}


def test_every_command_in_the_grammar_has_a_handler_a_summary_and_a_role() -> None:
    for command in TABLE.commands:
        assert command.name in HANDLERS, f"{command.name} has no handler"
        assert command.summary.strip(), f"{command.name} has no help summary"
        assert isinstance(command.role, Role), f"{command.name} has no role"
