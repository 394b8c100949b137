"""Alert rules and incidents: alerts, alerts mute/unmute, alerts history."""

from __future__ import annotations

from bot.commands.spec import Command

COMMANDS: tuple[Command, ...] = ()
