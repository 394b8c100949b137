"""`jobs`, `jobs run|pause|resume|history NAME`: the scheduled maintenance jobs."""

from __future__ import annotations

from bot.errors import UsageError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles
from bot.jobs import registry_checks
from bot.jobs.cron import next_runs
from bot.jobs.outbox import Outbox
from bot.jobs.runner import JobRunner
from bot.jobs.scheduler import JobScheduler
from bot.refs import normalize as normalize_ref
from bot.services import Services
from bot.store import jobs as records
from bot.timeparse import parse_duration
from bot.views import blocks
from bot.views import jobs as views
from bot.views.message import Message


def _scheduler(services: Services) -> JobScheduler | None:
    scheduler = services.scheduler
    return scheduler if isinstance(scheduler, JobScheduler) else None


def _runner(services: Services) -> JobRunner:
    """The serving process's runner, or one for the console (Slack only if it has tokens)."""
    scheduler = _scheduler(services)
    if scheduler is not None:
        return scheduler.runner
    outbox = None
    if services.settings.has_slack_tokens:
        from bot.slack.client import web_client

        env = services.settings.env
        outbox = Outbox(services.store, web_client(env.slack_bot_token, env.slack_api_url))
    return JobRunner(services, outbox)


@handles("jobs")
def list_jobs(ctx: Context) -> Message:
    services = ctx.services
    scheduler = _scheduler(services)
    here = scheduler is not None and scheduler.running
    rows = []
    for job in services.settings.jobs:
        if here and scheduler is not None:
            upcoming = "paused" if scheduler.paused(job.name) else views.when(
                scheduler.next_run(job.name))
        else:
            upcoming = views.when(next(iter(next_runs(job.schedule, 1)), None))
        last = records.last_run(services.store, job.name)
        result = views.last_result(last.outcome, last.summary, last.finished_at) if last \
            else "never ran"
        rows.append((job.name, job.type, job.schedule, upcoming, result, job.channel))
    note = "" if here else (scheduler.refusal if scheduler is not None and scheduler.refusal else
                            "The scheduler runs in `dockops serve`, not here: next runs are "
                            "computed from the schedules.")
    return views.job_list(rows, note, registry_checks.quota_lines(services))


@handles("jobs run")
def run_job(ctx: Context) -> Message:
    name = ctx.invocation.args[0]
    scheduler = _scheduler(ctx.services)
    runner = _runner(ctx.services)
    job = runner.job(name)
    if scheduler is not None and scheduler.running:
        scheduler.run_now(name)
        return views.run_queued(name, job.channel, scheduler.next_run(name))
    report, queued = runner.run(name, trigger="manual")
    if runner.outbox is None:
        for notice in queued:  # no Slack here: the notices are the answer
            ctx.responder.send(views.render(notice))
    elif scheduler is None:
        runner.outbox.drain_once()  # the console sends at once; a server's sender would
    return views.run_finished(name, report.outcome, report.summary,
                              len(queued) if runner.outbox is None else 0)


@handles("jobs pause")
def pause_job(ctx: Context) -> Message:
    name = ctx.invocation.args[0]
    _require(ctx).pause(name)
    return views.paused(name)


@handles("jobs resume")
def resume_job(ctx: Context) -> Message:
    name = ctx.invocation.args[0]
    return views.resumed(name, _require(ctx).resume(name))


@handles("jobs history")
def job_history(ctx: Context) -> Message:
    name = ctx.invocation.args[0]
    _runner(ctx.services).job(name)
    last = ctx.invocation.opt("last") or 10
    return views.history(name, records.recent_runs(ctx.services.store, name, max(1, last)))


def _require(ctx: Context) -> JobScheduler:
    scheduler = _scheduler(ctx.services)
    if scheduler is None:
        from bot.errors import UsageError

        raise UsageError("The scheduler is not running here: pausing and resuming happen in "
                         "`dockops serve`.", detail="Run `/docker jobs pause NAME` in Slack.")
    return scheduler


@handles("jobs snooze")
def snooze(ctx: Context) -> Message:
    """`jobs snooze IMAGE [--for 24h]`: no update notice for the image until then."""
    duration = ctx.invocation.opt("for") or "24h"
    hours = parse_duration(duration).total_seconds() / 3600
    if hours <= 0:
        raise UsageError(f"`--for {duration}`: a snooze lasts a while, e.g. 24h or 7d.")
    ref = normalize_ref(ctx.invocation.args[0])
    until = records.snooze(ctx.services.store, ref, ctx.actor.display, hours=hours)
    text = views.snoozed(ref, ctx.actor.display, until)
    return Message(text=text, blocks=(blocks.section(text),))
