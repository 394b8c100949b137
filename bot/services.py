"""What a running bot holds: settings, engines, the store. Built once, shared by front ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.engine.hosts import Hosts
from bot.store import Store


@dataclass
class Services:
    settings: Settings
    hosts: Hosts
    store: Store
    scheduler: Any = None  # bot.jobs' scheduler when running (serve); None in the console

    @classmethod
    def build(cls, settings: Settings) -> Services:
        # Every worker may hold a connection, plus the streams (logs -f, builds) left open.
        hosts = Hosts.from_settings(settings, pool_size=settings.limits.workers * 2 + 8)
        return cls(settings=settings, hosts=hosts, store=Store(settings.data_dir))

    def close(self) -> None:
        self.hosts.close()
        self.store.close()
