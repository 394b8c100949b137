"""Updates that may be skipped: live progress gives way to answers when the send budget is short.

A front end (the Slack governor) declines a skippable update by raising `Skipped` before
anything is sent; the caller keeps its latest content and offers it again later.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_SKIPPABLE: ContextVar[bool] = ContextVar("dockops_skippable", default=False)


class Skipped(Exception):
    """The update was not sent: the budget is kept for final answers and notices."""


@contextmanager
def skippable() -> Iterator[None]:
    """Mark what is sent inside as a live update that may be dropped (never a final answer)."""
    token = _SKIPPABLE.set(True)
    try:
        yield
    finally:
        _SKIPPABLE.reset(token)


def is_skippable() -> bool:
    return _SKIPPABLE.get()
