"""The dispatch table: which function answers which command (`@handles("ps")` wires one)."""

from __future__ import annotations

from collections.abc import Callable

from bot.handlers.context import Context
from bot.views.message import Message

Handler = Callable[[Context], Message | None]

HANDLERS: dict[str, Handler] = {}
PREVIEWS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Register the function that performs these commands."""

    return _registrar(HANDLERS, names, "handler")


def previews(*names: str) -> Callable[[Handler], Handler]:
    """Register what a destructive command shows before the user confirms it."""

    return _registrar(PREVIEWS, names, "preview")


def _registrar(table: dict[str, Handler], names: tuple[str, ...],
               what: str) -> Callable[[Handler], Handler]:
    """Wire `names` to the function; a name wired twice is a mistake that fails at import."""

    def register(func: Handler) -> Handler:
        for name in names:
            if name in table:
                raise ValueError(f"command collision: {name!r} already has a {what} "
                                 f"({table[name].__module__}.{table[name].__name__})")
            table[name] = func
        return func

    return register
