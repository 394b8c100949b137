"""Destructive commands for the confirmation tests: the real `rm` when it exists, else a stand-in.

The lifecycle handlers (rm and its preview) are written by another engineer; until they are
registered, these fixtures register a minimal `rm` that removes through the real engine, so
the confirmation machinery is tested against real state either way.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.engine.client import Engine
from bot.engine.translate import engine_call
from bot.handlers import HANDLERS, PREVIEWS, Context
from bot.views import blocks
from bot.views.message import Message


@engine_call
def _remove(engine: Engine, name: str, force: bool) -> None:
    engine.api.remove_container(name, force=force)


def stand_in_rm(ctx: Context) -> Message:
    """`rm [-f] NAME...` through the engine's own rules (a running container needs -f)."""
    for name in ctx.invocation.args:
        _remove(ctx.engine, name, bool(ctx.invocation.opt("force")))
    text = "Removed " + ", ".join(f"`{name}`" for name in ctx.invocation.args) + "."
    return Message(text=text, blocks=(blocks.section(text),))


def stand_in_rm_preview(ctx: Context) -> Message:
    names = ", ".join(f"`{name}`" for name in ctx.invocation.args)
    text = f":warning: This will remove {names}."
    return Message(text=text, blocks=(blocks.section(text),))


@pytest.fixture
def rm_command() -> Iterator[bool]:
    """Make sure `rm` and its preview are registered; True when they are the real ones."""
    real = "rm" in HANDLERS
    added = [table for table, func in ((HANDLERS, stand_in_rm), (PREVIEWS, stand_in_rm_preview))
             if table.setdefault("rm", func) is func]
    yield real
    for table in added:
        table.pop("rm", None)
