"""What a container can reach on its host, read from one inspect, for the policy to judge."""

from __future__ import annotations

import dataclasses
import functools
import posixpath
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors

from bot.engine.client import Engine
from bot.engine.translate import engine_call

NAMESPACES = ("pid", "ipc", "network", "uts")
_MODE_KEYS = {"pid": "PidMode", "ipc": "IpcMode", "network": "NetworkMode", "uts": "UTSMode"}
# Where a container runtime's sockets live; binding them (or a parent) hands over the engine.
RUNTIME_DIRS = ("/run", "/var/run")
_SOCKET_NAMES = ("docker.sock", "containerd.sock", "podman.sock")
_CONTAINER_ID = re.compile(r"\b([0-9a-f]{64})\b")
_SHORT_ID = re.compile(r"^[0-9a-f]{12}$")
_MAX_HOPS = 5


@dataclass(frozen=True)
class ContainerPrivileges:
    """The facts about one container that decide whether an operator may use or join it."""

    id: str
    name: str
    privileged: bool = False
    host_namespaces: tuple[str, ...] = ()  # among pid, ipc, network, uts: those set to host
    mounts_docker_socket: bool = False  # a bind of a runtime socket, /run, /var/run or a parent
    bind_sources: tuple[str, ...] = ()  # host paths bound into it, as the engine will resolve them
    is_self: bool = False  # dockops's own container
    devices: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    volume_names: tuple[str, ...] = ()  # named volumes it mounts (their options may bind the host)


def exposes_runtime_socket(source: str) -> bool:
    """Whether binding `source` reaches a container runtime socket (or may: /run, /, /var...)."""
    path = posixpath.normpath(source)
    if any(name in posixpath.basename(path) for name in _SOCKET_NAMES):
        return True
    for runtime in RUNTIME_DIRS:
        if path == runtime or path.startswith(runtime + "/") \
                or runtime.startswith(path.rstrip("/") + "/"):
            return True
    return False


def bind_sources(details: dict[str, Any]) -> tuple[str, ...]:
    """Every host path bound into the container: -v binds, --mount binds, --volumes-from's."""
    host = details.get("HostConfig") or {}
    sources: list[str] = []
    for bind in host.get("Binds") or ():
        source = bind.split(":", 1)[0]
        if source.startswith("/"):
            sources.append(source)
    for mount in [*(host.get("Mounts") or ()), *(details.get("Mounts") or ())]:
        if mount.get("Type") == "bind" and mount.get("Source"):
            sources.append(mount["Source"])
    return tuple(dict.fromkeys(sources))


@functools.cache
def own_container_id() -> str | None:
    """Best effort: the ID (or its 12-character prefix) of the container dockops runs in.

    cgroup v1 names it in /proc/self/cgroup; the engine bind-mounts
    /var/lib/docker/containers/ID/hostname, which /proc/self/mountinfo shows; the default
    hostname is the short ID. None when dockops does not seem to run in a container.
    """
    for line in _read_lines("/proc/self/cgroup"):
        match = _CONTAINER_ID.search(line) if "docker" in line else None
        if match:
            return match.group(1)
    for line in _read_lines("/proc/self/mountinfo"):
        fields = line.split()
        # Only the files the engine mounts into a container: on the engine's own host,
        # mountinfo also lists other containers' shm and overlay mounts.
        if len(fields) > 4 and fields[4] in ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf"):
            match = _CONTAINER_ID.search(fields[3])
            if match:
                return match.group(1)
    hostname = socket.gethostname()
    return hostname if _SHORT_ID.match(hostname) else None


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return []


def from_inspect(details: dict[str, Any], own_id: str | None = None) -> ContainerPrivileges:
    """The privileges one `inspect` shows (own_id: dockops's container ID or prefix)."""
    host = details.get("HostConfig") or {}
    sources = bind_sources(details)
    return ContainerPrivileges(
        id=details["Id"], name=details.get("Name", "").lstrip("/") or details["Id"][:12],
        privileged=bool(host.get("Privileged")),
        host_namespaces=tuple(kind for kind in NAMESPACES
                              if (host.get(_MODE_KEYS[kind]) or "").lower() == "host"),
        mounts_docker_socket=any(exposes_runtime_socket(source) for source in sources),
        bind_sources=sources,
        is_self=bool(own_id) and details["Id"].startswith(own_id or "-"),
        devices=tuple(d.get("PathOnHost", "") for d in host.get("Devices") or ()),
        cap_add=tuple(host.get("CapAdd") or ()),
        volume_names=tuple(dict.fromkeys(
            mount["Name"] for mount in details.get("Mounts") or ()
            if mount.get("Type") == "volume" and mount.get("Name"))),
    )


def _shared_host_namespaces(engine: Engine, details: dict[str, Any]) -> set[str]:
    """Namespaces that reach the host through `container:OTHER` chains (joining a joiner)."""
    found = set()
    for kind in NAMESPACES:
        mode = (details.get("HostConfig") or {}).get(_MODE_KEYS[kind]) or ""
        for _hop in range(_MAX_HOPS):
            if not mode.lower().startswith("container:"):
                break
            try:
                other = engine.api.inspect_container(mode.split(":", 1)[1])
            except docker.errors.NotFound:  # the engine refuses to start such a container
                mode = ""
                break
            mode = (other.get("HostConfig") or {}).get(_MODE_KEYS[kind]) or ""
        else:
            mode = "host"  # a chain this long is suspicious: count it as the host's
        if mode.lower() == "host":
            found.add(kind)
    return found


@engine_call
def container_privileges(engine: Engine, container: str) -> ContainerPrivileges | None:
    """What `container` can reach (one inspect, more for container: chains); None if missing."""
    try:
        details = engine.api.inspect_container(container)
    except docker.errors.NotFound:
        return None
    facts = from_inspect(details, own_container_id())
    chained = _shared_host_namespaces(engine, details) - set(facts.host_namespaces)
    if not chained:
        return facts
    return dataclasses.replace(facts, host_namespaces=tuple(
        kind for kind in NAMESPACES if kind in chained or kind in facts.host_namespaces))
