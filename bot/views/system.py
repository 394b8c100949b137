"""Engine-wide results as messages: df, version, info."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bot import units
from bot.engine.results import DiskUsageReport, DiskUsageRow, EngineInfo, VersionInfo
from bot.timeparse import from_docker
from bot.views import blocks, gotemplate
from bot.views.containers import PS_HEADERS, ps_fields
from bot.views.images import IMAGE_HEADERS, image_fields
from bot.views.message import Message
from bot.views.output import text_output

DF_HEADERS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
              "Reclaimable": "RECLAIMABLE"}
DF_TABLE = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"


def _percent(part: int, whole: int) -> int:
    """`part*100/whole` with Go's integer division (truncates toward zero)."""
    share = abs(part) * 100 // abs(whole)
    return share if (part >= 0) == (whole > 0) else -share


def df_fields(row: DiskUsageRow) -> dict[str, Any]:
    """One `system df` row as the CLI's fields (`--format '{{json .}}'`)."""
    reclaimable = units.disk_size(row.reclaimable)
    if row.size > 0 and row.kind != "Build Cache":
        reclaimable += f" ({_percent(row.reclaimable, row.size)}%)"
    return {"Active": str(row.active), "Reclaimable": reclaimable,
            "Size": units.disk_size(row.size), "TotalCount": str(row.total), "Type": row.kind}


def df_table(rows: list[DiskUsageRow], template: str | None = None) -> str:
    """`docker system df` as the CLI prints it (sizes with go-units HumanSize, 4 digits)."""
    return gotemplate.render_rows(template or DF_TABLE, [df_fields(r) for r in rows], DF_HEADERS)


def disk_usage(rows: list[DiskUsageRow], host: str = "", template: str | None = None) -> Message:
    text = df_table(rows, template)
    where = f" on `{host}`" if host else ""
    total = units.disk_size(sum(r.size for r in rows))
    return Message(text=f"Docker disk usage: {total}",
                   blocks=(blocks.section(f"*Docker disk usage*{where}: {total}"),
                           blocks.code(text),
                           blocks.context("Reclaim with `/docker image prune -a` (asks first).")))


def df_verbose_text(report: DiskUsageReport, now: datetime | None = None) -> str:
    """`docker system df -v`: the CLI's four sections, byte for byte."""
    image_rows = [{**image_fields(i, now=now),
                   "Containers": "N/A" if i.containers == -1 else str(i.containers)}
                  for i in report.images]
    images = gotemplate.render_rows(
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
        "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}", image_rows, IMAGE_HEADERS)
    container_rows = [ps_fields(replace(c, size_root_fs=0), now=now) for c in report.containers]
    containers = gotemplate.render_rows(
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t"
        "{{.RunningFor}}\t{{.Status}}\t{{.Names}}", container_rows, PS_HEADERS)
    volume_rows = [{"Name": v.name, "Links": "N/A" if v.links == -1 else str(v.links),
                    "Size": "N/A" if v.size == -1 else units.disk_size(v.size)}
                   for v in report.volumes]
    volumes = gotemplate.render_rows("table {{.Name}}\t{{.Links}}\t{{.Size}}", volume_rows,
                                     {"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"})
    cache_rows = [{"ID": units.short_id(c.id) + ("*" if c.in_use else ""), "CacheType": c.type,
                   "Size": units.human_size(c.size), "CreatedSince": units.ago(c.created, now),
                   "LastUsedSince": units.ago(c.last_used, now) if c.last_used else "",
                   "UsageCount": str(c.usage_count), "Shared": str(c.shared).lower()}
                  for c in report.build_cache]
    cache = gotemplate.render_rows(
        "table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t"
        "{{.UsageCount}}\t{{.Shared}}", cache_rows,
        {"ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE", "CreatedSince": "CREATED",
         "LastUsedSince": "LAST USED", "UsageCount": "USAGE", "Shared": "SHARED"})
    cache_total = sum(c.size for c in report.build_cache if not c.shared)
    return (f"Images space usage:\n\n{images}\nContainers space usage:\n\n{containers}"
            f"\nLocal Volumes space usage:\n\n{volumes}"
            f"\nBuild cache usage: {units.disk_size(cache_total)}\n\n{cache}")


def disk_usage_verbose(report: DiskUsageReport, host: str = "") -> Message:
    where = f" on `{host}`" if host else ""
    total = units.disk_size(sum(r.size for r in report.rows))
    return text_output(f"*Docker disk usage*{where}: {total}", df_verbose_text(report),
                       filename="system-df.txt")


def _line(key: str, value: str) -> str:
    return f"  {(key + ':').ljust(18)}{value}"


def _built(text: str) -> str:
    """The CLI shows an RFC 3339 build time in Go's ANSIC layout, anything else as it is."""
    moment = from_docker(text) if "T" in text else None
    return units.ansic(moment) if moment else text


def version_text(info: VersionInfo) -> str:
    """The Server part of `docker version`, as the CLI's template lays it out."""
    lines = ["Server:" + (f" {info.platform}" if info.platform else "")]
    for component in info.components:
        details = dict(component.details)
        lines.append(f" {component.name}:")
        if component.name == "Engine":
            lines += [
                _line("Version", component.version),
                _line("API version", f"{details.get('ApiVersion', '')} (minimum version "
                                     f"{details.get('MinAPIVersion', '')})"),
                _line("Go version", details.get("GoVersion", "")),
                _line("Git commit", details.get("GitCommit", "")),
                _line("Built", _built(details.get("BuildTime", ""))),
                _line("OS/Arch", f"{details.get('Os', '')}/{details.get('Arch', '')}"),
                _line("Experimental", details.get("Experimental", "")),
            ]
        else:
            lines.append(_line("Version", component.version))
            lines += [_line(key, value) for key, value in sorted(details.items())]
    if not info.components:  # an engine that lists no components: its own fields
        lines += [" Engine:", _line("Version", info.version),
                  _line("API version", f"{info.api_version} (minimum version "
                                       f"{info.min_api_version})"),
                  _line("Go version", info.go_version), _line("Git commit", info.git_commit),
                  _line("Built", _built(info.built)), _line("OS/Arch", f"{info.os}/{info.arch}")]
    return "\n".join(lines) + "\n"


def version(info: VersionInfo, host: str = "") -> Message:
    where = f" on `{host}`" if host else ""
    return text_output(f"*Docker Engine {info.version}*{where}", version_text(info),
                       filename="version.txt",
                       note=f"Client: dockops ({info.client_library}); the server part is what "
                            "`docker version` prints.")


def _go(value: Any) -> str:
    """A value as Go's fmt.Println prints it (bools lower case, nil as `<nil>`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "<nil>" if value is None else str(value)


def _security_options(options: list[str]) -> list[str]:
    """docker/cli DecodeSecurityOptions: `name=seccomp,profile=default` as a name and its
    profile; an old-style bare word as a name."""
    lines = []
    for option in options:
        if "=" not in option:
            lines.append(f"  {option}")
            continue
        pairs = dict(part.split("=", 1) for part in option.split(",") if "=" in part)
        lines.append(f"  {pairs.get('name', '')}")
        if "profile" in pairs:
            lines.append(f"   Profile: {pairs['profile']}")
    return lines


def _swarm_lines(swarm: dict[str, Any]) -> list[str]:
    state = swarm.get("LocalNodeState") or ""
    lines = [f" Swarm: {state}"]
    if state in ("inactive", "locked", ""):
        return lines
    lines.append(f"  NodeID: {swarm.get('NodeID', '')}")
    if swarm.get("Error"):
        lines.append(f"  Error: {swarm['Error']}")
    lines.append(f"  Is Manager: {_go(bool(swarm.get('ControlAvailable')))}")
    cluster = swarm.get("Cluster")
    if (cluster and swarm.get("ControlAvailable") and not swarm.get("Error")
            and state != "error"):
        lines += _cluster_lines(swarm, cluster)
    lines.append(f"  Node Address: {swarm.get('NodeAddr', '')}")
    managers = sorted(m.get("Addr", "") for m in swarm.get("RemoteManagers") or [])
    if managers:
        lines += ["  Manager Addresses:", *(f"   {m}" for m in managers)]
    return lines


def _cluster_lines(swarm: dict[str, Any], cluster: dict[str, Any]) -> list[str]:
    """A manager's view of its cluster, as docker/cli's printSwarmInfo lists it."""
    spec = cluster.get("Spec") or {}
    raft = spec.get("Raft") or {}
    ca = spec.get("CAConfig") or {}
    lines = [f"  ClusterID: {cluster.get('ID', '')}", f"  Managers: {swarm.get('Managers', 0)}",
             f"  Nodes: {swarm.get('Nodes', 0)}"]
    if cluster.get("DefaultAddrPool") is not None:
        pools = "".join(f"{pool}  " for pool in cluster["DefaultAddrPool"])
        lines += [f"  Default Address Pool: {pools}",
                  f"  SubnetSize: {cluster.get('SubnetSize', 0)}"]
    if (cluster.get("DataPathPort") or 0) > 0:
        lines.append(f"  Data Path Port: {cluster['DataPathPort']}")
    retention = (spec.get("Orchestration") or {}).get("TaskHistoryRetentionLimit")
    lines += ["  Orchestration:", f"   Task History Retention Limit: {retention or 0}",
              "  Raft:", f"   Snapshot Interval: {raft.get('SnapshotInterval', 0)}"]
    if raft.get("KeepOldSnapshots") is not None:
        lines.append(f"   Number of Old Snapshots to Retain: {raft['KeepOldSnapshots']}")
    heartbeat = (spec.get("Dispatcher") or {}).get("HeartbeatPeriod") or 0
    lines += [f"   Heartbeat Tick: {raft.get('HeartbeatTick', 0)}",
              f"   Election Tick: {raft.get('ElectionTick', 0)}",
              "  Dispatcher:", f"   Heartbeat Period: {units.human_duration(heartbeat / 1e9)}",
              "  CA Configuration:",
              f"   Expiry Duration: {units.human_duration((ca.get('NodeCertExpiry') or 0) / 1e9)}",
              f"   Force Rotate: {ca.get('ForceRotate', 0)}"]
    if signing := (ca.get("SigningCACert") or "").strip():
        lines.append(f"   Signing CA Certificate: \n{signing}\n")
    if ca.get("ExternalCAs"):
        lines += ["   External CAs:", *(f"     {entry.get('Protocol', '')}: {entry.get('URL', '')}"
                                        for entry in ca["ExternalCAs"])]
    autolock = bool((spec.get("EncryptionConfig") or {}).get("AutoLockManagers"))
    lines += [f"  Autolock Managers: {_go(autolock)}",
              f"  Root Rotation In Progress: {_go(bool(cluster.get('RootRotationInProgress')))}"]
    return lines


def info_text(raw: dict[str, Any]) -> str:
    """The Server part of `docker info`, in the CLI's order and words (prettyPrintServerInfo).

    On a Swarm manager it includes the cluster's details (Raft, CA, orchestration).
    """
    lines = ["Server:"]

    def add(label: str, value: Any) -> None:
        lines.append(f"{label} {_go(value)}")

    def add_non_empty(label: str, value: str | None) -> None:
        if value:
            lines.append(f"{label} {value}")

    add(" Containers:", raw.get("Containers", 0))
    add("  Running:", raw.get("ContainersRunning", 0))
    add("  Paused:", raw.get("ContainersPaused", 0))
    add("  Stopped:", raw.get("ContainersStopped", 0))
    add(" Images:", raw.get("Images", 0))
    add_non_empty(" Server Version:", raw.get("ServerVersion"))
    add_non_empty(" Storage Driver:", raw.get("Driver"))
    lines += [f"  {k}: {v}" for k, v in raw.get("DriverStatus") or []]
    lines += [f" {k}: {v}" for k, v in raw.get("SystemStatus") or []]
    add_non_empty(" Logging Driver:", raw.get("LoggingDriver"))
    add_non_empty(" Cgroup Driver:", raw.get("CgroupDriver"))
    add_non_empty(" Cgroup Version:", raw.get("CgroupVersion"))
    plugins = raw.get("Plugins") or {}
    lines.append(" Plugins:")
    add("  Volume:", " ".join(plugins.get("Volume") or []))
    add("  Network:", " ".join(plugins.get("Network") or []))
    if plugins.get("Authorization"):
        add("  Authorization:", " ".join(plugins["Authorization"]))
    add("  Log:", " ".join(plugins.get("Log") or []))
    if raw.get("CDISpecDirs"):
        lines += [" CDI spec directories:", *(f"  {d}" for d in raw["CDISpecDirs"])]
    lines += _swarm_lines(raw.get("Swarm") or {})
    if raw.get("Runtimes"):
        add(" Runtimes:", " ".join(raw["Runtimes"]))
        add(" Default Runtime:", raw.get("DefaultRuntime", ""))
    if raw.get("OSType") == "linux":
        add(" Init Binary:", raw.get("InitBinary", ""))
        add(" containerd version:", (raw.get("ContainerdCommit") or {}).get("ID", ""))
        add(" runc version:", (raw.get("RuncCommit") or {}).get("ID", ""))
        add(" init version:", (raw.get("InitCommit") or {}).get("ID", ""))
        if raw.get("SecurityOptions"):
            lines += [" Security Options:", *_security_options(raw["SecurityOptions"])]
    if raw.get("OSType") == "windows":
        add(" Default Isolation:", raw.get("Isolation", ""))
    add_non_empty(" Kernel Version:", raw.get("KernelVersion"))
    add_non_empty(" Operating System:", raw.get("OperatingSystem"))
    add_non_empty(" OSType:", raw.get("OSType"))
    add_non_empty(" Architecture:", raw.get("Architecture"))
    add(" CPUs:", raw.get("NCPU", 0))
    add(" Total Memory:", units.bytes_size(raw.get("MemTotal") or 0))
    add_non_empty(" Name:", raw.get("Name"))
    add_non_empty(" ID:", raw.get("ID"))
    add(" Docker Root Dir:", raw.get("DockerRootDir", ""))
    add(" Debug Mode:", bool(raw.get("Debug")))
    if raw.get("Debug"):
        add("  File Descriptors:", raw.get("NFd"))
        add("  Goroutines:", raw.get("NGoroutines"))
        add("  System Time:", raw.get("SystemTime"))
        add("  EventsListeners:", raw.get("NEventsListener"))
    add_non_empty(" HTTP Proxy:", raw.get("HttpProxy"))
    add_non_empty(" HTTPS Proxy:", raw.get("HttpsProxy"))
    add_non_empty(" No Proxy:", raw.get("NoProxy"))
    add_non_empty(" Username:", raw.get("Username"))
    if raw.get("Labels"):
        lines += [" Labels:", *(f"  {label}" for label in raw["Labels"])]
    add(" Experimental:", bool(raw.get("ExperimentalBuild")))
    registry = raw.get("RegistryConfig") or {}
    indexes = registry.get("IndexConfigs") or {}
    cidrs = registry.get("InsecureRegistryCIDRs") or []
    if indexes or cidrs:
        lines.append(" Insecure Registries:")
        lines += [f"  {c.get('Name', name)}" for name, c in indexes.items() if not c.get("Secure")]
        lines += [f"  {cidr}" for cidr in cidrs]
    if registry.get("Mirrors"):
        lines += [" Registry Mirrors:", *(f"  {m}" for m in registry["Mirrors"])]
    add(" Live Restore Enabled:", bool(raw.get("LiveRestoreEnabled")))
    if raw.get("ProductLicense"):
        add(" Product License:", raw["ProductLicense"])
    if raw.get("DefaultAddressPools"):
        lines.append(" Default Address Pools:")
        lines += [f"   Base: {p.get('Base')}, Size: {p.get('Size')}"
                  for p in raw["DefaultAddressPools"]]
    return "\n".join(lines) + "\n"


def info(data: EngineInfo, host: str = "") -> Message:
    """`docker info`: the CLI's Server part as text; its warnings (stderr there) as a note."""
    title = f"*Engine {data.name}*" + (f" (`{host}`)" if host else "") + (
        f": {data.running}/{data.containers} containers running")
    warnings = " ".join(data.warnings[:10])
    if data.details:
        return text_output(title, info_text(data.details), filename="info.txt",
                           note=f":warning: {warnings}" if warnings else "")
    pairs = [
        ("Host", data.name), ("Server version", data.server_version),
        ("Containers", f"{data.containers} ({data.running} running, {data.paused} paused, "
                       f"{data.stopped} stopped)"),
        ("Images", str(data.images)), ("OS", data.os), ("Kernel", data.kernel),
        ("CPUs / Memory", f"{data.cpus} / {units.bytes_size(data.memory)}"),
        ("Storage driver", data.storage_driver), ("Docker root", data.docker_root),
        ("Architecture", data.arch),
    ]
    parts = [blocks.header(f"Engine {data.name}" + (f" ({host})" if host else "")),
             *blocks.fields(pairs)]
    if data.warnings:
        parts.append(blocks.context(*[f":warning: {w}" for w in data.warnings[:10]]))
    return Message(text=f"Engine {data.name}: {data.running}/{data.containers} containers running",
                   blocks=tuple(parts))
