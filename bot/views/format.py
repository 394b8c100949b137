"""How values read: relative times, human sizes, aligned tables, short IDs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import humanize


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """`3 minutes ago`, as `docker ps` says it."""
    if moment is None:
        return "never"
    now = now or datetime.now(UTC)
    return humanize.naturaltime(now - moment)


def size(value: int | float) -> str:
    """`1.2 GB`, decimal units as the docker CLI prints them."""
    return humanize.naturalsize(value, format="%.1f")


def short_id(value: str, full: bool = False) -> str:
    """`sha256:abcdef...` as the 12-character ID the CLI shows."""
    bare = value.split(":", 1)[-1]
    return bare if full else bare[:12]


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], gap: str = "   ",
          min_width: int = 0) -> str:
    """Columns aligned like the docker CLI's tables (Go's tabwriter: padding `gap`, each
    column at least `min_width` wide with its padding, the last one not padded)."""
    widths = [max(len(h), min_width - len(gap)) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [gap.join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
             for line in (headers, *rows)]
    return "\n".join(lines) + "\n"


def truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
