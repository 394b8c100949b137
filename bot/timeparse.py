"""Times as the docker CLI accepts them: 10m, 2h, RFC 3339, unix seconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.errors import UsageError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """A Go-style duration such as `90s`, `10m`, `1h30m` or `168h`."""
    text = text.strip()
    if not text or _DURATION.sub("", text):
        raise UsageError(f"{text!r} is not a duration.", detail="Use forms like 30s, 10m, 2h, 1h30m.")
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _DURATION.findall(text))
    return timedelta(seconds=seconds)


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """A point in time: relative (`10m` ago), RFC 3339 / ISO date, or unix seconds."""
    now = now or datetime.now(UTC)
    value = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return datetime.fromtimestamp(float(value), UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        return now - parse_duration(value)
    except UsageError:
        raise UsageError(
            f"{text!r} is not a time.",
            detail="Use a duration (10m, 2h), an RFC 3339 time (2026-11-27T10:00:00Z) "
                   "or unix seconds.",
        ) from None


def from_docker(value: str | int | float | None) -> datetime | None:
    """The engine's timestamps (RFC 3339 with nanoseconds, or unix seconds) as datetimes."""
    if value in (None, "", 0, "0001-01-01T00:00:00Z"):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    text = re.sub(r"(\.\d{6})\d+", r"\1", value).replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
