"""Engine-wide reads: system df, version, info."""

from __future__ import annotations

import docker

from bot.engine.client import Engine
from bot.engine.results import DiskUsageRow, EngineInfo, VersionInfo
from bot.engine.translate import engine_call


@engine_call
def disk_usage(engine: Engine) -> list[DiskUsageRow]:
    """`docker system df`: images, containers, local volumes, build cache."""
    df = engine.api.df()
    images = df.get("Images") or []
    used_images = [i for i in images if (i.get("Containers") or 0) > 0]
    unused_unique = sum(max(0, (i.get("Size") or 0) - (i.get("SharedSize") or 0))
                        for i in images if not (i.get("Containers") or 0) > 0)
    containers = df.get("Containers") or []
    volumes = df.get("Volumes") or []
    cache = df.get("BuildCache") or []

    def vol_size(v: dict) -> int:
        return max(0, (v.get("UsageData") or {}).get("Size") or 0)

    def vol_used(v: dict) -> bool:
        return ((v.get("UsageData") or {}).get("RefCount") or 0) > 0

    return [
        DiskUsageRow("Images", len(images), len(used_images), int(df.get("LayersSize") or 0),
                     unused_unique),
        DiskUsageRow("Containers", len(containers),
                     sum(1 for c in containers if c.get("State") == "running"),
                     sum(c.get("SizeRw") or 0 for c in containers),
                     sum(c.get("SizeRw") or 0 for c in containers if c.get("State") != "running")),
        DiskUsageRow("Local Volumes", len(volumes), sum(1 for v in volumes if vol_used(v)),
                     sum(vol_size(v) for v in volumes),
                     sum(vol_size(v) for v in volumes if not vol_used(v))),
        DiskUsageRow("Build Cache", len(cache), sum(1 for c in cache if c.get("InUse")),
                     sum(c.get("Size") or 0 for c in cache),
                     sum(c.get("Size") or 0 for c in cache if not c.get("InUse"))),
    ]


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
    )
