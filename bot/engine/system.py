"""Engine-wide reads: system df, version, info."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import docker

from bot.engine.client import Engine
from bot.engine.containers import container_row
from bot.engine.images import image_rows
from bot.engine.results import (
    BuildCacheUsage,
    DiskUsageReport,
    DiskUsageRow,
    EngineInfo,
    VersionComponent,
    VersionInfo,
    VolumeUsage,
)
from bot.engine.translate import engine_call
from bot.timeparse import from_docker

_ACTIVE_STATES = ("running", "paused", "restarting")


@engine_call
def disk_usage(engine: Engine) -> list[DiskUsageRow]:
    """`docker system df`: counts and bytes computed as docker/cli's disk_usage.go does."""
    df = engine.api.df()
    return disk_usage_rows(df)


def disk_usage_rows(df: dict[str, Any]) -> list[DiskUsageRow]:
    """The four summary rows of `docker system df` from the engine's `/system/df` answer."""
    images = df.get("Images") or []
    containers = df.get("Containers") or []
    volumes = df.get("Volumes") or []
    cache = df.get("BuildCache") or []
    layers = int(df.get("LayersSize") or 0)
    # Images: what in-use images hold alone is not reclaimable; the rest of the layers is.
    used_unique = sum(int(i.get("Size") or 0) - int(i.get("SharedSize") or 0) for i in images
                      if i.get("Containers") and i.get("Size", -1) != -1
                      and i.get("SharedSize", -1) != -1)

    def active(c: dict[str, Any]) -> bool:
        return any(state in (c.get("State") or "") for state in _ACTIVE_STATES)

    def vol_size(v: dict[str, Any]) -> int:
        size = int((v.get("UsageData") or {}).get("Size", -1))
        return size if size != -1 else 0

    def vol_refs(v: dict[str, Any]) -> int:
        return int((v.get("UsageData") or {}).get("RefCount") or 0)

    own_cache = [c for c in cache if not c.get("Shared")]
    return [
        DiskUsageRow("Images", len(images), sum(1 for i in images if (i.get("Containers") or 0) > 0),
                     layers, layers - used_unique),
        DiskUsageRow("Containers", len(containers), sum(1 for c in containers if active(c)),
                     sum(int(c.get("SizeRw") or 0) for c in containers),
                     sum(int(c.get("SizeRw") or 0) for c in containers if not active(c))),
        DiskUsageRow("Local Volumes", len(volumes), sum(1 for v in volumes if vol_refs(v) > 0),
                     sum(vol_size(v) for v in volumes),
                     sum(vol_size(v) for v in volumes if vol_refs(v) == 0)),
        DiskUsageRow("Build Cache", len(cache), sum(1 for c in cache if c.get("InUse")),
                     sum(int(c.get("Size") or 0) for c in own_cache),
                     sum(int(c.get("Size") or 0) for c in own_cache if not c.get("InUse"))),
    ]


@engine_call
def disk_usage_report(engine: Engine) -> DiskUsageReport:
    """`docker system df -v`: the summary and every image, container, volume, cache record."""
    df = engine.api.df()
    epoch = datetime.fromtimestamp(0, UTC)
    images = []
    for item in df.get("Images") or []:
        rows = image_rows(item)
        tags = [r for r in rows if r.tag != "<none>"]
        first = tags[0] if tags else replace(rows[0], repository="<none>", tag="<none>")
        images.append(first)
    volumes = [VolumeUsage(v.get("Name", ""),
                           int(v["UsageData"].get("RefCount", -1)) if v.get("UsageData") else -1,
                           int(v["UsageData"].get("Size", -1)) if v.get("UsageData") else -1)
               for v in df.get("Volumes") or []]
    cache = [BuildCacheUsage(c.get("ID", ""), c.get("Type", ""), int(c.get("Size") or 0),
                             from_docker(c.get("CreatedAt")) or epoch,
                             from_docker(c.get("LastUsedAt")), int(c.get("UsageCount") or 0),
                             bool(c.get("Shared")), bool(c.get("InUse")))
             for c in df.get("BuildCache") or []]
    return DiskUsageReport(
        rows=tuple(disk_usage_rows(df)), images=tuple(images),
        containers=tuple(container_row(c, size=True) for c in df.get("Containers") or []),
        volumes=tuple(volumes), build_cache=tuple(cache))


@engine_call
def version(engine: Engine) -> VersionInfo:
    """`docker version`, server side (plus the client library in use)."""
    raw = engine.api.version()
    return VersionInfo(
        version=raw.get("Version", ""),
        api_version=raw.get("ApiVersion", ""),
        min_api_version=raw.get("MinAPIVersion", ""),
        os=raw.get("Os", ""),
        arch=raw.get("Arch", ""),
        kernel=raw.get("KernelVersion", ""),
        go_version=raw.get("GoVersion", ""),
        git_commit=raw.get("GitCommit", ""),
        built=raw.get("BuildTime", ""),
        client_library=f"docker-py {docker.__version__}",
        platform=(raw.get("Platform") or {}).get("Name", ""),
        components=tuple(
            VersionComponent(c.get("Name", ""), c.get("Version", ""),
                             tuple((str(k), str(v)) for k, v in (c.get("Details") or {}).items()))
            for c in raw.get("Components") or ()),
    )


@engine_call
def info(engine: Engine) -> EngineInfo:
    """`docker info`, the parts people look at."""
    raw = engine.api.info()
    return EngineInfo(
        name=raw.get("Name", ""),
        server_version=raw.get("ServerVersion", ""),
        os=raw.get("OperatingSystem", ""),
        kernel=raw.get("KernelVersion", ""),
        arch=raw.get("Architecture", ""),
        cpus=int(raw.get("NCPU") or 0),
        memory=int(raw.get("MemTotal") or 0),
        containers=int(raw.get("Containers") or 0),
        running=int(raw.get("ContainersRunning") or 0),
        paused=int(raw.get("ContainersPaused") or 0),
        stopped=int(raw.get("ContainersStopped") or 0),
        images=int(raw.get("Images") or 0),
        storage_driver=raw.get("Driver", ""),
        docker_root=raw.get("DockerRootDir", ""),
        warnings=tuple(raw.get("Warnings") or ()),
        details=raw,
    )
