"""Inspect documents as the docker CLI re-encodes them for `--format`.

The CLI decodes the engine's answer into its own Go types and encodes those again, so
`{{json .X}}` follows the CLI's field order, not the engine's: docker CLI 28 reads an image's
`Config` as the OCI image config (every empty field left out, Hostname, Image... unknown), moves
`ConsoleSize` in HostConfig, no longer knows `KernelMemory`, and orders NetworkSettings and
each network endpoint its own way. A name the CLI's type lacks still reads from the engine's
JSON (the CLI falls back to it), so lookups (`{{.HostConfig.KernelMemory}}`) see every field.
"""

from __future__ import annotations

import json
from collections.abc import ItemsView, Mapping
from typing import Any

# ocispec ImageConfig, then docker's extension (DockerOCIImageConfigExt), in encoding order.
_OCI_IMAGE_CONFIG = ("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes",
                     "WorkingDir", "Labels", "StopSignal", "ArgsEscaped", "Healthcheck",
                     "OnBuild", "Shell")
# docker CLI 28's container.HostConfig (Resources embedded), as it encodes it.
_HOST_CONFIG = (
    "Binds", "ContainerIDFile", "LogConfig", "NetworkMode", "PortBindings", "RestartPolicy",
    "AutoRemove", "VolumeDriver", "VolumesFrom", "ConsoleSize", "Annotations", "CapAdd",
    "CapDrop", "CgroupnsMode", "Dns", "DnsOptions", "DnsSearch", "ExtraHosts", "GroupAdd",
    "IpcMode", "Cgroup", "Links", "OomScoreAdj", "PidMode", "Privileged", "PublishAllPorts",
    "ReadonlyRootfs", "SecurityOpt", "StorageOpt", "Tmpfs", "UTSMode", "UsernsMode", "ShmSize",
    "Sysctls", "Runtime", "Isolation", "CpuShares", "Memory", "NanoCpus", "CgroupParent",
    "BlkioWeight", "BlkioWeightDevice", "BlkioDeviceReadBps", "BlkioDeviceWriteBps",
    "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod",
    "CpuRealtimeRuntime", "CpusetCpus", "CpusetMems", "Devices", "DeviceCgroupRules",
    "DeviceRequests", "MemoryReservation", "MemorySwap", "MemorySwappiness", "OomKillDisable",
    "PidsLimit", "Ulimits", "CpuCount", "CpuPercent", "IOMaximumIOps", "IOMaximumBandwidth",
    "Mounts", "MaskedPaths", "ReadonlyPaths", "Init")
_UNKNOWN_TO_CLI = frozenset({"KernelMemory", "KernelMemoryTCP"})
_NETWORK_SETTINGS = (
    "Bridge", "SandboxID", "SandboxKey", "Ports", "HairpinMode", "LinkLocalIPv6Address",
    "LinkLocalIPv6PrefixLen", "SecondaryIPAddresses", "SecondaryIPv6Addresses", "EndpointID",
    "Gateway", "GlobalIPv6Address", "GlobalIPv6PrefixLen", "IPAddress", "IPPrefixLen",
    "IPv6Gateway", "MacAddress", "Networks")
_ENDPOINT = ("IPAMConfig", "Links", "Aliases", "MacAddress", "DriverOpts", "GwPriority",
             "NetworkID", "EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway",
             "GlobalIPv6Address", "GlobalIPv6PrefixLen", "DNSNames")


class _Encoded(dict[str, Any]):
    """Every engine field for lookups; for JSON, the fields in the CLI's order (those it does
    not know after them, in the engine's order), without `hidden` or, with `omit_empty`,
    empty ones."""

    def __init__(self, raw: Mapping[str, Any], order: tuple[str, ...], *,
                 omit_empty: bool = False, hidden: frozenset[str] = frozenset(),
                 zero: Mapping[str, Any] | None = None) -> None:
        super().__init__(raw)
        self._order = order
        self._omit_empty = omit_empty
        self._hidden = hidden
        self._zero = zero or {}  # fields the CLI always writes, the engine may not send

    def items(self) -> ItemsView[str, Any]:  # type: ignore[override]  # what json.dumps encodes
        values = {**self._zero, **self}
        known = [key for key in self._order if key in values]
        rest = [key for key in self if key not in self._order and key not in self._hidden]
        keys = known if self._omit_empty else known + rest
        return {key: values[key] for key in keys
                if not (self._omit_empty and values[key] in (None, "", [], {}, False))}.items()


def image_for_format(document: Mapping[str, Any]) -> dict[str, Any]:
    """An image's inspect document with `Config` encoding as the CLI's does."""
    config = document.get("Config")
    if not isinstance(config, Mapping):
        return dict(document)
    return {**document, "Config": _Encoded(config, _OCI_IMAGE_CONFIG, omit_empty=True)}


def container_for_format(document: Mapping[str, Any]) -> dict[str, Any]:
    """A container's inspect document with HostConfig and NetworkSettings (and each network
    endpoint) encoding in the CLI's field order."""
    out = dict(document)
    host = document.get("HostConfig")
    if isinstance(host, Mapping):
        out["HostConfig"] = _Encoded(host, _HOST_CONFIG, hidden=_UNKNOWN_TO_CLI)
    settings = document.get("NetworkSettings")
    if isinstance(settings, Mapping):
        networks = settings.get("Networks")
        if isinstance(networks, Mapping):
            settings = {**settings, "Networks": {
                name: _Encoded(endpoint, _ENDPOINT, zero={"GwPriority": 0, "DNSNames": None})
                if isinstance(endpoint, Mapping)
                else endpoint for name, endpoint in networks.items()}}
        out["NetworkSettings"] = _Encoded(settings, _NETWORK_SETTINGS)
    return out


def json_array(documents: list[dict[str, Any]]) -> str:
    """`docker inspect A B` without a template: one JSON array, indented 4 spaces as the CLI
    indents the engine's JSON (`<`, `>`, `&` stay escaped as the engine sent them)."""
    text = json.dumps(documents, indent=4, ensure_ascii=False)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"
