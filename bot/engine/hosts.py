"""The Docker hosts this bot operates, by name: which one a command means, and which are down."""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import docker
import requests.exceptions
from docker.tls import TLSConfig

from bot.engine.client import Engine
from bot.errors import EngineError, UsageError

ALL = "all"
LOCAL = "local"
# A host that did not answer is tried again after this long, not on every command.
COOLDOWN_SECONDS = 30.0


@dataclass
class HostEngine(Engine):
    """An Engine that remembers when it last failed to answer, and refuses fast until retry."""

    cooldown: float = COOLDOWN_SECONDS
    _failed_at: float | None = field(default=None, init=False, repr=False)
    _failure: str = field(default="", init=False, repr=False)
    _slow: bool = field(default=False, init=False, repr=False)
    _health_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def client(self) -> docker.DockerClient:
        # A host that timed out is refused fast during its cooldown (trying costs the whole
        # timeout); one that failed fast (refused, no socket) is simply tried again, so a
        # restarted dockerd answers the very next command. Fan-outs skip both (fanout.py).
        down = self.down_reason() if self._slow else ""
        if down:
            raise EngineError(f"Host `{self.name}` is unreachable ({down}).",
                              detail="dockops tries it again after the cooldown; check that "
                                     f"dockerd is running at {self.display_url}.")
        try:
            client = super().client
        except docker.errors.DockerException as exc:
            # Connecting asks the engine its API version: a dead host fails right here.
            reason = unreachable_reason(exc, self.timeout, self.url or "")
            if reason:
                self.mark_unreachable(reason)
            raise
        self.mark_reachable()
        return client

    def mark_unreachable(self, reason: str) -> None:
        with self._health_lock:
            self._failed_at, self._failure = time.monotonic(), reason
            self._slow = reason.startswith("no answer within")
        self.reset()  # a half-open connection to a dead host is worth nothing

    def mark_reachable(self) -> None:
        with self._health_lock:
            self._failed_at, self._failure, self._slow = None, "", False

    def down_reason(self) -> str:
        """Why the host is skipped (with when it is retried); empty when it may be tried."""
        with self._health_lock:
            if self._failed_at is None:
                return ""
            age = time.monotonic() - self._failed_at
            if age >= self.cooldown:
                return ""
            return (f"{self._failure}; {age:.0f} s ago, retried in "
                    f"{max(1.0, self.cooldown - age):.0f} s")


@dataclass
class Hosts:
    """Named engines; `local` (DOCKER_HOST or the local socket) when none are configured.

    `default` is the host a command means when neither --host nor the channel names one;
    empty when several hosts are configured and none is marked `default = true`.
    """

    engines: dict[str, Engine] = field(default_factory=lambda: {LOCAL: Engine()})
    default: str = LOCAL

    @property
    def names(self) -> list[str]:
        return list(self.engines)

    def get(self, name: str | None = None) -> Engine:
        """The engine `name` (or the default host) stands for; UsageError listing the hosts."""
        key = name or self.default
        if not key:
            raise UsageError("Several Docker hosts are configured: say which one.",
                             detail=f"Add `--host NAME` (one of {self.listing()}), or set "
                                    "`default = true` on one [hosts.NAME].")
        if key not in self.engines:
            raise UsageError(f"No host named `{key}`.", detail=f"Known hosts: {self.listing()}.")
        return self.engines[key]

    def resolve(self, spec: str | None) -> list[str]:
        """Host names a --host value means: `all`, `a,b`, one name; None is the default host.

        With no default host, None means every host (callers that need one say so).
        """
        if spec is None:
            return [self.default] if self.default else self.names
        if spec.strip() == ALL:
            return self.names
        wanted = list(dict.fromkeys(part.strip() for part in spec.split(",") if part.strip()))
        if not wanted:
            raise UsageError(f"`--host {spec}` names no host.",
                             detail=f"Use a name, a comma list or `all`; hosts: {self.listing()}.")
        unknown = [name for name in wanted if name not in self.engines]
        if unknown:
            which = ", ".join(f"`{name}`" for name in unknown)
            raise UsageError(f"No host named {which}.", detail=f"Known hosts: {self.listing()}.")
        return wanted

    def select(self, names: list[str] | tuple[str, ...] = ()) -> list[Engine]:
        """The engines `names` lists, in that order; every host when `names` is empty."""
        return [self.engines[name] for name in self.resolve(",".join(names) if names else ALL)]

    def listing(self) -> str:
        return ", ".join(f"`{name}`" for name in self.engines)

    def close(self) -> None:
        for engine in self.engines.values():
            engine.close()


class HostTLS(TLSConfig):
    """TLS that verifies the engine against the host's own `tls_ca`, whatever the environment.

    requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (set on many machines) replace the CA
    file docker-py puts on its session, and verification then fails; the engine's
    connection takes nothing from the environment instead (proxies included).
    """

    def configure_client(self, client: docker.APIClient) -> None:
        super().configure_client(client)
        if self.ca_cert:
            client.trust_env = False


def tls_config(ca: str, cert: str, key: str) -> TLSConfig:
    """docker-py's TLS settings for a `tcp://` host from its CA, client certificate and key."""
    return HostTLS(client_cert=(cert, key) if cert else None, ca_cert=ca or None, verify=True)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """An exception and every exception it was raised from (docker -> requests -> socket)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def unreachable_reason(exc: BaseException, timeout: float, url: str = "") -> str:
    """Why the engine could not be reached, in a few words; empty when the engine answered."""
    causes = list(_chain(exc))
    if any(isinstance(cause, docker.errors.APIError) for cause in causes):
        return ""  # the engine answered, with a refusal: it is reachable
    if url.startswith("ssh://") and any(
            isinstance(cause, BrokenPipeError | http.client.RemoteDisconnected) for cause in causes):
        # docker-py runs `ssh HOST docker system dial-stdio`; ssh's own message goes to the log.
        return "ssh ended the connection: check the key, known_hosts and that `docker` runs there"
    tls = [cause for cause in causes if isinstance(cause, ssl.SSLError)]
    if tls:
        reason = str(tls[-1].reason or "handshake failed").lower().replace("_", " ")
        verify = getattr(tls[-1], "verify_message", "")
        return f"TLS: {reason}" + (f": {verify}" if verify else "")
    for cause in causes:
        if isinstance(cause, requests.exceptions.SSLError):
            return "TLS: handshake failed"
        if isinstance(cause, requests.exceptions.Timeout | TimeoutError | socket.timeout):
            return f"no answer within {timeout:g} s"
        if isinstance(cause, FileNotFoundError):
            return "no socket at that path"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, PermissionError):
            return "permission denied on the socket"
        if isinstance(cause, socket.gaierror):
            return "unknown host name"
        if isinstance(cause, http.client.RemoteDisconnected):
            return "the connection closed without an answer"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
    if any(isinstance(cause, requests.exceptions.ConnectionError | ConnectionError)
           for cause in causes):
        return "not answering"
    return ""
