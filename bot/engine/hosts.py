"""The Docker hosts this bot operates, by name."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.engine.client import Engine
from bot.errors import UsageError


@dataclass
class Hosts:
    """Named engines; `local` (DOCKER_HOST or the local socket) when none are configured."""

    engines: dict[str, Engine] = field(default_factory=lambda: {"local": Engine()})
    default: str = "local"

    def get(self, name: str | None = None) -> Engine:
        key = name or self.default
        if key not in self.engines:
            known = ", ".join(sorted(self.engines))
            raise UsageError(f"No host named `{key}`.", detail=f"Known hosts: {known}.")
        return self.engines[key]

    def close(self) -> None:
        for engine in self.engines.values():
            engine.close()
