"""`dockops check`: the configuration validated, each mistake explained with its line.

Syntax and value mistakes are raised by `load()` (one line each); what needs the
whole file (a job on a host that is not configured) is found here.
"""

from __future__ import annotations

import sys
from typing import TextIO

from bot.config import Settings
from bot.jobs.cron import next_runs


def problems(settings: Settings) -> list[str]:
    """Mistakes only visible across sections, one sentence each with the fix."""
    found: list[str] = []
    hosts = set(settings.hosts) or {"local"}  # `local` exists only when no hosts are set
    for job in settings.jobs:
        for host in job.hosts:
            if host not in hosts:
                found.append(f"job {job.name}: host {host!r} is not configured: add "
                             f"[hosts.{host}] or use one of {', '.join(sorted(hosts))}.")
    return found


def notes(settings: Settings) -> list[str]:
    """Things that work but may surprise."""
    found: list[str] = []
    if settings.access is None:
        found.append("no [access] section: nobody in Slack may run commands (the console may).")
    empty = [key for key in ("team_ids", "app_ids") if not getattr(settings.slack, key)]
    if settings.env.slack_signing_secret and empty:
        # check cannot tell how the bot will be served; a signing secret means HTTP mode.
        found.append(f"[slack] {' and '.join(empty)} {'is' if len(empty) == 1 else 'are'} "
                     "empty: in HTTP mode any workspace or app holding the signing secret is "
                     "served; set them to your workspace's T... and your app's A... IDs.")
    channels = settings.access.channels if settings.access else []
    for job in settings.jobs:
        if channels and job.channel not in channels:
            found.append(f"job {job.name} posts to {job.channel}, which is not in [access] "
                         "channels: people there cannot use its buttons.")
    return found


def check(settings: Settings, out: TextIO = sys.stdout) -> int:
    """Print the verdict; 0 when the configuration is usable, 1 when it is not."""
    source = settings.source or "built-in defaults (no config file)"
    mistakes = problems(settings)
    if mistakes:
        out.write(f"dockops: {len(mistakes)} mistake(s) in {source}:\n")
        out.writelines(f"  {line}\n" for line in mistakes)
        return 1
    out.write(f"dockops: configuration OK ({source})\n")
    for line in notes(settings):
        out.write(f"  note: {line}\n")
    for job in settings.jobs:
        upcoming = ", ".join(f"{when:%a %Y-%m-%d %H:%M}" for when in next_runs(job.schedule, 2))
        out.write(f"  job {job.name}: {job.type} every {job.schedule!r} (UTC), next {upcoming}; "
                  f"posts to {job.channel}\n")
    return 0
