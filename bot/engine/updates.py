"""Is a newer image behind a tag? The registry's digest (no pull), the local one, and the
containers that watch it. Pulling is `bot.engine.registry.pull`."""

from __future__ import annotations

from dataclasses import dataclass

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
    """The digest the registry serves for `ref` now: a manifest request through the engine.

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
    return LocalImage(ref, raw["Id"], refs.repo_digest(raw.get("RepoDigests") or (), ref))


@engine_call
def watchers(engine: Engine, *, label: str | None = None) -> list[Watcher]:
    """Containers (running or not) in one list call, optionally those with a label."""
    filters = {"label": [label]} if label else None
    rows = engine.api.containers(all=True, filters=filters)
    return [Watcher(id=row["Id"], name=(row.get("Names") or ["/?"])[0].lstrip("/"),
                    ref=row.get("Image") or "", image_id=row.get("ImageID") or "",
                    state=row.get("State") or "", labels=row.get("Labels") or {})
            for row in rows]

