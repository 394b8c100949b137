"""What a registry says about its pull allowance, and how long a 429 asks us to wait.

Docker Hub sends `ratelimit-limit: 100;w=21600` and `ratelimit-remaining: 76;w=21600`
(pulls per window of seconds); other registries send nothing, and then nothing is known.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

MAX_RETRY_AFTER = 3600.0


@dataclass(frozen=True)
class Quota:
    """A registry's pull allowance as its last answer gave it."""

    registry: str
    limit: int
    remaining: int
    window: int  # seconds; 0 when not given
    seen_at: float  # time.time() of the answer

    def describe(self) -> str:
        """`76 of 100 pulls left (per 6h)`."""
        per = f" (per {_hours(self.window)})" if self.window else ""
        return f"{self.remaining} of {self.limit} pulls left{per}"


def _hours(seconds: int) -> str:
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds}s"


def _number(value: str | None) -> tuple[int, int] | None:
    """`100;w=21600` -> (100, 21600); `100` -> (100, 0); None when unreadable."""
    if not value:
        return None
    head, *params = (part.strip() for part in value.split(";"))
    window = 0
    for param in params:
        key, _, raw = param.partition("=")
        if key.strip() == "w" and raw.strip().isdigit():
            window = int(raw.strip())
    return (int(head), window) if head.isdigit() else None


def parse_quota(registry: str, headers: Mapping[str, str]) -> Quota | None:
    """The quota in a response's headers; None when the registry sends none."""
    limit = _number(headers.get("ratelimit-limit"))
    remaining = _number(headers.get("ratelimit-remaining"))
    if limit is None or remaining is None:
        return None
    return Quota(registry, limit[0], remaining[0], remaining[1] or limit[1], time.time())


def retry_after(headers: Mapping[str, str], default: float = 60.0) -> float:
    """Seconds a 429 asks to wait: `Retry-After` as seconds or an HTTP date, capped at an hour."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return default
    return min(MAX_RETRY_AFTER, max(1.0, seconds))


class QuotaFile:
    """The last quota seen per registry, kept in the data dir so `/docker jobs` (in any
    process) can show what remains."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[Quota]:
        try:
            rows = json.loads(self.path.read_text())
            return [Quota(**row) for row in rows]
        except (OSError, ValueError, TypeError):
            return []

    def save(self, quotas: list[Quota]) -> None:
        if not quotas:
            return
        known = {quota.registry: quota for quota in self.load()}
        known.update({quota.registry: quota for quota in quotas})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps([asdict(quota) for quota in known.values()]))
        partial.replace(self.path)
