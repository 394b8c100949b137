"""What a job run hands back: its outcome, a one-line summary, and the notices to deliver."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import JobConfig
from bot.services import Services
from bot.views.message import Message


@dataclass(frozen=True)
class Notice:
    """One Slack message a job wants delivered.

    `seen` is a (image, marker) pair recorded in the same transaction that queues the
    message: a notice whose marker is already recorded is not queued again.
    `forget` drops a marker (a registry that answers again may fail again later).
    """

    key: str
    message: Message
    seen: tuple[str, str] | None = None


@dataclass(frozen=True)
class JobReport:
    outcome: str  # ok | error | skipped
    summary: str
    notices: tuple[Notice, ...] = ()
    forget: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class JobContext:
    """What a job's code gets: its config, the bot's services, and this run's id."""

    job: JobConfig
    services: Services
    run_id: int
    trigger: str = "schedule"
    extra: dict[str, str] = field(default_factory=dict)
