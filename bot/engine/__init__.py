"""The engine layer: docker-py behind typed results. Knows nothing of Slack.

Importing this package loads no docker-py: `bot.engine.results` (what views read) stays light.
`Engine` and `ping` are loaded from `bot.engine.client` on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.engine.client import Engine, ping

__all__ = ["Engine", "ping"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from bot.engine import client

        return getattr(client, name)
    raise AttributeError(f"module 'bot.engine' has no attribute {name!r}")
