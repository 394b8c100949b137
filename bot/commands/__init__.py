"""The grammar: every command dockops understands, as the docker CLI spells it."""

from __future__ import annotations

from bot.commands import alerts, container, image, jobs, network, runtime, swarm, system, volume
from bot.commands import prune as prune_commands
from bot.commands.parser import CommandTable, parse
from bot.commands.spec import Arg, Command, Flag, Invocation

TABLE = CommandTable((*container.COMMANDS, *runtime.COMMANDS, *image.COMMANDS, *network.COMMANDS,
                      *volume.COMMANDS, *system.COMMANDS, *swarm.COMMANDS, *jobs.COMMANDS,
                      *alerts.COMMANDS, *prune_commands.COMMANDS))

__all__ = ["TABLE", "Arg", "Command", "CommandTable", "Flag", "Invocation", "parse"]
