"""`dockops help`, `/docker help`, `--version` and the README table all come from one table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import bot
from bot import cli
from bot.commands import TABLE
from bot.views import help as help_views
from bot.views.limits import fit
from tests.slack_standin import validate_blocks

ROOT = Path(__file__).resolve().parent.parent


def dockops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


@pytest.fixture(scope="module")
def cli_help() -> str:
    result = dockops("help")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_version_is_the_package_version() -> None:
    result = dockops("--version")
    assert (result.returncode, result.stdout.strip()) == (0, f"dockops {bot.__version__}")


@pytest.mark.parametrize("command", TABLE.commands, ids=lambda command: command.name)
def test_every_command_is_in_dockops_help_with_an_example(command, cli_help: str) -> None:
    assert command.examples, f"`{command.name}` has no example in its Command spec"
    line = next((line for line in cli_help.splitlines() if line.startswith(f"{command.name}  ")),
                None)
    assert line is not None, f"`{command.name}` is missing from `dockops help`"
    assert command.summary in line and "e.g. /docker " in line


@pytest.mark.parametrize("command", TABLE.commands, ids=lambda command: command.name)
def test_help_for_one_command_shows_usage_every_flag_and_every_example(command, capsys) -> None:
    assert cli.main(["help", *command.path]) == 0
    out = capsys.readouterr().out
    assert command.usage in out
    for flag in command.flags:
        assert f"--{flag.long}" in out
    for example in command.examples:
        assert f"/docker {example}" in out


def test_help_for_an_unknown_command_says_how_to_list_them(capsys) -> None:
    assert cli.main(["help", "frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "no help for `frobnicate`" in err and "`dockops help` lists them" in err


def test_slack_help_is_the_same_text_as_dockops_help(run_command, cli_help: str) -> None:
    outcome, responder = run_command("help", user="U0VIEW", source="slack")
    assert outcome.ok
    assert responder.text() == cli_help


def test_slack_help_fits_slack_limits_and_is_valid_block_kit() -> None:
    message = fit(help_views.overview(TABLE))
    assert validate_blocks(list(message.blocks)) == []
    assert len(message.blocks) <= 50


def test_commands_missing_from_the_section_list_still_show(monkeypatch) -> None:
    monkeypatch.setattr(help_views, "SECTIONS", (("Containers", ("ps", "no such command")),))
    titles = [title for title, _ in help_views.grouped(TABLE)]
    listed = [command.name for _, commands in help_views.grouped(TABLE) for command in commands]
    assert titles == ["Containers", "More"]
    assert sorted(listed) == sorted(command.name for command in TABLE.commands)


def test_readme_command_table_matches_the_grammar() -> None:
    result = subprocess.run([sys.executable, "scripts/command_table.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_readme_table_has_every_command_and_its_role() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import command_table
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    rows = command_table.readme_table((ROOT / "README.md").read_text()).splitlines()[2:]
    by_name = {row.split("|")[1].strip().strip("`"): row.split("|")[2].strip() for row in rows}
    assert {name: role.split()[0] for name, role in by_name.items()} == \
        {command.name: help_views.role_text(command.role) for command in TABLE.commands}
