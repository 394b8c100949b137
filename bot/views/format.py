"""How values read: relative times, human sizes, aligned tables, short IDs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot import units


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """`3 minutes ago`, `About an hour ago`: the docker CLI's words (bot.units.ago)."""
    return "never" if moment is None else units.ago(moment, now)


def size(value: int | float) -> str:
    """`1.99MB`, `800B`: decimal, 3 significant digits, as `docker images` (bot.units)."""
    return units.human_size(value)


def short_id(value: str, full: bool = False) -> str:
    """`sha256:abcdef...` as the 12-character ID the CLI shows (the bare ID with `full`)."""
    return value.split(":", 1)[-1] if full else units.short_id(value)


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
