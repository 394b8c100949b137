"""Running a job: one at a time per job (across processes), recorded, measured, delivered.

APScheduler stores jobs as `"bot.jobs.runner:run_job"` with the job's name as the only
argument; `install()` tells that function which runner the process uses.
"""

from __future__ import annotations

import logging
import time
import uuid

from bot import metrics
from bot.config import JobConfig
from bot.errors import DockopsError, UsageError
from bot.jobs.lock import FileLock
from bot.jobs.notices import JobFailed, NoticeData, encode
from bot.jobs.outbox import Outbox
from bot.jobs.report import JobContext, JobReport, Notice
from bot.services import Services
from bot.store import jobs as records
from bot.store import outbox as outbox_rows

log = logging.getLogger("dockops.jobs")

JOB_FUNCTION = "bot.jobs.runner:run_job"

_runner: JobRunner | None = None


def install(runner: JobRunner | None) -> None:
    """Make `runner` the one scheduled runs use in this process (None: none)."""
    global _runner
    _runner = runner


def run_job(name: str, trigger: str = "schedule") -> None:
    """The scheduler's entry point: run the named job with the installed runner."""
    if _runner is None:
        log.error("job %s fired but no runner is installed; skipped", name)
        return
    _runner.run(name, trigger=trigger)


class JobRunner:
    """Runs configured jobs and hands their notices to the outbox."""

    def __init__(self, services: Services, outbox: Outbox | None) -> None:
        self.services = services
        self.outbox = outbox

    def seed_last_success(self) -> None:
        """Each job's last-success gauge from the store, so a restart keeps the age."""
        for job in self.jobs:
            runs = records.recent_runs(self.services.store, job.name, 50)
            ok = next((r.finished_at for r in runs if r.outcome == "ok" and r.finished_at), None)
            if ok is not None:
                metrics.JOB_LAST_SUCCESS.labels(job.name).set(ok.timestamp())

    @property
    def jobs(self) -> list[JobConfig]:
        return list(self.services.settings.jobs)

    def job(self, name: str) -> JobConfig:
        for job in self.jobs:
            if job.name == name:
                return job
        known = ", ".join(j.name for j in self.jobs) or "none are configured"
        raise UsageError(f"No job named `{name}`.", detail=f"Jobs: {known} (`/docker jobs`).")

    def run(self, name: str, trigger: str = "manual") -> tuple[JobReport, list[NoticeData]]:
        """Run the job now; the report and the notices it queued (or would have)."""
        job = self.job(name)
        lock = FileLock(self.services.settings.data_dir / "locks" / f"job-{name}.lock")
        if not lock.acquire():
            report = JobReport("skipped", "skipped: the previous run is still going")
            run_id = records.start_run(self.services.store, name, trigger)
            records.finish_run(self.services.store, run_id, report.outcome, report.summary)
            metrics.JOB_RUNS.labels(name, report.outcome).inc()
            return report, []
        try:
            return self._run_locked(job, trigger)
        finally:
            lock.release()

    def _run_locked(self, job: JobConfig, trigger: str) -> tuple[JobReport, list[NoticeData]]:
        store = self.services.store
        run_id = records.start_run(store, job.name, trigger)
        started = time.monotonic()
        try:
            report = self._perform(JobContext(job, self.services, run_id, trigger))
        except DockopsError as exc:
            report = JobReport("error", exc.message, (self._failure_notice(job, run_id, exc),))
        except Exception:
            reference = uuid.uuid4().hex[:8]
            log.exception("job %s failed (reference %s)", job.name, reference)
            report = JobReport("error", f"internal error (reference {reference})",
                               (self._failure_notice(job, run_id, DockopsError(
                                   f"dockops hit an internal error (reference `{reference}`); "
                                   "the details are in the bot's log.")),))
        delivered = self.deliver(job, report)
        records.finish_run(store, run_id, report.outcome, report.summary)
        metrics.JOB_RUNS.labels(job.name, report.outcome).inc()
        metrics.JOB_SECONDS.labels(job.name).observe(time.monotonic() - started)
        if report.outcome == "ok":
            metrics.JOB_LAST_SUCCESS.labels(job.name).set_to_current_time()
        log.info("job %s (%s) %s: %s", job.name, trigger, report.outcome, report.summary)
        return report, delivered

    @staticmethod
    def _perform(ctx: JobContext) -> JobReport:
        if ctx.job.type == "prune":
            from bot.jobs import prune

            return prune.run(ctx)
        from bot.jobs import updates

        return updates.run(ctx)

    @staticmethod
    def _failure_notice(job: JobConfig, run_id: int, exc: DockopsError) -> Notice:
        return Notice(f"{job.name}:failed:{run_id}", JobFailed(job.name, exc.message, exc.detail))

    def deliver(self, job: JobConfig, report: JobReport) -> list[NoticeData]:
        """Queue each new notice with its seen-marker in one transaction; the notices queued."""
        queued: list[NoticeData] = []
        with self.services.store.session.begin() as session:
            for image, marker in report.forget:
                records.forget_seen(session, job.name, image, marker)
        for notice in report.notices:
            with self.services.store.session.begin() as session:
                if notice.seen and records.was_seen(session, job.name, *notice.seen):
                    continue
                if self.outbox is not None:
                    outbox_rows.queue(session, job.channel, encode(notice.data), notice.key)
                if notice.seen:
                    records.mark_seen(session, job.name, *notice.seen)
            queued.append(notice.data)
        if self.outbox is not None and queued:
            self.outbox.notify()
        return queued
