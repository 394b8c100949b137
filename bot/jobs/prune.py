"""The prune job: remove unused images (never forcing), honouring `until` and `keep`,
and report what went, what the engine says it freed and what it refused."""

from __future__ import annotations

from bot.engine import prune as engine_prune
from bot.engine.results import PruneImage
from bot.errors import DockopsError
from bot.jobs.notices import HostFailed, PrunedImage, PruneDryRun, PruneReport, RefusedImage
from bot.jobs.report import JobContext, JobReport, Notice
from bot.units import disk_size  # the summary is a sentence for `jobs history`


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
        freed = engine_prune.reclaimable(engine, plan)  # exactly what the removals would free
        summary = f"dry run: would remove {len(plan.images)} image(s), freeing {disk_size(freed)}"
        notice = PruneDryRun(job.name, host, _pruned(plan.images), freed, len(plan.skipped))
        return Notice(key, notice), summary, True
    result = engine_prune.execute_prune(engine, plan)
    reclaimed = max(result.space_reclaimed, 0)  # the engine's figure: the layers it deleted
    summary = (f"removed {len(result.removed)} image(s), reclaimed {disk_size(reclaimed)}"
               + (f", {len(result.failed)} refused" if result.failed else ""))
    report = PruneReport(job.name, host, _pruned(result.removed),
                         tuple(RefusedImage(image.label, reason) for image, reason in result.failed),
                         len(plan.skipped), reclaimed)
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
