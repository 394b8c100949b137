"""Plain results the engine layer returns: no docker-py object crosses it.

Views read these; this module imports nothing from docker-py (tests/test_views_light.py checks).
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
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
    image_id: str = ""
    names: tuple[str, ...] = ()  # every name, `/` stripped (links included)
    size_rw: int | None = None  # with `ps -s` only
    size_root_fs: int | None = None
    mounts: tuple[str, ...] = ()  # volume name, or source path for binds
    local_volumes: int = 0
    networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImageRow:
    """One line of `images`."""

    id: str
    repository: str
    tag: str
    digest: str
    created: datetime
    size: int
    containers: int = -1  # -1: the engine did not count
    shared_size: int = -1


@dataclass(frozen=True)
class ProcessList:
    """`docker top`: the engine's ps columns and one row per process."""

    container: str
    titles: tuple[str, ...]
    processes: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Spool:
    """Output written to a temporary file (a whole log), uploaded from disk in pieces.

    The file is deleted once nothing holds this object any more (or at exit).
    """

    path: str
    size: int

    def __post_init__(self) -> None:
        weakref.finalize(self, _unlink_quietly, self.path)


SPOOL_PREFIX = "dockops-log-"  # a Spool deletes only a file it could have made


def _unlink_quietly(path: str) -> None:
    if os.path.basename(path).startswith(SPOOL_PREFIX):
        with contextlib.suppress(OSError, ValueError):
            os.unlink(path)


@dataclass(frozen=True)
class LogText:
    """A bounded piece of a container's log; `whole` holds all of it when it was spooled."""

    container: str
    text: str
    lines: int
    truncated: bool = False
    total_lines: int = 0  # lines in the whole log (with `whole`); 0 when only `text` was read
    whole: Spool | None = None


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
class VolumeUsage:
    """A volume in `system df -v`: -1 where the engine did not measure."""

    name: str
    links: int
    size: int


@dataclass(frozen=True)
class BuildCacheUsage:
    """A build cache record in `system df -v`."""

    id: str
    type: str
    size: int
    created: datetime
    last_used: datetime | None
    usage_count: int
    shared: bool
    in_use: bool


@dataclass(frozen=True)
class DiskUsageReport:
    """`system df -v`: the summary rows and what each row counts."""

    rows: tuple[DiskUsageRow, ...]
    images: tuple[ImageRow, ...]  # first tag of each image only, as the CLI
    containers: tuple[ContainerRow, ...]
    volumes: tuple[VolumeUsage, ...]
    build_cache: tuple[BuildCacheUsage, ...]


@dataclass(frozen=True)
class VersionComponent:
    """One part of the server in `docker version` (Engine, containerd, runc, docker-init)."""

    name: str
    version: str
    details: tuple[tuple[str, str], ...]


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
    platform: str = ""
    components: tuple[VersionComponent, ...] = ()


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
    # The engine's whole `/info` answer (plain JSON), for the CLI's full `docker info` layout.
    details: dict[str, Any] = field(default_factory=dict)


# -- run, start -a, exec, multi-name verbs, previews (engine/lifecycle.py) ----------------------

@dataclass(frozen=True)
class Started:
    """A detached run: what the CLI prints, plus where its ports landed."""

    id: str
    name: str
    ports: tuple[str, ...]
    removed_on_exit: bool


@dataclass(frozen=True)
class Attached:
    """An attached run (or `start -a`): its exit code, or None when it outlived the wait."""

    id: str
    name: str
    exit_code: int | None
    output: str
    output_cut: bool
    waited: float
    removed_on_exit: bool = False

    @property
    def finished(self) -> bool:
        return self.exit_code is not None


@dataclass(frozen=True)
class Done:
    """What happened to one container (or image) of a multi-name command."""

    name: str
    ok: bool
    error: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Target:
    """A container a command names, as one list call shows it."""

    typed: str
    id: str
    name: str
    image: str
    state: str
    status: str
    auto_remove: bool = False  # `run --rm`: the engine removes it once it stops
    stop_timeout: int | None = None  # `--stop-timeout`: what `stop` waits without -t


@dataclass(frozen=True)
class ExecResult:
    """A command run in a container: its exit code (None: still running) and output."""

    container: str
    command: tuple[str, ...]
    exit_code: int | None
    output: str = ""
    output_cut: bool = False
    detached: bool = False


# -- cp (engine/copy.py) ---------------------------------------------------------------------

_DIR_BIT = 1 << 31  # Go's os.ModeDir, as the engine reports modes
_LINK_BIT = 1 << 27  # os.ModeSymlink


@dataclass(frozen=True)
class PathStat:
    """What the engine says about a path in a container."""

    name: str
    size: int
    mode: int
    link_target: str = ""

    @property
    def is_dir(self) -> bool:
        return bool(self.mode & _DIR_BIT)

    @property
    def is_link(self) -> bool:
        return bool(self.mode & _LINK_BIT)


# -- build (engine/build.py) -----------------------------------------------------------------

@dataclass(frozen=True)
class BuildProgress:
    """Where a running build is: its current step and the last lines it printed."""

    step: str
    recent: tuple[str, ...]


@dataclass(frozen=True)
class BuildResult:
    """How a build ended. On failure `step` is the failing step and `error` the engine's reason."""

    ok: bool
    image_id: str
    tags: tuple[str, ...]
    step: str
    error: str
    log: str
    seconds: float

    def tail(self, count: int = 15) -> str:
        return "\n".join(self.log.rstrip("\n").splitlines()[-count:])


# -- push, pull, login (engine/registry.py) --------------------------------------------------

@dataclass(frozen=True)
class LayerProgress:
    """A push or pull in flight: how many layers are done and the bytes moved so far."""

    reference: str
    layers: int
    done: int
    current: int
    total: int
    status: str


@dataclass(frozen=True)
class PushResult:
    reference: str
    digest: str
    size: int
    layers: int
    seconds: float


@dataclass(frozen=True)
class PullResult:
    """A pull, with the local image before and after it."""

    reference: str
    updated: bool
    id_before: str
    id_after: str
    digest_before: str
    digest_after: str
    status: str
    seconds: float


@dataclass(frozen=True)
class LoginResult:
    registry: str
    ok: bool
    status: str


# -- image prune, rmi (engine/prune.py) -------------------------------------------------------

@dataclass(frozen=True)
class PruneImage:
    """An image a prune would remove (or skipped, with the reason)."""

    id: str
    tags: tuple[str, ...]
    size: int
    created: datetime
    reason: str = ""  # why it is skipped; empty for a planned image
    digests: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return ", ".join(self.tags) if self.tags else "<none>"


@dataclass(frozen=True)
class PrunePlan:
    """What a prune would remove, and what it leaves and why. Nothing has been deleted."""

    images: tuple[PruneImage, ...]
    skipped: tuple[PruneImage, ...]
    all: bool
    until: timedelta | None
    labels: tuple[str, ...]
    keep: tuple[str, ...]

    @property
    def total_bytes(self) -> int:
        """Bytes reclaimed at most: shared layers are counted with every image holding them."""
        return sum(image.size for image in self.images)

    def only(self, image_ids: Iterable[str]) -> PrunePlan:
        """The plan limited to `image_ids` (what a confirmed preview showed): never more."""
        shown = set(image_ids)
        return replace(self, images=tuple(i for i in self.images if i.id in shown))


@dataclass(frozen=True)
class PruneResult:
    """What a prune did: images removed, images the engine refused, bytes reclaimed."""

    removed: tuple[PruneImage, ...]
    failed: tuple[tuple[PruneImage, str], ...]
    untagged: tuple[str, ...]
    # The engine's own count (its image prune's SpaceReclaimed): the sizes of the layers the
    # removals deleted; -1 when not measured.
    space_reclaimed: int = -1
    deleted: tuple[str, ...] = ()  # every ID the engine said it deleted (images, parents, layers)

    @property
    def reclaimed_bytes(self) -> int:
        return sum(image.size for image in self.removed)


@dataclass(frozen=True)
class ImageTarget:
    """An image `rmi` names: what removing that reference would do."""

    typed: str
    id: str
    tags: tuple[str, ...]
    size: int
    used_by: tuple[tuple[str, str], ...]  # (container name, state)

    @property
    def untag_only(self) -> bool:
        """Removing a name:tag of an image with other tags only untags it."""
        return len(self.tags) > 1 and self.typed in self.tags


# -- networks, volumes, container/system prune (engine/networks.py, volumes.py, pruning.py) --

@dataclass(frozen=True)
class NetworkRow:
    """One line of `network ls` (and what `network rm` / a prune would remove)."""

    id: str
    name: str
    driver: str
    scope: str
    created: str = ""  # as the CLI prints CreatedAt: Go's time.String()
    internal: bool = False
    ipv6: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    containers: tuple[str, ...] = ()  # names of the containers attached (inspect only)


@dataclass(frozen=True)
class VolumeRow:
    """One line of `volume ls`; `size` -1 when the engine did not measure it."""

    name: str
    driver: str
    scope: str = "local"
    mountpoint: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    size: int = -1
    used_by: tuple[str, ...] = ()  # container names (for rm and prune previews)


@dataclass(frozen=True)
class PruneItem:
    """One object a prune would remove: kind (container, network, volume, image), key, size."""

    kind: str
    key: str  # container/network/image ID, volume name: what the confirmation pins
    label: str  # what the preview shows (a name, tags)
    size: int = -1  # bytes the engine counts for it; -1 when it counts none (networks)


@dataclass(frozen=True)
class ObjectPrunePlan:
    """What `container|volume|system prune` would remove. Nothing has been deleted."""

    items: tuple[PruneItem, ...]
    scope: tuple[str, ...]  # the CLI's WARNING lines: "all stopped containers", ...
    build_cache: int = 0  # bytes of build cache the prune would consider
    build_cache_entries: int = 0

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f"{i.kind}:{i.key}" for i in self.items)


@dataclass(frozen=True)
class ObjectPruneReport:
    """The engine's own answer to the prune calls, in the CLI's order."""

    deleted: tuple[tuple[str, tuple[str, ...]], ...]  # ("Containers", (ids...)), ...
    space_reclaimed: int


# -- stats, port, wait, diff, history, events (engine/runtime.py) ----------------------------

@dataclass(frozen=True)
class ContainerStats:
    """One `docker stats` row, computed as docker/cli's stats_helpers.go does (memory without
    the page cache); `valid` is False when the engine gave no sample (the CLI's `--`)."""

    id: str
    name: str
    cpu_percent: float = 0.0
    memory: float = 0.0
    memory_limit: float = 0.0
    memory_percent: float = 0.0
    net_rx: float = 0.0
    net_tx: float = 0.0
    block_read: float = 0.0
    block_write: float = 0.0
    pids: int = 0
    valid: bool = True


@dataclass(frozen=True)
class WaitResult:
    """`docker wait` for one container: its exit code, or None when the deadline came first."""

    name: str
    exit_code: int | None = None
    error: str = ""


@dataclass(frozen=True)
class FileChange:
    """One line of `docker diff`: kind is C (changed), A (added) or D (deleted)."""

    kind: str
    path: str


@dataclass(frozen=True)
class HistoryRow:
    """One layer of `docker history`: ID is `<missing>` for layers built elsewhere."""

    id: str
    created: datetime | None
    created_by: str
    size: int
    comment: str


@dataclass(frozen=True)
class EngineEvent:
    """One engine event as `docker events` prints it."""

    time_nano: int
    type: str
    action: str
    actor_id: str
    attributes: tuple[tuple[str, str], ...] = ()
    # The engine's own fields as `--format` reads them (status, id, from, scope, time...).
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)
