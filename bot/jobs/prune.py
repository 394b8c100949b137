"""The prune job: remove unused images (never forcing), honouring `until` and `keep`,
and report what went, what it freed and what the engine refused."""

from __future__ import annotations

from bot.engine import prune as engine_prune
from bot.engine import system
from bot.engine.client import Engine
from bot.engine.results import PruneImage
from bot.errors import DockopsError
from bot.jobs.notices import HostFailed, PrunedImage, PruneDryRun, PruneReport, RefusedImage
from bot.jobs.report import JobContext, JobReport, Notice
from bot.units import human_size  # the summary is a sentence for `jobs history`


def images_size(engine: Engine) -> int:
    """Bytes the engine's images take (`system df`, Images row)."""
    rows = system.disk_usage(engine)
    return next((row.size for row in rows if row.kind == "Images"), 0)


def _pruned(images: tuple[PruneImage, ...]) -> tuple[PrunedImage, ...]:
    return tuple(PrunedImage(image.label, image.size) for image in images)


def prune_host(ctx: JobContext, host: str) -> tuple[Notice, str, bool]:
    """Plan and (unless dry_run) carry out the prune on one host: its notice and summary."""
    job = ctx.prune_job
    engine = ctx.services.hosts.get(host)
    until = job.until
    plan = engine_prune.plan_prune(engine, all=job.all, until=until, labels=job.labels,
                                   keep=job.keep)
    key = f"{job.name}:{host}:run:{ctx.run_id}"
    if job.dry_run:
        summary = f"dry run: would remove {len(plan.images)} image(s), up to {human_size(plan.total_bytes)}"
        notice = PruneDryRun(job.name, host, _pruned(plan.images), plan.total_bytes,
                             len(plan.skipped))
        return Notice(key, notice), summary, True
    before = images_size(engine)
    result = engine_prune.execute_prune(engine, plan)
    after = images_size(engine)
    summary = (f"removed {len(result.removed)} image(s), reclaimed {human_size(before - after)}"
               + (f", {len(result.failed)} refused" if result.failed else ""))
    report = PruneReport(job.name, host, _pruned(result.removed),
                         tuple(RefusedImage(image.label, reason) for image, reason in result.failed),
                         len(plan.skipped), before, after)
    return Notice(key, report), summary, not result.failed


def run(ctx: JobContext) -> JobReport:
    """Prune every host of the job; a host that fails is reported and the others go on."""
    notices: list[Notice] = []
    summaries: list[str] = []
    ok = True
    hosts = list(ctx.job.hosts) or list(ctx.services.hosts.engines)  # default: every host
    for host in hosts:
        try:
            notice, summary, host_ok = prune_host(ctx, host)
        except DockopsError as exc:
            notice = Notice(f"{ctx.job.name}:{host}:host-failed:{ctx.run_id}",
                            HostFailed(ctx.job.name, host, exc.message))
            summary, host_ok = f"{host}: {exc.message}", False
        notices.append(notice)
        summaries.append(summary if len(hosts) == 1 else f"{host}: {summary}")
        ok = ok and host_ok
    return JobReport("ok" if ok else "error", "; ".join(summaries), tuple(notices))
