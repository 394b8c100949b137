"""`dockops check`: the configuration validated, each mistake explained with its line.

Syntax and value mistakes are raised by `load()` (one line each); what needs the
whole file (a job on a host that is not configured) is found here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from bot import preflight
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
    for alert in settings.alerts:
        for host in alert.hosts:
            if host not in hosts:
                found.append(f"alert {alert.name}: host {host!r} is not configured: add "
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
    for alert in settings.alerts:
        if channels and alert.channel not in channels:
            found.append(f"alert {alert.name} posts to {alert.channel}, which is not in [access] "
                         "channels: people there cannot use its buttons.")
    return found


def environment(settings: Settings, ports: Sequence[tuple[str, int, str]] = ()
                ) -> tuple[list[str], list[str]]:
    """What `serve` would fail on at start, found without starting (nothing is created);
    and what was checked. Tokens that are set are shown to Slack: auth.test for the bot
    token, apps.connections.open for the app token (the URL it issues is left unused)."""
    found = [preflight.data_dir_problem(settings.data_dir, create=False)]
    checked = [f"data directory {settings.data_dir} writable (a test file was written)"]
    found += [preflight.port_problem(host, port, flag) for host, port, flag in ports]
    checked += [f"{flag} {port} free on {host}" for host, port, flag in ports]
    env = settings.env
    for variable, token, method in (("SLACK_BOT_TOKEN", env.slack_bot_token, "auth.test"),
                                    ("SLACK_APP_TOKEN", env.slack_app_token,
                                     "apps.connections.open")):
        if token:
            found.append(preflight.slack_token_problem(variable, token, env.slack_api_url))
            checked.append(f"{variable} shown to Slack ({method}) and not refused")
    return [f"{line}." for line in found if line], checked


def check(settings: Settings, out: TextIO = sys.stdout,
          ports: Sequence[tuple[str, int, str]] = ()) -> int:
    """Print the verdict; 0 when the configuration and environment are usable, 1 when not."""
    source = settings.source or "built-in defaults (no config file)"
    mistakes = problems(settings)
    if mistakes:
        out.write(f"dockops: {len(mistakes)} mistake(s) in {source}:\n")
        out.writelines(f"  {line}\n" for line in mistakes)
        return 1
    trouble, checked = environment(settings, ports)
    if trouble:
        out.write(f"dockops: configuration OK ({source}), but {len(trouble)} problem(s) in "
                  "the environment:\n")
        out.writelines(f"  {line}\n" for line in trouble)
        return 1
    out.write(f"dockops: configuration OK ({source})\n")
    out.writelines(f"  checked: {line}\n" for line in checked)
    for line in notes(settings):
        out.write(f"  note: {line}\n")
    for job in settings.jobs:
        upcoming = ", ".join(f"{when:%a %Y-%m-%d %H:%M}" for when in next_runs(job.schedule, 2))
        out.write(f"  job {job.name}: {job.type} every {job.schedule!r} (UTC), next {upcoming}; "
                  f"posts to {job.channel}\n")
    for alert in settings.alerts:
        out.write(f"  alert {alert.name}: {', '.join(alert.events)} on "
                  f"{', '.join(alert.hosts) or 'every host'}; posts to {alert.channel}\n")
    return 0
