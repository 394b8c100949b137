"""What a running bot holds: settings, engines, the store. Built once, shared by front ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.engine.client import Engine
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
        timeout = settings.limits.engine_timeout_seconds
        pool = settings.limits.workers * 2 + 8
        local = Engine("local", settings.env.docker_host or None, timeout=timeout, pool_size=pool)
        return cls(settings=settings, hosts=Hosts({"local": local}), store=Store(settings.data_dir))

    def close(self) -> None:
        self.hosts.close()
        self.store.close()
