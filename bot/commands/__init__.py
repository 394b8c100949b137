"""The grammar: every command dockops understands, as the docker CLI spells it."""

from __future__ import annotations

from bot.commands import container, image, jobs, system
from bot.commands.parser import CommandTable, parse
from bot.commands.spec import Arg, Command, Flag, Invocation

TABLE = CommandTable((*container.COMMANDS, *image.COMMANDS, *system.COMMANDS, *jobs.COMMANDS))

__all__ = ["TABLE", "Arg", "Command", "CommandTable", "Flag", "Invocation", "parse"]
