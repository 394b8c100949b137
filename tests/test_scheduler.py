"""The scheduler: one per data dir, config is the truth, restarts neither skip nor repeat."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot import metrics
from bot.jobs.runner import JobRunner
from bot.jobs.scheduler import JobScheduler
from bot.pipeline import Pipeline
from bot.policy import Actor
from bot.services import Services
from bot.store import jobs as records
from tests.conftest import ACCESS, make_settings
from tests.support import RecordingResponder, unique, wait_for


def prune_job(name: str, schedule: str = "0 3 * * *") -> str:
    # A real prune limited to a label nothing carries: it runs against the engine, removes nothing.
    return (f'[[jobs]]\nname = "{name}"\ntype = "prune"\nschedule = "{schedule}"\n'
            f'channel = "C0OPS"\nlabels = ["{unique("nothing")}"]\n')


@pytest.fixture
def boot(tmp_path: Path) -> Iterator[Callable[..., JobScheduler]]:
    """Start a 'bot' (services, runner, scheduler) on the test's data dir; all stopped after."""
    started: list[tuple[Services, JobScheduler]] = []

    def start(jobs: str) -> JobScheduler:
        services = Services.build(make_settings(tmp_path, ACCESS + jobs))
        scheduler = JobScheduler(JobRunner(services, None))
        scheduler.start()
        services.scheduler = scheduler
        started.append((services, scheduler))
        return scheduler

    yield start
    for services, scheduler in reversed(started):
        scheduler.shutdown()
        services.close()


def stop(scheduler: JobScheduler) -> None:
    scheduler.shutdown()
    scheduler.runner.services.close()


def runs(scheduler: JobScheduler, name: str) -> list[records.JobRun]:
    return records.recent_runs(scheduler.runner.services.store, name, 50)


def pretend_downtime(scheduler_store_url: str, job_id: str, missed_since: datetime) -> None:
    """Move a stored job's next run into the past, as if the bot was down when it was due."""
    store = SQLAlchemyJobStore(url=scheduler_store_url)
    store.start(BackgroundScheduler(timezone=UTC), "default")
    job = store.lookup_job(job_id)
    job.next_run_time = missed_since
    store.update_job(job)
    store.shutdown()


def test_a_second_scheduler_on_the_same_data_dir_refuses_and_says_so(boot) -> None:
    first = boot(prune_job("nightly"))
    second = boot(prune_job("nightly"))
    assert first.running and not second.running
    assert "Another dockops process" in second.refusal and "scheduler" in second.refusal
    responder = RecordingResponder()
    Pipeline(second.runner.services).execute("jobs", Actor("U0VIEW", "C0OPS"), responder)
    assert "Another dockops process" in responder.text()
    with pytest.raises(Exception, match="Another dockops process"):
        second.pause("nightly")
    stop(first)
    third = boot(prune_job("nightly"))
    assert third.running  # the lock went with the first process


def test_a_job_missed_while_the_bot_was_down_runs_once_on_start(boot) -> None:
    first = boot(prune_job("nightly"))
    planned = first.next_run("nightly")
    assert planned is not None and planned > datetime.now(UTC)
    url = first.store_url
    stop(first)
    # Down for two days: two 03:00 runs were missed; coalesced, the job runs once.
    pretend_downtime(url, "nightly", datetime.now(UTC) - timedelta(days=2, minutes=1))
    second = boot(prune_job("nightly"))
    wait_for(lambda: [r for r in runs(second, "nightly") if r.finished_at], timeout=15,
             what="the missed run")
    next_run = second.next_run("nightly")
    assert next_run is not None and next_run > datetime.now(UTC)
    assert (next_run.hour, next_run.minute) == (3, 0)
    done = runs(second, "nightly")
    assert len(done) == 1 and done[0].trigger == "schedule" and done[0].outcome == "ok"
    assert "removed 0 image(s)" in done[0].summary


def test_the_store_follows_the_config_and_keeps_unchanged_jobs_as_they_were(boot) -> None:
    first = boot(prune_job("keep-me") + prune_job("drop-me") + prune_job("move-me", "0 4 * * *"))
    first.pause("keep-me")
    kept_next = first.next_run("move-me")
    stop(first)
    second = boot(prune_job("keep-me") + prune_job("move-me", "30 5 * * sun"))
    assert second.scheduler is not None
    assert sorted(job.id for job in second.scheduler.get_jobs("default")) == ["keep-me", "move-me"]
    assert second.paused("keep-me")  # unchanged: the pause survived the restart
    moved = second.next_run("move-me")
    assert moved != kept_next and moved is not None
    assert moved.strftime("%a %H:%M") == "Sun 05:30"
    assert second.resume("keep-me") is not None and not second.paused("keep-me")


def test_run_now_runs_once_without_moving_the_schedule(boot) -> None:
    scheduler = boot(prune_job("nightly"))
    runs_before = metrics.JOB_RUNS.labels("nightly", "ok")._value.get()
    timed_before = metrics.JOB_SECONDS.labels("nightly")._sum.get()
    before = scheduler.next_run("nightly")
    scheduler.run_now("nightly")
    wait_for(lambda: [r for r in runs(scheduler, "nightly") if r.finished_at], timeout=15,
             what="the run")
    assert scheduler.next_run("nightly") == before
    [run] = runs(scheduler, "nightly")
    assert run.trigger == "manual" and run.outcome == "ok"
    assert scheduler.scheduler is not None
    assert [j.id for j in scheduler.scheduler.get_jobs("default")] == ["nightly"]  # one-off gone
    assert metrics.JOB_RUNS.labels("nightly", "ok")._value.get() == runs_before + 1
    assert metrics.JOB_SECONDS.labels("nightly")._sum.get() > timed_before


def test_slash_commands_list_pause_resume_run_and_show_history(boot) -> None:
    scheduler = boot(prune_job("nightly"))
    services = scheduler.runner.services
    pipeline = Pipeline(services)

    def say(text: str, user: str = "U0ADMIN") -> RecordingResponder:
        responder = RecordingResponder()
        pipeline.execute(text, Actor(user, "C0OPS"), responder)
        return responder

    listing = json.dumps(say("jobs", "U0VIEW").last.blocks)
    assert "nightly" in listing and "0 3 * * *" in listing and "never ran" in listing
    assert "needs the admin role" in say("jobs pause nightly", "U0OPER").text()
    assert not scheduler.paused("nightly")
    assert "is paused" in say("jobs pause nightly").text()
    assert "paused" in say("jobs", "U0VIEW").text()
    assert "resumed; next run" in say("jobs resume nightly").text()
    assert "is running now" in say("jobs run nightly").text()
    wait_for(lambda: [r for r in runs(scheduler, "nightly") if r.finished_at], timeout=15,
             what="the run")
    history = say("jobs history nightly", "U0VIEW").text()
    assert "manual" in history and "ok" in history and "removed 0 image(s)" in history
    assert "No job named nope." in say("jobs run nope").text()
