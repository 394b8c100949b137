"""The App Home tab: a fleet overview when someone opens it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.mrkdwn import Mrkdwn, md
from bot.views import blocks


@dataclass(frozen=True)
class HostLine:
    name: str
    reachable: bool
    running: int
    total: int
    problem: str = ""


@dataclass(frozen=True)
class JobLine:
    name: str
    outcome: str  # ok | error | skipped | running | "" (never ran)
    finished: datetime | None
    summary: str


@dataclass(frozen=True)
class Overview:
    hosts: tuple[HostLine, ...]
    incidents: tuple[tuple[int, str, str, str, int], ...]  # id, container, host, kind, count
    update_notices: int  # update notices waiting for delivery
    jobs: tuple[JobLine, ...]
    at: datetime


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def home_view(overview: Overview) -> dict[str, Any]:
    """The `home` view views.publish takes."""
    host_lines = [md("• :large_green_circle: *{}*: {} running / {} containers", h.name,
                     h.running, h.total) if h.reachable else
                  md("• :red_circle: *{}*: unreachable ({})", h.name, h.problem[:200])
                  for h in overview.hosts]
    incident_lines = [md("• #{} `{}` on {}: {} ({}x)", number, container, host, kind, count)
                      for number, container, host, kind, count in overview.incidents[:20]]
    job_lines = [md("• *{}*: {} {}{}", job.name, job.outcome or "never ran",
                    _when(job.finished) if job.outcome else "",
                    f" — {job.summary[:150]}" if job.summary else "")
                 for job in overview.jobs]
    parts: list[dict[str, Any]] = [
        blocks.header("dockops: the fleet"),
        blocks.section(md("*Hosts* ({})", len(overview.hosts))),
        blocks.section(_lines(host_lines, "No hosts.")),
        blocks.section(md("*Open incidents* ({})", len(overview.incidents))),
        blocks.section(_lines(incident_lines, "None. :tada:")),
        blocks.section(md("*Update notices waiting*: {}", overview.update_notices)),
        blocks.section(md("*Jobs* ({})", len(overview.jobs))),
        blocks.section(_lines(job_lines, "No scheduled jobs.")),
        blocks.context(md("Updated {} · `/docker alerts`, `/docker jobs`, `/docker ps --host all` "
                          "for more", overview.at.astimezone(UTC).strftime("%H:%M:%S UTC")))]
    return {"type": "home", "blocks": parts}


def no_role_view(user_id: str) -> dict[str, Any]:
    """The tab for someone with no dockops role: how to get one, nothing about the fleet."""
    return {"type": "home", "blocks": [
        blocks.header("dockops"),
        blocks.section(md("You have no dockops role, so there is nothing to show here. Ask an "
                          "admin to add your user ID (`{}`) under [access.roles] in the dockops "
                          "config.", user_id))]}


def _lines(lines: Sequence[Mrkdwn], empty: str) -> str:
    return Mrkdwn("\n").join(lines) if lines else empty
