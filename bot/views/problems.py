"""Errors as one clear message: what went wrong, then how to fix it."""

from __future__ import annotations

from bot.errors import DockopsError
from bot.mrkdwn import md
from bot.views import blocks
from bot.views.message import Message

_ICONS = {"usage": ":warning:", "refused": ":no_entry:", "engine": ":x:", "error": ":x:"}


def error(exc: DockopsError) -> Message:
    """The message and detail are text (escaped here) unless the error was raised with markup."""
    icon = _ICONS.get(exc.kind, ":x:")
    parts = [blocks.section(md("{} {}", icon, exc.message))]
    if exc.detail:
        parts.append(blocks.code(exc.detail) if "\n" in exc.detail
                     else blocks.context(exc.detail))
    text = md("{}\n\n{}", exc.message, exc.detail) if exc.detail else exc.message
    return Message(text=text, blocks=tuple(parts), ok=False)


def internal(reference: str) -> Message:
    """A bug on our side: no traceback in Slack, a reference to find it in the log."""
    text = (f":x: dockops hit an internal error and did nothing more (reference `{reference}`). "
            "The details are in the bot's log; please report it.")
    return Message(text=text, blocks=(blocks.section(text),), ok=False)
