"""Network commands, flags named as in the docker CLI reference."""

from __future__ import annotations

from bot.commands.spec import Command

COMMANDS: tuple[Command, ...] = ()
