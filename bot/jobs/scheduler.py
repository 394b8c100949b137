"""The job scheduler: APScheduler 3, its jobs in the store's own file, exactly one per data dir.

Jobs missed while the bot was down run once on start (coalesce, no misfire limit); a job
whose schedule did not change keeps its stored next run, so a restart neither skips nor
repeats it. A second process on the same data dir does not schedule (two schedulers on
one store run every job twice); it says so and serves commands as usual. The scheduler
also runs the store's daily housekeeping (retention) and, every minute, the light check that
turns update notices into "applied" (bot/jobs/applied.py), in memory: neither is a configured
job.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.config import JobConfig
from bot.errors import UsageError
from bot.jobs import applied
from bot.jobs import runner as runner_module
from bot.jobs.cron import parse_schedule
from bot.jobs.lock import FileLock
from bot.jobs.runner import JOB_FUNCTION, JobRunner
from bot.store import retention
from bot.store.jobstore import adopt_old_jobs

log = logging.getLogger("dockops.scheduler")

RUN_NOW_SUFFIX = "@now"
JOBS_TABLE = "apscheduler_jobs"
OLD_JOBS_FILE = "jobs.sqlite3"  # the job store's own file before 0.2.0: imported once
LOCK_FILE = "scheduler.lock"
HOUSEKEEPING = "dockops-housekeeping"
APPLIED_CHECK = "dockops-applied-check"


class JobScheduler:
    """Schedules the configured jobs; `start()` is False when another process already does."""

    def __init__(self, runner: JobRunner) -> None:
        self.runner = runner
        data_dir = runner.services.settings.data_dir
        self.lock = FileLock(data_dir / LOCK_FILE)
        self.store_url = f"sqlite:///{runner.services.store.path}"
        self.scheduler: BackgroundScheduler | None = None
        self.refusal = ""

    @property
    def running(self) -> bool:
        return self.scheduler is not None

    def start(self) -> bool:
        """Take the data dir's scheduler lock and start; False (and `refusal`) when taken."""
        if self.scheduler is not None:
            return True
        if not self.lock.acquire():
            holder = self.lock.holder()
            self.refusal = (f"Another dockops process{f' (pid {holder})' if holder else ''} "
                            f"runs the scheduler for {self.runner.services.settings.data_dir}: "
                            "jobs are scheduled there, not here.")
            log.warning("scheduler not started: %s", self.refusal)
            return False
        store = self.runner.services.store
        jobs = SQLAlchemyJobStore(engine=store.engine, tablename=JOBS_TABLE)
        adopt_old_jobs(store, jobs.jobs_t, store.path.with_name(OLD_JOBS_FILE))
        scheduler = BackgroundScheduler(
            jobstores={"default": jobs, "internal": MemoryJobStore()},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
            timezone=UTC,
        )
        runner_module.install(self.runner)
        # Paused until the stored jobs match the config: nothing fires on a stale schedule.
        scheduler.start(paused=True)
        self.scheduler = scheduler
        self.sync()
        scheduler.add_job(self.housekeep, "interval", hours=24, next_run_time=datetime.now(UTC),
                          id=HOUSEKEEPING, jobstore="internal")
        scheduler.add_job(self.check_applied, "interval", seconds=applied.interval_seconds(),
                          id=APPLIED_CHECK, jobstore="internal")
        scheduler.resume()
        log.info("scheduler started: %d job(s)", len(self.runner.jobs))
        return True

    def sync(self) -> None:
        """Make the job store hold exactly the configured jobs."""
        assert self.scheduler is not None
        wanted = {job.name: job for job in self.runner.jobs}
        stored = {job.id: job for job in self.scheduler.get_jobs(jobstore="default")}
        for name, job in wanted.items():
            trigger = parse_schedule(job.schedule)
            current = stored.get(name)
            if current is not None and str(current.trigger) == str(trigger) \
                    and current.func_ref == JOB_FUNCTION and list(current.args) == [name]:
                continue  # unchanged: keep its next run (a missed one fires now) and pause state
            self.scheduler.add_job(JOB_FUNCTION, trigger, args=[name], id=name, name=name,
                                   replace_existing=True)
        for job_id in stored:
            if job_id.removesuffix(RUN_NOW_SUFFIX) not in wanted:
                self.scheduler.remove_job(job_id)

    def housekeep(self) -> retention.Expired:
        """Delete what the store keeps no longer ([store] retention, expired tokens and keys)."""
        services = self.runner.services
        expired = retention.expire(services.store, services.settings.store)
        log.info("housekeeping: %s", expired)
        return expired

    def check_applied(self) -> int:
        """Edit the update notices whose containers now run the new digest (bot/jobs/applied);
        how many edits were queued."""
        try:
            edits = applied.look(self.runner.services).edits
        except Exception:  # the next look tries again; a scheduler job must not die
            log.exception("applied check failed")
            return 0
        if edits and self.runner.outbox is not None:
            self.runner.outbox.notify()
        return len(edits)

    def shutdown(self, wait: bool = True) -> None:
        """Stop scheduling (waiting for running jobs when `wait`) and release the lock."""
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=wait)
            self.scheduler = None
            runner_module.install(None)
        self.lock.release()

    # -- what the slash commands use -----------------------------------------------------

    def _job(self, name: str) -> JobConfig:
        return self.runner.job(name)

    def next_run(self, name: str) -> datetime | None:
        """The next scheduled run (None when paused or not scheduled here)."""
        if self.scheduler is None:
            return None
        job = self.scheduler.get_job(name)
        return job.next_run_time if job else None

    def paused(self, name: str) -> bool:
        if self.scheduler is None:
            return False
        job = self.scheduler.get_job(name)
        return job is not None and job.next_run_time is None

    def run_now(self, name: str) -> None:
        """Run the job once, now, as a separate one-off job: its schedule does not move."""
        self._job(name)
        scheduler = self._require()
        scheduler.add_job(JOB_FUNCTION, "date", run_date=datetime.now(UTC), args=[name, "manual"],
                          id=f"{name}{RUN_NOW_SUFFIX}", name=f"{name} (run now)",
                          replace_existing=True)

    def pause(self, name: str) -> None:
        self._job(name)
        try:
            self._require().pause_job(name)
        except JobLookupError:
            raise UsageError(f"Job `{name}` is not scheduled.") from None

    def resume(self, name: str) -> datetime | None:
        self._job(name)
        try:
            job = self._require().resume_job(name)
        except JobLookupError:
            raise UsageError(f"Job `{name}` is not scheduled.") from None
        return job.next_run_time if job else None

    def _require(self) -> BackgroundScheduler:
        if self.scheduler is None:
            raise UsageError(self.refusal or "The scheduler is not running in this process.",
                             detail="Jobs are scheduled by `dockops serve`; pause and resume "
                                    "them there (`/docker jobs pause NAME`).")
        return self.scheduler
