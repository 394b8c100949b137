"""What a container does and small changes to it: stats, port, pause, rename, wait, diff, events."""

from __future__ import annotations

from bot.commands.spec import Command

COMMANDS: tuple[Command, ...] = ()
