"""`docker volume ls/inspect/create/rm` through docker-py's low-level API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import docker.errors

from bot.engine.client import Engine
from bot.engine.networks import natural_key
from bot.engine.results import VolumeRow
from bot.engine.translate import engine_call
from bot.errors import EngineError


def _row(raw: Mapping[str, Any], used_by: tuple[str, ...] = ()) -> VolumeRow:
    usage = raw.get("UsageData") or {}
    return VolumeRow(name=raw["Name"], driver=raw.get("Driver", ""),
                     scope=raw.get("Scope", "local"), mountpoint=raw.get("Mountpoint", ""),
                     labels=dict(raw.get("Labels") or {}), size=int(usage.get("Size", -1)),
                     used_by=used_by)


def no_such_volume(names: Iterable[str]) -> EngineError:
    listed = ", ".join(f"`{n}`" for n in names)
    return EngineError(f"No such volume: {listed}. Nothing was done.",
                       detail="`/docker volume ls` lists the volumes.")


@engine_call
def list_volumes(engine: Engine, filters: Mapping[str, tuple[str, ...]] | None = None
                 ) -> list[VolumeRow]:
    """`docker volume ls [--filter ..]`: one list call, sorted by name as the CLI sorts."""
    answer = engine.api.volumes(filters={k: list(v) for k, v in (filters or {}).items()} or None)
    rows = [_row(v) for v in (answer or {}).get("Volumes") or ()]
    return sorted(rows, key=lambda row: natural_key(row.name))


@engine_call
def inspect_volume(engine: Engine, name: str) -> dict[str, Any]:
    """The engine's JSON for one volume, as `docker volume inspect` prints it."""
    try:
        return dict(engine.api.inspect_volume(name))
    except docker.errors.NotFound:
        raise no_such_volume([name]) from None


def volume_users(engine: Engine) -> dict[str, tuple[str, ...]]:
    """Volume name -> the containers (any state) mounting it: one list call."""
    users: dict[str, list[str]] = {}
    for container in engine.api.containers(all=True):
        name = (container.get("Names") or ["/" + container["Id"][:12]])[0].lstrip("/")
        for mount in container.get("Mounts") or ():
            if mount.get("Type") == "volume" and mount.get("Name"):
                users.setdefault(mount["Name"], []).append(name)
    return {volume: tuple(sorted(names)) for volume, names in users.items()}


@engine_call
def find_volumes(engine: Engine, names: Iterable[str]) -> list[VolumeRow]:
    """Each named volume with the containers using it; all of them or an error naming the rest."""
    users = volume_users(engine)
    found: list[VolumeRow] = []
    missing: list[str] = []
    for name in names:
        try:
            raw = engine.api.inspect_volume(name)
        except docker.errors.NotFound:
            missing.append(name)
            continue
        found.append(_row(raw, users.get(raw["Name"], ())))
    if missing:
        raise no_such_volume(missing)
    return found


@engine_call
def create_volume(engine: Engine, name: str | None = None, *, driver: str | None = None,
                  options: Mapping[str, str] | None = None,
                  labels: Mapping[str, str] | None = None) -> str:
    """`docker volume create`: the volume's name (the engine picks one when none is given)."""
    answer = engine.api.create_volume(name=name, driver=driver or "local",
                                      driver_opts=dict(options or {}) or None,
                                      labels=dict(labels or {}) or None)
    return str(answer.get("Name", name or ""))


@engine_call
def remove_volume(engine: Engine, name: str, *, force: bool = False) -> None:
    """`docker volume rm [-f] NAME`; a missing volume is an error unless forced, as in the CLI."""
    try:
        engine.api.remove_volume(name, force=force)
    except docker.errors.NotFound:
        if not force:
            raise no_such_volume([name]) from None


@engine_call
def volume_options(engine: Engine, names: Iterable[str]) -> dict[str, dict[str, str]]:
    """Each existing volume's local-driver options (type, o, device), for the bind policy."""
    found: dict[str, dict[str, str]] = {}
    for name in names:
        try:
            raw = engine.api.inspect_volume(name)
        except docker.errors.NotFound:
            continue  # the engine creates a plain volume for a new name
        found[name] = dict(raw.get("Options") or {})
    return found
