"""Plain results the engine layer returns: no docker-py object crosses it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ContainerRow:
    """One line of `ps`."""

    id: str
    name: str
    image: str
    command: str
    created: datetime
    state: str
    status: str
    ports: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)
    size: str = ""


@dataclass(frozen=True)
class ImageRow:
    """One line of `images`."""

    id: str
    repository: str
    tag: str
    digest: str
    created: datetime
    size: int


@dataclass(frozen=True)
class LogText:
    """A bounded piece of a container's log."""

    container: str
    text: str
    lines: int
    truncated: bool = False


@dataclass(frozen=True)
class ContainerDetails:
    """What `inspect` summarises; env already masked."""

    id: str
    name: str
    image: str
    image_id: str
    command: str
    created: datetime
    started: datetime | None
    finished: datetime | None
    state: str
    exit_code: int
    restart_count: int
    restart_policy: str
    health: str
    ports: tuple[str, ...]
    mounts: tuple[str, ...]
    networks: tuple[str, ...]
    labels: dict[str, str]
    env: tuple[str, ...]
    raw: dict[str, Any]


@dataclass(frozen=True)
class ImageDetails:
    """What `image inspect` summarises; env already masked."""

    id: str
    tags: tuple[str, ...]
    digests: tuple[str, ...]
    created: datetime
    os: str
    architecture: str
    size: int
    exposed_ports: tuple[str, ...]
    env: tuple[str, ...]
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    workdir: str
    user: str
    labels: dict[str, str]
    layers: int
    raw: dict[str, Any]


@dataclass(frozen=True)
class DiskUsageRow:
    kind: str
    total: int
    active: int
    size: int
    reclaimable: int


@dataclass(frozen=True)
class VersionInfo:
    version: str
    api_version: str
    min_api_version: str
    os: str
    arch: str
    kernel: str
    go_version: str
    git_commit: str
    built: str
    client_library: str


@dataclass(frozen=True)
class EngineInfo:
    name: str
    server_version: str
    os: str
    kernel: str
    arch: str
    cpus: int
    memory: int
    containers: int
    running: int
    paused: int
    stopped: int
    images: int
    storage_driver: str
    docker_root: str
    warnings: tuple[str, ...]
