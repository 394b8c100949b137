"""The docker CLI's own formatting rules: sizes, durations, ages, IDs, commands, ports.

Ported from go-units (size.go, duration.go) and docker/cli `cli/command/formatter/`
(container.go, image.go, displayutils.go); tests/test_units.py holds their test tables.
No docker-py and no Slack here: every layer may call it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

_DECIMAL = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def _scaled(n: float, base: float, units: tuple[str, ...]) -> tuple[float, str]:
    i = 0
    while n >= base and i < len(units) - 1:
        n /= base
        i += 1
    return n, units[i]


def _go_g(value: float, precision: int) -> str:
    """Go's `%.Ng`: C's %g, which Python's `%` operator follows (exponent `e+03`)."""
    return f"{value:.{precision}g}"


def human_size_with_precision(n: float, precision: int) -> str:
    """go-units `HumanSizeWithPrecision`: decimal units, `precision` significant digits."""
    value, unit = _scaled(float(n), 1000.0, _DECIMAL)
    return f"{_go_g(value, precision)}{unit}"


def human_size(n: float) -> str:
    """`1.99MB`, `800B`, `2.5kB`: image and container sizes as `docker ps -s`/`images` print
    them (go-units HumanSizeWithPrecision(n, 3))."""
    return human_size_with_precision(n, 3)


def disk_size(n: float) -> str:
    """go-units `HumanSize` (4 significant digits): the sizes of `docker system df`."""
    return human_size_with_precision(n, 4)


def bytes_size(n: float) -> str:
    """`23.54GiB`: memory as the CLI prints it (go-units BytesSize, binary, 4 digits)."""
    value, unit = _scaled(float(n), 1024.0, _BINARY)
    return f"{_go_g(value, 4)}{unit}"


def human_duration(seconds: float) -> str:
    """go-units `HumanDuration`: "Less than a second" ... "About a minute" ... "3 weeks"."""
    whole = math.trunc(seconds)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    minutes = math.trunc(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = math.trunc(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{math.trunc(seconds / 3600) // 24 // 365} years"


def ago(moment: datetime, now: datetime | None = None) -> str:
    """`2 weeks ago`: CREATED / CreatedSince / RunningFor as the CLI words them."""
    now = now or datetime.now(UTC)
    return human_duration((now - moment).total_seconds()) + " ago"


def short_id(id: str) -> str:
    """The CLI's `stringid.TruncateID`: drop an `algo:` prefix, keep 12 characters."""
    bare = id.split(":", 1)[1] if ":" in id else id
    return bare[:12]


def _char_width(char: str) -> int:
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def ellipsis(text: str, width: int) -> str:
    """docker/cli `formatter.Ellipsis`: at most `width` display columns (East Asian wide
    characters count 2), the last one `…`; width 1 keeps only the first character."""
    if width <= 0:
        return ""
    if width == 1:
        return text[:1]
    if sum(_char_width(c) for c in text) <= width:
        return text
    used = 0
    for i, char in enumerate(text):
        used += _char_width(char)
        if used > width - 1:
            return text[:i] + "…"
    return text


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
               "\t": "\\t", "\v": "\\v", '"': '\\"', "\\": "\\\\"}


def go_quote(text: str) -> str:
    """Go's `strconv.Quote`: double quotes, backslash escapes, printable Unicode kept."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif char.isprintable() and unicodedata.category(char) != "Co":
            out.append(char)
        elif code < 0x80:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def ps_command(command: str, *, no_trunc: bool = False) -> str:
    """The COMMAND column: `"sh -c 'sleep…"`, cut at 20 columns unless --no-trunc, then
    quoted as Go's strconv.Quote."""
    return go_quote(command if no_trunc else ellipsis(command, 20))


_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}")


def familiar_name(reference: str) -> str:
    """`docker.io/library/busybox:1` as `busybox:1`: a reference as the CLI shows it."""
    for prefix in ("docker.io/library/", "index.docker.io/library/"):
        if reference.startswith(prefix) and "/" not in reference[len(prefix):]:
            return reference[len(prefix):]
    for prefix in ("docker.io/", "index.docker.io/"):
        if reference.startswith(prefix):
            return reference[len(prefix):]
    return reference


def ps_image(image: str, image_id: str, *, no_trunc: bool = False) -> str:
    """The IMAGE column of `docker ps`: never cut; an image given by ID shows the short ID;
    a digest is dropped (the tag kept) and `docker.io/library/` trimmed."""
    if not image:
        return "<no image>"
    if no_trunc:
        return image
    if image_id and short_id(image_id) == short_id(image):
        return short_id(image)
    name, _, digest = image.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        return image
    return familiar_name(name)


@dataclass(frozen=True)
class Port:
    """One entry of a container's port list, as the engine's list API returns it."""

    private_port: int
    type: str = "tcp"
    public_port: int = 0
    ip: str = ""


def _join_host_port(host: str, port: str) -> str:
    """Go's `net.JoinHostPort`: IPv6 hosts in brackets."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _port_group(key: str, first: int, last: int) -> str:
    ip, _, kind = key.rpartition("/")
    group = str(first) if first == last else f"{first}-{last}"
    if ip:
        group = f"{_join_host_port(ip, group)}->{group}"
    return f"{group}/{kind}"


def displayable_ports(ports: Iterable[Port]) -> str:
    """docker/cli `DisplayablePorts`: `0.0.0.0:3000->80/tcp, [::]:3000->80/tcp, 9998-9999/udp`.

    Sorted by private port, IP, public port, protocol; runs of consecutive ports published on
    the same port number group into ranges; other host mappings come last.
    """
    ordered = sorted(ports, key=lambda p: (p.private_port, p.ip, p.public_port, p.type))
    groups: dict[str, list[int]] = {}  # key -> [first, last], in the order keys appeared
    result: list[str] = []
    host_mappings: list[str] = []
    for port in ordered:
        current = port.private_port
        key = port.type
        if port.ip:
            if port.public_port != current:
                host_mappings.append(f"{_join_host_port(port.ip, str(port.public_port))}->"
                                     f"{current}/{port.type}")
                continue
            key = f"{port.ip}/{port.type}"
        group = groups.get(key)
        if group is None:
            groups[key] = [current, current]
        elif current == group[1] + 1:
            group[1] = current
        else:
            result.append(_port_group(key, *group))
            groups[key] = [current, current]
    result += [_port_group(key, first, last) for key, (first, last) in groups.items()]
    return ", ".join(result + host_mappings)


def ansic(moment: datetime) -> str:
    """Go's `time.ANSIC` layout, `Thu May  7 21:09:36 2026`: `Built` in `docker version`."""
    return f"{moment:%a %b} {moment.day:>2} {moment:%H:%M:%S %Y}"
