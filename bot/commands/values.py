"""What a command line says once it is read: typed values for policy and the engine.

Plain data with no docker-py: the flag kinds (bot/commands/kinds.py) build them at parse
time, policy checks them, and the engine turns them into API calls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

# A `-v` source that is a volume name; anything else (a path) is a bind of the host.
VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Pair:
    """One `KEY=VALUE` word (`-e`, `--label`, `--build-arg`, `--filter`)."""

    key: str
    value: str

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


@dataclass(frozen=True)
class PortSpec:
    """One `-p [IP:][HOST:]CONTAINER[/PROTO]`; host_port None = any free port."""

    container_port: int
    protocol: str = "tcp"
    host_ip: str | None = None
    host_port: int | None = None

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.protocol}"


@dataclass(frozen=True)
class VolumeSpec:
    """One `-v`: a named volume, an anonymous volume (no source) or a host path (a bind)."""

    source: str | None
    target: str
    mode: str = ""
    text: str = field(default="", compare=False)  # as typed, for refusals that quote it

    @property
    def is_bind(self) -> bool:
        return self.source is not None and not VOLUME_NAME.match(self.source)

    @property
    def bind_string(self) -> str:
        return f"{self.source}:{self.target}" + (f":{self.mode}" if self.mode else "")


@dataclass(frozen=True)
class MountSpec:
    """One `--mount type=...,source=...,target=...[,readonly]`."""

    type: str
    target: str
    source: str = ""
    read_only: bool = False
    # The keys not read above (bind-propagation, volume-nocopy, volume-driver, ...).
    options: Mapping[str, str] = field(default_factory=dict)
    tmpfs_size: int | None = None
    text: str = field(default="", compare=False)  # as typed, for refusals that quote it


@dataclass(frozen=True)
class RestartSpec:
    """`--restart no|always|unless-stopped|on-failure[:N]`."""

    name: str
    max_retries: int = 0

    def __str__(self) -> str:
        return self.name + (f":{self.max_retries}" if self.max_retries else "")


@dataclass(frozen=True)
class LabelFilter:
    """`label=KEY`, `label=KEY=VALUE`, `label!=KEY`, `label!=KEY=VALUE`."""

    key: str
    value: str | None
    negate: bool

    def matches(self, labels: Mapping[str, str]) -> bool:
        hit = self.key in labels and (self.value is None or labels[self.key] == self.value)
        return not hit if self.negate else hit

    def __str__(self) -> str:
        value = "" if self.value is None else f"={self.value}"
        return f"label{'!' if self.negate else ''}={self.key}{value}"


@dataclass(frozen=True)
class PruneFilters:
    """`image prune --filter`: an age (`until=24h`) and label rules."""

    until: timedelta | None = None
    labels: tuple[LabelFilter, ...] = ()


@dataclass(frozen=True)
class RunRequest:
    """A `docker run`, validated: what create + start will be asked to do."""

    image: str
    command: tuple[str, ...] = ()
    name: str | None = None
    detach: bool = False
    remove: bool = False
    env: tuple[Pair, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[PortSpec, ...] = ()
    restart: RestartSpec | None = None
    workdir: str | None = None
    entrypoint: str | None = None
    volumes: tuple[VolumeSpec, ...] = ()
    mounts: tuple[MountSpec, ...] = ()
    network: str | None = None
    user: str | None = None
    hostname: str | None = None
    memory: int | None = None
    nano_cpus: int | None = None
    privileged: bool = False
    cap_add: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    pid: str | None = None
    ipc: str | None = None
    security_opt: tuple[str, ...] = ()
    uts: str | None = None
    volumes_from: tuple[str, ...] = ()
