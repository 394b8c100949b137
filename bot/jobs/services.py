"""The update job's Swarm part: watched services whose tag moved in the registry.

Detection is the containers' (bot/jobs/registry_checks.py: one check per unique reference);
a service's "local" digest is the one its spec is pinned to. `recreate` is
`service update --image repo:tag@digest`, so Swarm rolls it out with the service's own
update_config (and rolls back when its failure_action says so); a notice's Recreate button
carries the same command for its one service.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import credentials
from bot.config import UpdateJobConfig
from bot.engine import swarm
from bot.engine.client import Engine
from bot.engine.swarm_results import ServiceRow
from bot.errors import DockopsError
from bot.jobs import notices as n
from bot.jobs import registry_checks as rc
from bot.jobs.report import JobContext, Notice
from bot.refs import InvalidReference, normalize
from bot.store import Buttons
from bot.store import jobs as records

NOTICE_BUTTON_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class WatchedService:
    """A service the job watches: the tag it runs and the digest its spec is pinned to."""

    id: str
    name: str
    ref: str  # normalized repo:tag
    digest: str  # "" when the spec names no digest


@dataclass
class ServicesOutcome:
    """What the Swarm part of one run found and did."""

    notices: list[Notice] = field(default_factory=list)
    checked: int = 0
    changed: int = 0
    failed: int = 0

    def summary(self) -> str:
        if not self.checked:
            return ""
        return (f"; {self.checked} service(s) checked, {self.changed} changed"
                + (f", {self.failed} failed" if self.failed else ""))


def is_manager(ctx: JobContext, host: str) -> bool:
    """`swarm = true` under [hosts.NAME], else what `info` says (Swarm.ControlAvailable)."""
    configured = ctx.services.settings.hosts.get(host)
    if configured is not None and configured.swarm:
        return True
    try:
        return swarm.swarm_state(ctx.services.hosts.get(host)).manager
    except DockopsError:
        return False


def _selected(job: UpdateJobConfig, row: ServiceRow) -> bool:
    if isinstance(job.services, list):
        return row.name in job.services or row.id in job.services
    key, eq, value = job.services.removeprefix("label:").partition("=")
    labels = dict(row.labels)
    return key in labels and (not eq or labels[key] == value)


def watched(job: UpdateJobConfig, rows: list[ServiceRow]) -> dict[str, list[WatchedService]]:
    """The services the job watches, by the tag reference each runs."""
    found: dict[str, list[WatchedService]] = {}
    for row in rows:
        if not job.services or not _selected(job, row):
            continue
        name, _, digest = row.image.partition("@")
        try:
            ref = normalize(name)
        except InvalidReference:
            continue
        found.setdefault(ref, []).append(WatchedService(row.id, row.name, ref, digest))
    return found


def _seen(ctx: JobContext, key: str, digest: str) -> bool:
    with ctx.services.store.session() as session:
        return records.was_seen(session, ctx.job.name, key, digest)


def update_command(host: str, ref: str, digest: str, service: str) -> str:
    """What a notice's Recreate button runs: the rolling update onto exactly that digest."""
    return shlex.join(["--host", host, "service", "update", "--image", f"{ref}@{digest}",
                       service])


def _buttons(ctx: JobContext, host: str, ref: str, digest: str, service: str) -> n.NoticeButtons:
    issue = Buttons(ctx.services.store).issue
    return n.NoticeButtons(
        pull="",  # Swarm pulls on each node as it updates: nothing to pull on the manager
        recreate=issue(n.RECREATE_ACTION, update_command(host, ref, digest, service),
                       ttl_seconds=NOTICE_BUTTON_SECONDS, channel=ctx.job.channel),
        snooze=issue(n.SNOOZE_ACTION, shlex.join(["jobs", "snooze", ref]),
                     ttl_seconds=NOTICE_BUTTON_SECONDS, channel=ctx.job.channel))


def apply(engine: Engine, service: WatchedService, digest: str, timeout: float,
          auth: dict[str, Any] | None = None) -> n.RecreatedContainer:
    """`service update --image ref@digest`, watched until it converges or rolls back."""
    try:
        mark = swarm.update_status_mark(engine, service.id)
        change = swarm.update_image(engine, service.id, f"{service.ref}@{digest}", auth=auth)
        state = swarm.watch(engine, change, mark, deadline=timeout, on_progress=lambda _: None)
    except DockopsError as exc:
        return n.RecreatedContainer(service.name, ok=False, reason=exc.message)
    reason = ""
    if state.rolled_back:
        reason = "the update failed and Swarm rolled it back" + (
            f": {state.failed_tasks[0]}" if state.failed_tasks else "")
    elif state.timed_out:
        reason = (f"not converged after {timeout:.0f} s ({state.replaced}/{state.total} tasks "
                  "replaced); Swarm goes on")
    elif not state.ok:
        reason = f"Swarm paused the update: {state.message or 'a task failed'}"
    return n.RecreatedContainer(service.name, state.ok, state.rolled_back, reason,
                                note=f"service update, {state.replaced}/{state.total} tasks")


def run(ctx: JobContext, hosts: list[str], hint: Callable[[str, str], str]) -> ServicesOutcome:
    """Check every watched service on the manager hosts; notify or roll out the changed."""
    job = ctx.update_job
    outcome = ServicesOutcome()
    plans: list[tuple[rc.HostPlan, dict[str, list[WatchedService]]]] = []
    clusters: set[str] = set()
    for host in hosts:
        if not is_manager(ctx, host):
            continue
        engine = ctx.services.hosts.get(host)
        try:
            cluster = swarm.swarm_state(engine).cluster_id
            if cluster and cluster in clusters:
                continue  # another manager of the same Swarm: its services are checked once
            clusters.add(cluster)
            targets = watched(job, swarm.service_ls(engine))
        except DockopsError as exc:
            outcome.failed += 1
            outcome.notices.append(Notice(f"{job.name}:{host}:services-failed:{ctx.run_id}",
                                          n.HostFailed(job.name, host, exc.message)))
            continue
        plans.append((rc.HostPlan(host, engine, {ref: [] for ref in targets}, {}), targets))
    if not plans:
        return outcome
    remotes = rc.check_all(rc.shared(ctx.services), ctx.services.settings, job,
                           [plan for plan, _ in plans], hint)
    for plan, targets in plans:
        for ref, services in sorted(targets.items()):
            outcome.checked += len(services)
            remote = remotes[ref]
            if remote.error:
                outcome.failed += 1
                outcome.notices.append(Notice(
                    f"{job.name}:{plan.host}/{ref}:service-check-failed:{ctx.run_id}",
                    n.CheckFailed(job.name, plan.host, ref, remote.error)))
                continue
            for service in services:
                if not remote.digest or service.digest == remote.digest:
                    continue
                outcome.changed += 1
                notice = _act(ctx, plan, service, remote.digest)
                if notice is not None:
                    outcome.notices.append(notice)
    return outcome


def _act(ctx: JobContext, plan: rc.HostPlan, service: WatchedService,
         digest: str) -> Notice | None:
    job = ctx.update_job
    key = f"{plan.host}/service/{service.name}"
    # Told once per digest; applied once per digest (a rolled-back update is not retried
    # every run: the notice said why, and its digest is remembered).
    marker = digest if job.action != "recreate" else f"{digest}#applied"
    if _seen(ctx, key, marker) or records.snoozed_until(ctx.services.store, service.ref):
        return None
    base = f"{job.name}:{key}:{digest}"
    if job.action != "recreate":  # notify, and pull (Swarm pulls on each node as it updates)
        return Notice(f"{base}:notify", n.UpdateAvailable(
            job.name, plan.host, service.ref, service.digest, digest, (service.name,),
            _buttons(ctx, plan.host, service.ref, digest, service.name)), seen=(key, digest))
    result = apply(plan.engine, service, digest, job.recreate_timeout.total_seconds(),
                   credentials.auth_config(ctx.services.settings, service.ref))
    return Notice(f"{base}:recreated", n.Recreated(job.name, plan.host, service.ref,
                                                   service.digest, digest, (result,)),
                  seen=(key, marker))
