"""Engine-wide results as messages: df, version, info."""

from __future__ import annotations

from bot.engine.results import DiskUsageRow, EngineInfo, VersionInfo
from bot.views import blocks
from bot.views.format import size, table
from bot.views.message import Message


def disk_usage(rows: list[DiskUsageRow], host: str = "") -> Message:
    def pct(row: DiskUsageRow) -> str:
        share = f" ({row.reclaimable * 100 // row.size}%)" if row.size else ""
        return size(row.reclaimable) + share

    text = table(("TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"),
                 [(r.kind, str(r.total), str(r.active), size(r.size), pct(r)) for r in rows])
    where = f" on `{host}`" if host else ""
    total = sum(r.size for r in rows)
    return Message(text=f"Docker disk usage: {size(total)}",
                   blocks=(blocks.section(f"*Docker disk usage*{where}: {size(total)}"),
                           blocks.code(text),
                           blocks.context("Reclaim with `/docker image prune -a` (asks first).")))


def version(info: VersionInfo, host: str = "") -> Message:
    pairs = [("Engine", info.version), ("API", f"{info.api_version} (min {info.min_api_version})"),
             ("OS/Arch", f"{info.os}/{info.arch}"), ("Kernel", info.kernel),
             ("Go", info.go_version), ("Git commit", info.git_commit), ("Built", info.built),
             ("Client", info.client_library)]
    where = f" on {host}" if host else ""
    return Message(text=f"Docker Engine {info.version}{where}",
                   blocks=(blocks.header(f"Docker Engine {info.version}{where}"),
                           *blocks.fields(pairs)))


def info(data: EngineInfo, host: str = "") -> Message:
    pairs = [
        ("Host", data.name), ("Server version", data.server_version),
        ("Containers", f"{data.containers} ({data.running} running, {data.paused} paused, "
                       f"{data.stopped} stopped)"),
        ("Images", str(data.images)), ("OS", data.os), ("Kernel", data.kernel),
        ("CPUs / Memory", f"{data.cpus} / {size(data.memory)}"),
        ("Storage driver", data.storage_driver), ("Docker root", data.docker_root),
        ("Architecture", data.arch),
    ]
    parts = [blocks.header(f"Engine {data.name}" + (f" ({host})" if host else "")),
             *blocks.fields(pairs)]
    if data.warnings:
        parts.append(blocks.context(*[f":warning: {w}" for w in data.warnings[:10]]))
    return Message(text=f"Engine {data.name}: {data.running}/{data.containers} containers running",
                   blocks=tuple(parts))
