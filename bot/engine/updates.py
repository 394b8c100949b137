"""Is a newer image behind a tag? The registry's digest (no pull), the local one, and pulls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import docker.errors

from bot.engine.client import Engine
from bot.engine.translate import engine_call
from bot.errors import EngineError

_HUB_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/",
                 "index.docker.io/")


def normalize_ref(ref: str) -> str:
    """`repo` -> `repo:latest`; a registry port is not a tag; digests are kept."""
    if "@" in ref:
        return ref
    last = ref.rsplit("/", 1)[-1]
    return ref if ":" in last else f"{ref}:latest"


def repository(ref: str) -> str:
    """The repository part of a reference, as the engine names it in RepoDigests."""
    name = normalize_ref(ref).split("@", 1)[0].rsplit(":", 1)[0]
    for prefix in _HUB_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


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
    data = engine.api.inspect_distribution(normalize_ref(ref), auth_config=auth)
    digest = (data.get("Descriptor") or {}).get("digest") or ""
    if not digest:
        raise EngineError(f"The registry answered for {ref} without a digest.")
    return digest


@engine_call
def local_image(engine: Engine, ref: str) -> LocalImage:
    """The local image behind `ref` and its repo digest for that repository."""
    ref = normalize_ref(ref)
    try:
        raw = engine.api.inspect_image(ref)
    except docker.errors.ImageNotFound:
        return LocalImage(ref, "", "")
    return LocalImage(ref, raw["Id"], repo_digest(raw, ref))


def repo_digest(raw: dict[str, Any], ref: str) -> str:
    """The `sha256:...` in RepoDigests that belongs to `ref`'s repository ('' when none)."""
    wanted = repository(ref)
    for entry in raw.get("RepoDigests") or ():
        name, _, digest = entry.partition("@")
        if repository(name) == wanted:
            return digest
    return ""


@engine_call
def watchers(engine: Engine, *, label: str | None = None) -> list[Watcher]:
    """Containers (running or not) in one list call, optionally those with a label."""
    filters = {"label": [label]} if label else None
    rows = engine.api.containers(all=True, filters=filters)
    return [Watcher(id=row["Id"], name=(row.get("Names") or ["/?"])[0].lstrip("/"),
                    ref=row.get("Image") or "", image_id=row.get("ImageID") or "",
                    state=row.get("State") or "", labels=row.get("Labels") or {})
            for row in rows]


def is_image_id(ref: str) -> bool:
    """True when a container was created from an image ID, not a name (nothing to watch)."""
    bare = ref.removeprefix("sha256:")
    return ref.startswith("sha256:") or (len(bare) in (12, 64) and
                                         all(c in "0123456789abcdef" for c in bare))


@engine_call
def pull(engine: Engine, ref: str, auth: dict[str, str] | None = None) -> LocalImage:
    """Pull `ref`; errors inside the progress stream raise (docker-py does not)."""
    ref = normalize_ref(ref)
    repo, _, tag = ref.rpartition(":")
    for event in engine.api.pull(repo, tag=tag, stream=True, decode=True, auth_config=auth):
        error = event.get("error") or (event.get("errorDetail") or {}).get("message")
        if error:
            raise EngineError(f"Pulling {ref} failed: {error}")
    return local_image(engine, ref)
