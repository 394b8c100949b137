"""The engine layer: docker-py behind typed results. Knows nothing of Slack."""

from bot.engine.client import Engine, ping

__all__ = ["Engine", "ping"]
