"""Each unique image once: concurrent checks of one (registry, repository, tag), from any
host or job, share one HEAD."""

from __future__ import annotations

import threading
from concurrent.futures import Future

from bot.registry.client import Head, RegistryClient


class DigestChecks:
    """Single-flight manifest HEADs: a check already on its way is joined, not repeated."""

    def __init__(self, client: RegistryClient) -> None:
        self.client = client
        self._flying: dict[tuple[str, str, str], Future[Head]] = {}
        self._guard = threading.Lock()

    def head(self, registry: str, repository: str, tag: str) -> Head:
        key = (registry, repository, tag)
        with self._guard:
            flying = self._flying.get(key)
            owner = flying is None
            if flying is None:
                flying = self._flying[key] = Future()
        if not owner:
            return flying.result()
        try:
            flying.set_result(self.client.head(registry, repository, tag))
        except BaseException as exc:
            flying.set_exception(exc)
        finally:
            with self._guard:
                self._flying.pop(key, None)
        return flying.result()
