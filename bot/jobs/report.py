"""What a job run hands back: its outcome, a one-line summary, and the notices to deliver."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.config import JobConfig, PruneJobConfig, UpdateJobConfig
from bot.jobs.notices import NoticeData
from bot.services import Services


@dataclass(frozen=True)
class Notice:
    """One notice a job wants delivered, under a key that queues it at most once.

    `seen` is a (image, marker) pair recorded in the same transaction that queues the
    notice: a notice whose marker is already recorded is not queued again.
    `forget` (on the report) drops a marker (a registry that answers again may fail again).
    """

    key: str
    data: NoticeData
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

    @property
    def prune_job(self) -> PruneJobConfig:
        """The config of a prune job (the runner picks the job's code by its type)."""
        if not isinstance(self.job, PruneJobConfig):
            raise TypeError(f"job {self.job.name} is not a prune job")
        return self.job

    @property
    def update_job(self) -> UpdateJobConfig:
        """The config of an update job (the runner picks the job's code by its type)."""
        if not isinstance(self.job, UpdateJobConfig):
            raise TypeError(f"job {self.job.name} is not an update job")
        return self.job
