"""`container prune`, `volume prune`, `system prune`: planned first, then the engine's own prunes.

The plan reads what the engine's prune will take, with the same rules (stopped containers,
networks with no endpoints, unreferenced local volumes, images as `image prune`) and the
same filters, and deletes nothing. The prune itself is the engine's (`POST /*/prune` with
those filters, as the CLI sends), so its report carries the engine's own `SpaceReclaimed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import docker.errors

from bot.commands.kinds import parse_label_filter
from bot.engine.client import Engine
from bot.engine.networks import PREDEFINED
from bot.engine.prune import freed_by_image, plan_prune
from bot.engine.results import ObjectPrunePlan, ObjectPruneReport, PruneItem
from bot.engine.translate import engine_call
from bot.timeparse import from_docker, parse_time

Filters = Mapping[str, Sequence[str]]
_STOPPED = ("created", "exited", "dead")
ANONYMOUS = "com.docker.volume.anonymous"


@dataclass(frozen=True)
class PruneScope:
    """Which prunes run, as `docker system prune [-a] [--volumes]` or one `X prune` chooses."""

    containers: bool = False
    networks: bool = False
    volumes: bool = False
    images: bool = False
    build_cache: bool = False
    all: bool = False  # images: every unused one; volumes: named ones too (API >= 1.42)
    filters: Filters = field(default_factory=dict)


def _labels_match(filters: Filters, labels: Mapping[str, str]) -> bool:
    """The engine's matchLabels: every `label` matches, and not every `label!` does."""
    if not all(parse_label_filter(f"label={v}").matches(labels) for v in filters.get("label", ())):
        return False
    negated = filters.get("label!", ())
    return not (negated and all(parse_label_filter(f"label={v}").matches(labels)
                                for v in negated))


def _before_until(filters: Filters, created: datetime | None) -> bool:
    """Created before every `until` (the engine keeps the newest-looking bound)."""
    if created is None:
        return True
    return all(created < parse_time(value) for value in filters.get("until", ()))


def _engine_filters(filters: Filters) -> dict[str, list[str]]:
    return {key: list(values) for key, values in filters.items() if values}


def _name(raw: Mapping[str, Any]) -> str:
    return (raw.get("Names") or ["/" + raw["Id"][:12]])[0].lstrip("/")


def _plan_containers(engine: Engine, filters: Filters) -> list[PruneItem]:
    rows = engine.api.containers(all=True, size=True, filters={"status": list(_STOPPED)})
    return [PruneItem("container", raw["Id"], _name(raw), int(raw.get("SizeRw") or 0))
            for raw in rows
            if _labels_match(filters, raw.get("Labels") or {})
            and _before_until(filters, from_docker(raw.get("Created")))]


def _plan_networks(engine: Engine, filters: Filters) -> list[PruneItem]:
    items = []
    for raw in engine.api.networks():
        if raw.get("Name") in PREDEFINED or raw.get("Scope") == "swarm" or raw.get("Ingress"):
            continue
        if not _labels_match(filters, raw.get("Labels") or {}):
            continue
        if not _before_until(filters, from_docker(raw.get("Created"))):
            continue
        try:
            details = engine.api.inspect_network(raw["Id"])  # the list leaves Containers empty
        except docker.errors.NotFound:
            continue  # removed since the list
        if not details.get("Containers"):
            items.append(PruneItem("network", raw["Id"], raw.get("Name", "")))
    return items


def _anonymous_only(engine: Engine, all: bool) -> bool:
    """From API 1.42 the engine's volume prune takes only anonymous volumes unless `all=true`."""
    version = tuple(int(p) for p in str(engine.api.api_version).split("."))
    return version >= (1, 42) and not all


def _plan_volumes(engine: Engine, filters: Filters, all: bool,
                  sizes: Mapping[str, int]) -> list[PruneItem]:
    used = {mount.get("Name") for raw in engine.api.containers(all=True)
            for mount in raw.get("Mounts") or () if mount.get("Type") == "volume"}
    anonymous_only = _anonymous_only(engine, all)
    items = []
    for raw in (engine.api.volumes() or {}).get("Volumes") or ():
        labels = raw.get("Labels") or {}
        if raw.get("Driver") != "local" or raw["Name"] in used:
            continue
        if anonymous_only and ANONYMOUS not in labels:
            continue
        if _labels_match(filters, labels):
            items.append(PruneItem("volume", raw["Name"], raw["Name"], sizes.get(raw["Name"], -1)))
    return items


def _plan_images(engine: Engine, scope: PruneScope) -> list[PruneItem]:
    labels = [parse_label_filter(f"label={v}") for v in scope.filters.get("label", ())]
    labels += [parse_label_filter(f"label!={v}") for v in scope.filters.get("label!", ())]
    untils = [datetime.now(UTC) - parse_time(v) for v in scope.filters.get("until", ())]
    plan = plan_prune(engine, all=scope.all, until=max(untils) if untils else None, labels=labels)
    freed = freed_by_image(engine, plan.images)  # what the engine will count, not SIZE
    return [PruneItem("image", image.id, image.label, freed.get(image.id, 0))
            for image in plan.images]


def _scope_lines(scope: PruneScope, anonymous_only: bool) -> tuple[str, ...]:
    """The CLI's WARNING list for this prune."""
    lines = []
    if scope.containers:
        lines.append("all stopped containers")
    if scope.networks:
        lines.append("all networks not used by at least one container")
    if scope.volumes:
        lines.append("all anonymous volumes not used by at least one container" if anonymous_only
                     else "all volumes not used by at least one container")
    if scope.images:
        lines.append("all images without at least one container associated to them"
                     if scope.all else "all dangling images")
    if scope.build_cache:
        lines.append("all build cache" if scope.all else "unused build cache")
    return tuple(lines)


@engine_call
def plan_objects(engine: Engine, scope: PruneScope) -> ObjectPrunePlan:
    """What the prunes in `scope` would remove now, with the bytes the engine counts. Read only."""
    usage: dict[str, Any] = engine.api.df() if (scope.volumes or scope.build_cache) else {}
    sizes = {v["Name"]: int((v.get("UsageData") or {}).get("Size", -1))
             for v in usage.get("Volumes") or ()}
    items: list[PruneItem] = []
    if scope.containers:
        items += _plan_containers(engine, scope.filters)
    if scope.networks:
        items += _plan_networks(engine, scope.filters)
    if scope.volumes:
        items += _plan_volumes(engine, scope.filters, scope.all, sizes)
    if scope.images:
        items += _plan_images(engine, scope)
    # Build cache carries no labels: a label filter never matches it, so it is left alone.
    labelled = bool(scope.filters.get("label") or scope.filters.get("label!"))
    cache = [c for c in usage.get("BuildCache") or ()
             if not labelled and not c.get("InUse") and (scope.all or not c.get("Shared"))]
    return ObjectPrunePlan(
        tuple(items), _scope_lines(scope, scope.volumes and _anonymous_only(engine, scope.all)),
        build_cache=sum(int(c.get("Size") or 0) for c in cache) if scope.build_cache else 0,
        build_cache_entries=len(cache) if scope.build_cache else 0)


@engine_call
def execute_objects(engine: Engine, scope: PruneScope, plan: ObjectPrunePlan) -> ObjectPruneReport:
    """The engine's prunes, in the CLI's order, with the plan's filters; their own figures."""
    filters = _engine_filters(scope.filters)
    deleted: list[tuple[str, tuple[str, ...]]] = []
    space = 0
    if scope.containers:
        answer = engine.api.prune_containers(filters=filters or None)
        deleted.append(("Containers", tuple(answer.get("ContainersDeleted") or ())))
        space += int(answer.get("SpaceReclaimed") or 0)
    if scope.networks:
        answer = engine.api.prune_networks(filters=filters or None)
        deleted.append(("Networks", tuple(answer.get("NetworksDeleted") or ())))
    if scope.volumes:
        volume_filters = {k: v for k, v in filters.items() if k in ("label", "label!")}
        if scope.all and _anonymous_only(engine, False):  # the engine knows `all` from 1.42
            volume_filters["all"] = ["true"]
        answer = engine.api.prune_volumes(filters=volume_filters or None)
        deleted.append(("Volumes", tuple(answer.get("VolumesDeleted") or ())))
        space += int(answer.get("SpaceReclaimed") or 0)
    if scope.images:
        image_filters = {**filters, "dangling": ["false" if scope.all else "true"]}
        answer = engine.api.prune_images(filters=image_filters)
        lines = tuple(f"{'untagged' if 'Untagged' in d else 'deleted'}: "
                      f"{d.get('Untagged') or d.get('Deleted')}"
                      for d in answer.get("ImagesDeleted") or ())
        deleted.append(("Images", lines))
        space += int(answer.get("SpaceReclaimed") or 0)
    if scope.build_cache and plan.build_cache_entries:
        answer = engine.api.prune_builds(filters=cast(Any, filters or None), all=scope.all or None)
        deleted.append(("Build Cache", tuple(answer.get("CachesDeleted") or ())))
        space += int(answer.get("SpaceReclaimed") or 0)
    return ObjectPruneReport(tuple(deleted), space)
