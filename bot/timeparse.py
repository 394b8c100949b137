"""Times as the docker CLI accepts them: 10m, 2h, RFC 3339, unix seconds.

Every input out of range (1e999, 99999999999d, year 10000) is a UsageError sentence, never
an OverflowError: the text comes from anyone in Slack.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

from bot.errors import UsageError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)", re.ASCII)
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
# Go's time.Duration is int64 nanoseconds (about 292 years): docker refuses anything longer.
MAX_DURATION_SECONDS = (2**63 - 1) / 1e9
_NUMBER = re.compile(r"\d+(\.\d+)?", re.ASCII)
_YEAR_10000 = 253402300800  # unix seconds
_DURATIONS = re.compile(rf"(?:{_DURATION.pattern})+", re.ASCII)
_TIME_HELP = ("Use a duration (10m, 2h), an RFC 3339 time (2026-11-27T10:00:00Z) "
              "or unix seconds.")


def parse_duration(text: str) -> timedelta:
    """A Go-style duration such as `90s`, `10m`, `1h30m` or `168h`."""
    text = text.strip()
    if not text or _DURATION.sub("", text):
        raise UsageError(f"{_short(text)} is not a duration.",
                         detail="Use forms like 30s, 10m, 2h, 1h30m.")
    seconds = sum(float(n) * _UNITS[unit] for n, unit in _DURATION.findall(text))
    if not seconds <= MAX_DURATION_SECONDS:  # also catches inf from a 400-digit number
        raise UsageError(f"{_short(text)} is longer than any duration docker takes "
                         "(about 292 years).", detail="Use forms like 30s, 10m, 2h, 1h30m.")
    return timedelta(seconds=seconds)


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """A point in time (UTC): relative (`10m` ago), RFC 3339 / ISO date, or unix seconds."""
    now = now or datetime.now(UTC)
    value = text.strip()
    try:
        if _NUMBER.fullmatch(value):
            seconds = float(value)
            if not seconds < _YEAR_10000:  # fromtimestamp says ValueError, not OverflowError
                raise OverflowError(value)
            return datetime.fromtimestamp(seconds, UTC)
        if _DURATIONS.fullmatch(value):
            return now - parse_duration(value)  # a duration too long says so itself
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        # In UTC now: an offset at year 1 or 9999 overflows here, not later in docker-py.
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (OverflowError, OSError):
        raise UsageError(f"{_short(text)} is out of range: a time must fall between the years "
                         "1 and 9999.", detail=_TIME_HELP) from None
    except ValueError:
        raise UsageError(f"{_short(text)} is not a time.", detail=_TIME_HELP) from None


_FRACTION = re.compile(r"(?P<head>.*?T\d\d:\d\d:\d\d)\.(?P<digits>\d{1,9})(?P<zone>.*)", re.ASCII)


def engine_timestamp(text: str, *, now: datetime | None = None) -> str:
    """`--since`/`--until` as the docker CLI sends them: `SECONDS.NANOSECONDS` for a time (RFC
    3339 keeps all nine digits), whole seconds for a duration, unix seconds passed on as typed."""
    value = text.strip()
    if _NUMBER.fullmatch(value):
        parse_time(value)  # out of range says so here
        return value
    if _DURATIONS.fullmatch(value):
        return str(int(parse_time(value, now=now).timestamp()))
    nanos = 0
    if match := _FRACTION.fullmatch(value):  # Python keeps microseconds: read the digits here
        nanos = int(match["digits"].ljust(9, "0"))
        value = match["head"] + match["zone"]
    moment = parse_time(value, now=now)
    return f"{calendar.timegm(moment.utctimetuple())}.{nanos or moment.microsecond * 1000:09d}"


def _short(text: str) -> str:
    """The user's text quoted, cut so a 4000-digit number does not fill the answer."""
    text = text.strip()
    return repr(text if len(text) <= 40 else text[:37] + "...")


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
