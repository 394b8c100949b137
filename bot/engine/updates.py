"""Is a newer image behind a tag? The registry's digest (no pull), the local one, and the
containers that watch it. Pulling is `bot.engine.registry.pull`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import docker.errors

from bot import refs
from bot.engine.client import Engine
from bot.engine.translate import engine_call
from bot.errors import EngineError


@dataclass(frozen=True)
class LocalImage:
    """What the engine holds under a tag: its ID and the registry digest it came with."""

    ref: str
    id: str  # "" when the tag is not on this engine
    digest: str  # "" when it never came from (or went to) a registry
    size: int = 0
    os: str = "linux"
    arch: str = "amd64"


@dataclass(frozen=True)
class Watcher:
    """A container and the image reference it was created from."""

    id: str
    name: str
    ref: str
    image_id: str
    state: str
    labels: dict[str, str]


@engine_call
def registry_digest(engine: Engine, ref: str, auth: dict[str, str] | None = None) -> str:
    """The digest the registry serves for `ref` now: a manifest request through the engine
    (the fallback of bot.registry's direct HEAD: four round trips, one of them a GET).

    `GET /distribution/REF/json` makes the engine ask the registry for the manifest
    (HEAD/GET) and nothing else: no layer is downloaded and the local tag does not move.
    """
    data = engine.api.inspect_distribution(refs.normalize(ref), auth_config=auth)
    digest = (data.get("Descriptor") or {}).get("digest") or ""
    if not digest:
        raise EngineError(f"The registry answered for {ref} without a digest.")
    return digest


@engine_call
def local_image(engine: Engine, ref: str) -> LocalImage:
    """The local image behind `ref` and its repo digest for that repository."""
    ref = refs.normalize(ref)
    try:
        raw = engine.api.inspect_image(ref)
    except docker.errors.ImageNotFound:
        return LocalImage(ref, "", "")
    return LocalImage(ref, raw["Id"], refs.repo_digest(raw.get("RepoDigests") or (), ref),
                      int(raw.get("Size") or 0), raw.get("Os") or "linux",
                      raw.get("Architecture") or "amd64")


@engine_call
def local_images(engine: Engine, wanted: Iterable[str]) -> dict[str, LocalImage]:
    """The local images behind many references in one list call (no inspect per image)."""
    found = {ref: LocalImage(ref, "", "") for ref in wanted}
    for row in engine.api.images():
        for tag in row.get("RepoTags") or ():
            try:
                ref = refs.normalize(tag)
            except refs.InvalidReference:
                continue  # <none>:<none>
            if ref in found:
                found[ref] = LocalImage(ref, row["Id"], refs.repo_digest(
                    row.get("RepoDigests") or (), ref), int(row.get("Size") or 0))
    return found


@engine_call
def registry_config(engine: Engine) -> dict[str, Any]:
    """The daemon's registry settings (`info`'s RegistryConfig): which registries it calls
    insecure, so dockops reaches them as the engine does."""
    return engine.api.info().get("RegistryConfig") or {}


@engine_call
def watchers(engine: Engine, *, label: str | None = None) -> list[Watcher]:
    """Containers (running or not) in one list call, optionally those with a label."""
    filters = {"label": [label]} if label else None
    rows = engine.api.containers(all=True, filters=filters)
    return [Watcher(id=row["Id"], name=(row.get("Names") or ["/?"])[0].lstrip("/"),
                    ref=row.get("Image") or "", image_id=row.get("ImageID") or "",
                    state=row.get("State") or "", labels=row.get("Labels") or {})
            for row in rows]

