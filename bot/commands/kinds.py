"""Flag kinds: how a flag's value is read when the command is parsed (click's ParamType).

A kind owns its parsing and its one error sentence: `convert(text, flag)` returns the
typed value or raises UsageError naming the flag as it was typed (`-p`, `--publish`) and
the fix. Handlers and policy receive the typed values (bot/commands/values.py), never text.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, ClassVar, Literal

from bot.commands.values import (
    LabelFilter,
    MountSpec,
    Pair,
    PortSpec,
    PruneFilters,
    RestartSpec,
    VolumeSpec,
)
from bot.errors import UsageError
from bot.timeparse import parse_duration

_INT64 = 2**63 - 1  # the engine's sizes and nano-CPUs are Go int64s
_PORT = re.compile(r"[0-9]{1,5}")
_RESTART = re.compile(r"(no|always|unless-stopped|on-failure)(?::([0-9]{1,9}))?")
_BYTES = re.compile(r"([0-9]+(?:\.[0-9]+)?)([bkmg]?)", re.I)
_BYTE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_MOUNT_KEYS = {"type", "source", "src", "target", "destination", "dst", "readonly", "ro",
               "bind-propagation", "volume-nocopy", "volume-driver", "volume-opt", "tmpfs-size",
               "consistency"}


def shown(text: str, limit: int = 60) -> str:
    """The user's value as quoted back, cut so a 4,000-character word does not fill the answer."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def split_pair(text: str) -> tuple[str, str | None]:
    """`KEY=VALUE` as (KEY, VALUE), or (KEY, None) without `=`: the one key=value reader."""
    key, eq, value = text.partition("=")
    return key, (value if eq else None)


class Kind(ABC):
    """How one flag's value is read. `many` kinds collect every repeat (`-p 80 -p 443`)."""

    many: ClassVar[bool] = False

    @abstractmethod
    def convert(self, text: str, flag: str) -> Any:
        """The typed value of `text` given to `flag`; UsageError with one sentence if unreadable."""

    def gather(self, values: tuple[Any, ...]) -> Any:
        """What a `many` flag's converted values become together (the tuple by default)."""
        return values

    def initial(self) -> Any:
        """The option's value when the flag is not typed."""
        return self.gather(()) if self.many else None


# -- -p / --publish ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Publish(Kind):
    """`-p` as the CLI reads it: `80`, `8080:80`, `127.0.0.1:8080:80`, `127.0.0.1::80`, `/udp`."""

    many: ClassVar[bool] = True

    def convert(self, text: str, flag: str) -> PortSpec:
        typed = f"`{flag} {shown(text)}`"
        body, _, protocol = text.partition("/")
        protocol = protocol.lower() or "tcp"
        if protocol not in ("tcp", "udp", "sctp"):
            raise UsageError(f"Invalid protocol {shown(protocol)!r} in {typed}: use tcp, udp "
                             "or sctp.")
        if "-" in body:
            raise UsageError(f"Port ranges ({typed}) are not supported from Slack: publish each "
                             f"port with its own {flag}.")
        ip: str | None = None
        if body.startswith("["):  # [::1]:8080:80
            ip, closed, body = body[1:].partition("]")
            if not closed or not body.startswith(":"):
                raise UsageError(f"Invalid address in {typed}: write an IPv6 address in "
                                 "brackets followed by `:`.", detail="Example: -p [::1]:8080:80")
            parts = body[1:].split(":")
        else:
            parts = body.split(":")
            if len(parts) == 3:
                ip = parts.pop(0)
        if len(parts) == 1:
            return PortSpec(self._number(parts[0], typed), protocol, ip or None, None)
        if len(parts) == 2:
            host = self._number(parts[0], typed) if parts[0] else None
            return PortSpec(self._number(parts[1], typed), protocol, ip or None, host)
        raise UsageError(f"Cannot read {typed}: use [IP:]HOST_PORT:CONTAINER_PORT[/udp].",
                         detail="Example: -p 127.0.0.1:8080:80")

    @staticmethod
    def _number(text: str, typed: str) -> int:
        if not _PORT.fullmatch(text) or not 0 < int(text) < 65536:
            raise UsageError(f"Invalid port {shown(text)!r} in {typed}: ports are numbers from 1 "
                             "to 65535.",
                             detail="Examples: -p 8080:80, -p 127.0.0.1:8080:80, -p 53:53/udp")
        return int(text)


# -- -v / --volume, --mount -------------------------------------------------------------------

@dataclass(frozen=True)
class Volume(Kind):
    """`-v [SOURCE:]/container/path[:ro|rw|...]`."""

    many: ClassVar[bool] = True

    def convert(self, text: str, flag: str) -> VolumeSpec:
        typed = f"`{flag} {shown(text)}`"
        parts = text.split(":")
        if len(parts) == 1:
            source, target, mode = None, parts[0], ""
        elif len(parts) == 2 and parts[1].startswith("/"):
            source, target, mode = parts[0], parts[1], ""
        elif len(parts) == 2:
            source, target, mode = None, parts[0], parts[1]
        elif len(parts) == 3:
            source, target, mode = parts
        else:
            raise UsageError(f"Cannot read {typed}: use VOLUME:/path[:ro].",
                             detail="Example: -v data:/srv/data")
        if not target.startswith("/"):
            raise UsageError(f"{typed}: the path inside the container must be absolute.",
                             detail="Example: -v data:/srv/data")
        if source == "":
            raise UsageError(f"{typed}: the volume name is empty; name it before the `:`.",
                             detail="Example: -v data:/srv/data")
        return VolumeSpec(source, target, mode, text)


@dataclass(frozen=True)
class Mount(Kind):
    """`--mount` as the CLI reads it: comma-separated key=value."""

    many: ClassVar[bool] = True

    def convert(self, text: str, flag: str) -> MountSpec:
        typed = f"`{flag} {shown(text)}`"
        values: dict[str, str] = {}
        for item in text.split(","):
            key, value = split_pair(item)
            key = key.strip().lower()
            if key not in _MOUNT_KEYS:
                raise UsageError(f"Unknown `{flag}` key {shown(key)!r} in {typed}.",
                                 detail="Keys: type, source, target, readonly, bind-propagation, "
                                        "volume-nocopy, tmpfs-size.")
            values[key] = "true" if value is None else value
        kind = values.pop("type", "volume")
        if kind not in ("volume", "bind", "tmpfs"):
            raise UsageError(f"`{flag} type={shown(kind)}` is not supported: use volume, bind or "
                             "tmpfs.")
        target = values.pop("target", "") or values.pop("destination", "") or values.pop("dst", "")
        if not target.startswith("/"):
            raise UsageError(f"{typed} needs an absolute target=/path inside the container.")
        source = values.pop("source", "") or values.pop("src", "")
        read_only = values.pop("readonly", values.pop("ro", "false")).lower() in ("true", "1", "")
        if kind == "bind" and not source:
            raise UsageError(f"{typed}: a bind mount needs source=/host/path.")
        size = values.pop("tmpfs-size", None)
        tmpfs_size = ByteSize("tmpfs size").convert(size, f"{flag} tmpfs-size") if size else None
        return MountSpec(kind, target, source, read_only, values, tmpfs_size, text)


# -- --restart, -m / --memory, --cpus ---------------------------------------------------------

@dataclass(frozen=True)
class RestartPolicy(Kind):
    """`--restart no|always|unless-stopped|on-failure[:MAX_RETRIES]`."""

    def convert(self, text: str, flag: str) -> RestartSpec:
        match = _RESTART.fullmatch(text)
        if not match or (match.group(2) and match.group(1) != "on-failure"):
            raise UsageError(f"Invalid restart policy {shown(text)!r} for `{flag}`: use no, "
                             "always, unless-stopped or on-failure[:MAX_RETRIES].")
        return RestartSpec(match.group(1), int(match.group(2) or 0))


@dataclass(frozen=True)
class ByteSize(Kind):
    """`256m`, `1g`, `1048576` as bytes (the CLI's units are powers of 1024)."""

    what: str = "memory size"

    def convert(self, text: str, flag: str) -> int:
        match = _BYTES.fullmatch(text.strip())
        # Decimal, not float: 400 digits must be refused, not become inf and crash int().
        size = int(Decimal(match.group(1)) * _BYTE_UNITS[match.group(2).lower()]) if match else -1
        if not 0 <= size <= _INT64:
            raise UsageError(f"Invalid {self.what} {shown(text)!r} for `{flag}`: use a number "
                             "with an optional unit b, k, m or g.",
                             detail="Examples: 256m, 1g, 512k.")
        return size


@dataclass(frozen=True)
class Cpus(Kind):
    """`--cpus 1.5` as nano-CPUs."""

    def convert(self, text: str, flag: str) -> int:
        try:
            cpus = float(text)
        except ValueError:
            cpus = -1.0
        nano = cpus * 1e9
        if not (math.isfinite(nano) and 1 <= nano <= _INT64):  # nan and inf too
            raise UsageError(f"Invalid {flag} {shown(text)!r}: use a positive number such as 0.5 "
                             "or 2.")
        return int(nano)


# -- KEY=VALUE: -e, --label, --build-arg, --filter --------------------------------------------

@dataclass(frozen=True)
class KeyValue(Kind):
    """`KEY=VALUE` words, the one parser for -e, --label, --build-arg and --filter.

    `bare` says what a KEY without `=` means: refused, an empty value (run --label), or a
    read of the typist's shell environment, which Slack does not have (-e). `collect` says
    what the repeats become: a dict (later wins), the pairs in order (-e), or the engine's
    filter map (a key may repeat).
    """

    example: str = "KEY=VALUE"
    bare: Literal["refuse", "empty", "shell"] = "refuse"
    collect: Literal["dict", "pairs", "filters"] = "dict"
    note: str = ""  # added to the example when a word is refused

    many: ClassVar[bool] = True

    def convert(self, text: str, flag: str) -> Pair:
        key, value = split_pair(text)
        if self.collect == "filters":  # as the CLI reads filters: spaces around are dropped
            key, value = key.strip(), None if value is None else value.strip()
        if value is None and self.bare == "shell" and key:
            raise UsageError(f"`{flag} {shown(text)}` would read your shell's environment, which "
                             "Slack does not have.",
                             detail=f"Give the value: {flag} {shown(text)}=VALUE")
        if not key or (value is None and self.bare != "empty"):
            raise UsageError(f'"{shown(text)}" for {flag} needs the form KEY=VALUE.',
                             detail=f"Example: {flag} {self.example}. {self.note}".strip())
        return Pair(key, value or "")

    def gather(self, values: tuple[Pair, ...]) -> Any:
        if self.collect == "pairs":
            return values
        if self.collect == "filters":
            filters: dict[str, tuple[str, ...]] = {}
            for pair in values:
                filters[pair.key] = (*filters.get(pair.key, ()), pair.value)
            return filters
        return {pair.key: pair.value for pair in values}


def parse_label_filter(text: str) -> LabelFilter:
    """`label=KEY[=VALUE]`, `label!=KEY[=VALUE]`, or a bare `KEY[=VALUE]` (config)."""
    negate = text.startswith("label!=")
    prefixed = text.startswith(("label=", "label!="))
    key, value = split_pair(text.partition("=")[2] if prefixed else text)
    if not key:
        raise UsageError(f"Invalid label filter {shown(text)!r}: use label=KEY, label=KEY=VALUE, "
                         "label!=KEY or label!=KEY=VALUE.")
    return LabelFilter(key, value, negate)


@dataclass(frozen=True)
class PruneFilter(Kind):
    """`image prune --filter`: `until=DURATION`, `label=KEY[=VALUE]`, `label!=KEY[=VALUE]`."""

    many: ClassVar[bool] = True

    def convert(self, text: str, flag: str) -> timedelta | LabelFilter:
        key, value = split_pair(text)
        if key == "until" and value is not None:
            try:
                return parse_duration(value)
            except UsageError as exc:
                raise UsageError(f"`{flag} {shown(text)}`: {exc.message}",
                                 detail=exc.detail) from None
        if key in ("label", "label!") and value and split_pair(value)[0]:
            return parse_label_filter(text)
        raise UsageError(f"Invalid filter {shown(text)!r} for `{flag}`: use until=DURATION, "
                         "label=KEY[=VALUE] or label!=KEY[=VALUE].",
                         detail="Example: image prune -a --filter until=24h")

    def gather(self, values: tuple[timedelta | LabelFilter, ...]) -> PruneFilters:
        untils = [v for v in values if isinstance(v, timedelta)]
        return PruneFilters(untils[-1] if untils else None,
                            tuple(v for v in values if isinstance(v, LabelFilter)))
