"""`docker network ls/inspect/create/rm/connect/disconnect` through docker-py's low-level API."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import docker.errors
from docker.types import IPAMConfig, IPAMPool

from bot.engine.client import Engine
from bot.engine.results import NetworkRow
from bot.engine.translate import engine_call
from bot.errors import EngineError

# The engine's own networks: never removed (the engine refuses; dockops says so first).
PREDEFINED = frozenset({"bridge", "host", "none"})
_CHUNK = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """The CLI's sort order for networks and volumes (sortorder.NaturalLess): `n2` < `n10`."""
    return tuple((1, int(part)) if part.isdigit() else (0, part)
                 for part in _CHUNK.split(name) if part)


def go_time(created: str) -> str:
    """The engine's RFC 3339 time as the CLI prints CreatedAt (Go's time.String(), UTC)."""
    if not created or not created.endswith("Z"):
        return created
    return created[:-1].replace("T", " ", 1) + " +0000 UTC"


def _row(raw: Mapping[str, Any]) -> NetworkRow:
    containers = raw.get("Containers") or {}
    return NetworkRow(
        id=raw["Id"], name=raw.get("Name", ""), driver=raw.get("Driver", ""),
        scope=raw.get("Scope", ""), created=go_time(raw.get("Created", "")),
        internal=bool(raw.get("Internal")), ipv6=bool(raw.get("EnableIPv6")),
        labels=dict(raw.get("Labels") or {}),
        containers=tuple(sorted(c.get("Name", cid[:12]) for cid, c in containers.items())))


def no_such_network(names: Iterable[str]) -> EngineError:
    listed = ", ".join(f"`{n}`" for n in names)
    return EngineError(f"No such network: {listed}. Nothing was done.",
                       detail="`/docker network ls` lists the networks.")


@engine_call
def list_networks(engine: Engine, filters: Mapping[str, tuple[str, ...]] | None = None
                  ) -> list[NetworkRow]:
    """`docker network ls [--filter ..]`: one list call, sorted by name as the CLI sorts."""
    raw = engine.api.networks(filters={k: list(v) for k, v in (filters or {}).items()} or None)
    return sorted((_row(n) for n in raw), key=lambda row: natural_key(row.name))


@engine_call
def inspect_network(engine: Engine, name: str) -> dict[str, Any]:
    """The engine's JSON for one network, as `docker network inspect` prints it."""
    try:
        return dict(engine.api.inspect_network(name))
    except docker.errors.NotFound:
        raise no_such_network([name]) from None


@engine_call
def find_networks(engine: Engine, names: Iterable[str]) -> list[NetworkRow]:
    """Each named network with the containers attached (one inspect each); all or an error."""
    found: list[NetworkRow] = []
    missing: list[str] = []
    for name in names:
        try:
            found.append(_row(engine.api.inspect_network(name)))
        except docker.errors.NotFound:
            missing.append(name)
    if missing:
        raise no_such_network(missing)
    return found


@engine_call
def create_network(engine: Engine, name: str, *, driver: str | None = None,
                   subnets: Iterable[str] = (), labels: Mapping[str, str] | None = None,
                   internal: bool = False, attachable: bool = False) -> str:
    """`docker network create`: the new network's ID (check_duplicate, as the CLI does)."""
    pools = [IPAMPool(subnet=subnet) for subnet in subnets]
    ipam = IPAMConfig(pool_configs=pools) if pools else None
    answer = engine.api.create_network(name, driver=driver, ipam=ipam, labels=dict(labels or {}),
                                       internal=internal, attachable=attachable or None,
                                       check_duplicate=True)
    return str(answer.get("Id", ""))


@engine_call
def remove_network(engine: Engine, name: str) -> None:
    """`docker network rm NAME`."""
    try:
        engine.api.remove_network(name)
    except docker.errors.NotFound:
        raise no_such_network([name]) from None


@engine_call
def connect(engine: Engine, network: str, container: str, *,
            aliases: Iterable[str] = ()) -> None:
    """`docker network connect [--alias A] NETWORK CONTAINER`."""
    engine.api.connect_container_to_network(container, network, aliases=list(aliases) or None)


@engine_call
def disconnect(engine: Engine, network: str, container: str, *, force: bool = False) -> None:
    """`docker network disconnect [-f] NETWORK CONTAINER`."""
    engine.api.disconnect_container_from_network(container, network, force=force)
