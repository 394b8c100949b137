"""Swarm commands (service, node, stack) for hosts that are Swarm managers."""

from __future__ import annotations

from bot.commands.spec import Command

COMMANDS: tuple[Command, ...] = ()
