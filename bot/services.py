"""What a running bot holds: settings, engines, the store. Built once, shared by front ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.config import Settings
from bot.engine.client import Engine
from bot.engine.hosts import LOCAL, HostEngine, Hosts, tls_config
from bot.store import Store


@dataclass
class Services:
    settings: Settings
    hosts: Hosts
    store: Store
    scheduler: Any = None  # bot.jobs' scheduler when running (serve); None in the console
    incidents: Any = None  # bot.incidents' followers when running (serve); None in the console
    registry: Any = None  # bot.jobs.registry_checks' shared registry client, made on first use

    @classmethod
    def build(cls, settings: Settings) -> Services:
        # Every worker may hold a connection, plus the streams (logs -f, builds) left open.
        hosts = hosts_from(settings, pool_size=settings.limits.workers * 2 + 8)
        return cls(settings=settings, hosts=hosts, store=Store(settings.data_dir))

    def close(self) -> None:
        if self.registry is not None:
            self.registry.close()
        self.hosts.close()
        self.store.close()


def hosts_from(settings: Settings, *, pool_size: int = 32) -> Hosts:
    """One engine per `[hosts.NAME]`, or `local` from DOCKER_HOST when there are none."""
    fallback = settings.limits.engine_timeout_seconds
    if not settings.hosts:
        local = HostEngine(LOCAL, settings.env.docker_host or None, timeout=fallback,
                           pool_size=pool_size)
        return Hosts({LOCAL: local}, LOCAL)
    engines: dict[str, Engine] = {
        name: HostEngine(name, host.url, timeout=host.timeout or fallback, pool_size=pool_size,
                         tls=tls_config(host.tls_ca, host.tls_cert, host.tls_key)
                         if host.uses_tls else None)
        for name, host in settings.hosts.items()}
    marked = [name for name, host in settings.hosts.items() if host.default]
    default = marked[0] if marked else (next(iter(engines)) if len(engines) == 1 else "")
    return Hosts(engines, default)
