"""Which function answers which command: `@handles("ps")` wires one up."""

from __future__ import annotations

from collections.abc import Callable

from bot.handlers.context import Context
from bot.views.message import Message

Handler = Callable[[Context], Message | None]

HANDLERS: dict[str, Handler] = {}
PREVIEWS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Register the function that performs these commands."""

    def register(func: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = func
        return func

    return register


def previews(*names: str) -> Callable[[Handler], Handler]:
    """Register what a destructive command shows before the user confirms it."""

    def register(func: Handler) -> Handler:
        for name in names:
            PREVIEWS[name] = func
        return func

    return register
