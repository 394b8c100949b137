"""`dockops check`: the configuration validated, each mistake explained (load() raised them)."""

from __future__ import annotations

from bot.config import Settings


def check(settings: Settings) -> int:
    source = settings.source or "built-in defaults (no config file)"
    print(f"dockops: configuration OK ({source})")
    if settings.access is None:
        print("  note: no [access] section: nobody in Slack may run commands (the console may).")
    for job in settings.jobs:
        print(f"  job {job.name}: {job.type}, schedule {job.schedule!r} (UTC)")
    return 0
