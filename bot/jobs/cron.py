"""Crontab lines as APScheduler triggers, read the way cron reads them (Sunday = 0 or 7), in UTC.

APScheduler 3's `CronTrigger.from_crontab` counts day-of-week from Monday = 0, so a
crontab `0` would fire on Mondays: the five fields are parsed here and the weekday is
handed over by name.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger

# crontab numbering: 0 and 7 are Sunday.
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MACROS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * sun", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELDS = ("minute", "hour", "day of month", "month", "day of week")
_RANGES = ("fields are minute (0-59), hour (0-23), day of month (1-31), month (1-12 or jan-dec), "
           "day of week (0-7 or sun-sat)")
_DOW_ITEM = re.compile(r"^(\*|[0-7a-z]+)(?:-([0-7a-z]+))?(?:/(\d+))?$")


class CronError(ValueError):
    """A schedule that is not a crontab line; the message says which field and how to fix it."""


def _weekday_number(token: str) -> int:
    if token.isdigit() and int(token) <= 7:
        return int(token) % 7
    name = token[:3]
    if len(token) == 3 and name in _CRON_DAYS:
        return _CRON_DAYS.index(name)
    raise CronError(f"day of week {token!r} is not a day: use 0-7 (0 and 7 = Sunday) or "
                    "sun, mon, tue, wed, thu, fri, sat")


def _day_of_week(field: str) -> str:
    """The crontab weekday field as APScheduler weekday names (`*` stays `*`)."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        match = _DOW_ITEM.match(item)
        if not match:
            raise CronError(f"day of week {item!r} is not understood: use forms like 1-5, "
                            "mon-fri, sat,sun or */2")
        first, last, step = match.groups()
        if first == "*":
            start, end = 0, 6
        else:
            start = _weekday_number(first)
            # A range ending in 7 (e.g. 5-7) means "through Sunday".
            end = (7 if last == "7" else _weekday_number(last)) if last else \
                (6 if step else start)
        if end < start:
            raise CronError(f"day of week range {item!r} runs backwards: write it as "
                            "two parts, e.g. fri-sat,sun")
        days.update(d % 7 for d in range(start, end + 1, int(step or 1)))
    # Listed Monday first, as people read a week.
    return ",".join(_CRON_DAYS[d] for d in sorted(days, key=lambda d: (d - 1) % 7))


def parse_schedule(schedule: str) -> CronTrigger:
    """A crontab line (`m h dom mon dow`, or @daily...) as a UTC CronTrigger."""
    text = " ".join(schedule.split())
    text = _MACROS.get(text.lower(), text)
    parts = text.split(" ")
    if len(parts) != 5:
        raise CronError(f"schedule {schedule!r} has {len(parts)} field(s), a crontab line has 5: "
                        "minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\" "
                        "(03:00 UTC daily)")
    minute, hour, day, month, dow = parts
    weekday = _day_of_week(dow)
    fields = {"minute": minute, "hour": hour, "day": day, "month": month.lower(),
              "day_of_week": weekday}
    for (name, value), label in zip(fields.items(), _FIELDS, strict=True):
        try:
            CronTrigger(**{name: value}, timezone=UTC)
        except ValueError as exc:
            reason = re.sub(r"^Error validating expression '[^']*': ", "", str(exc))
            raise CronError(f"schedule {schedule!r}: {label} {value!r} is not valid ({reason}); "
                            f"{_RANGES}") from None
    if day != "*" and dow != "*":
        # cron runs when EITHER matches; APScheduler would need both. Refuse rather than differ.
        raise CronError(f"schedule {schedule!r} restricts both the day of month and the day "
                        "of week (cron then runs on either): restrict only one of them")
    return CronTrigger(**fields, timezone=UTC)


def next_runs(schedule: str, count: int = 3, after: datetime | None = None) -> list[datetime]:
    """The next `count` times the schedule fires, in UTC."""
    trigger = parse_schedule(schedule)
    moment = after or datetime.now(UTC)
    previous = None
    runs: list[datetime] = []
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        runs.append(fire)
        previous, moment = fire, fire
    return runs
