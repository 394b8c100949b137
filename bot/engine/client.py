"""One Docker Engine: a lazily connected docker-py client with bounded timeouts."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

import docker
from docker.tls import TLSConfig

from bot.engine.translate import engine_call
from bot.redact import mask_text

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


@dataclass
class Engine:
    """A named Docker Engine. Connects on first use, so a dead engine never blocks start-up."""

    name: str = "local"
    url: str | None = None  # None: DOCKER_HOST or the local socket, as docker's tools do
    timeout: float = 30.0
    tls: TLSConfig | None = None
    pool_size: int = 32
    _client: docker.DockerClient | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def display_url(self) -> str:
        return mask_text(self.url or os.environ.get("DOCKER_HOST", DEFAULT_SOCKET))

    @property
    def client(self) -> docker.DockerClient:
        with self._lock:
            if self._client is None:
                self._client = self._connect()
            return self._client

    @property
    def api(self) -> docker.APIClient:
        """The low-level client: one HTTP call per operation, no hidden inspects."""
        return self.client.api

    def _connect(self) -> docker.DockerClient:
        if self.url is None:
            return docker.from_env(timeout=int(self.timeout), max_pool_size=self.pool_size)
        return docker.DockerClient(base_url=self.url, timeout=int(self.timeout), tls=self.tls or False,
                                   max_pool_size=self.pool_size,
                                   use_ssh_client=self.url.startswith("ssh://"))

    def reset(self) -> None:
        """Forget the connection (after the engine restarted, or to re-read credentials)."""
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None

    def close(self) -> None:
        self.reset()


@engine_call
def ping(engine: Engine) -> bool:
    """True when the engine answers `_ping`."""
    return bool(engine.api.ping())
