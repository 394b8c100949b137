"""The update job: find watched images whose tag moved in the registry, then notify, pull
or recreate, as the job's `action` says. Detection asks only for manifests (no pull)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot import credentials
from bot.config import UpdateJobConfig
from bot.engine import registry as engine_registry
from bot.engine import updates as engine_updates
from bot.engine.client import Engine
from bot.engine.recreate import RecreateResult, recreate
from bot.engine.updates import LocalImage, Watcher
from bot.errors import DockopsError
from bot.jobs import notices as n
from bot.jobs import policy
from bot.jobs import registry_checks as rc
from bot.jobs import services as service_checks
from bot.jobs.report import JobContext, JobReport, Notice
from bot.refs import InvalidReference, is_image_id, normalize, registry_of
from bot.store import Buttons
from bot.store import jobs as records

CHECK_FAILED = "check-failed"
TAGS_FAILED = "tags-failed"
NOTICE_BUTTON_SECONDS = 7 * 24 * 3600  # a notice's buttons work for a week
HOST_FAILED = "host-failed"


@dataclass(frozen=True)
class ImageCheck:
    """One watched image on one host: what is local, what the registry has now."""

    host: str
    ref: str
    local: LocalImage
    remote: str  # the registry's digest; '' when the check failed
    error: str
    watchers: tuple[Watcher, ...]
    via: str = rc.VIA_REGISTRY  # registry (a HEAD) | engine (the fallback) | skipped (quota)

    @property
    def changed(self) -> bool:
        return bool(self.remote) and self.remote != self.local.digest

    @property
    def key(self) -> str:
        """How seen digests and notices name this image: host and reference."""
        return f"{self.host}/{self.ref}"


def _label_match(watcher: Watcher, selector: str) -> bool:
    key, _, value = selector.removeprefix("label:").partition("=")
    if key not in watcher.labels:
        return False
    return "=" not in selector.removeprefix("label:") or watcher.labels[key] == value


def targets(job: UpdateJobConfig, containers: Iterable[Watcher],
            locals_: dict[str, LocalImage]) -> dict[str, list[Watcher]]:
    """Watched references and the containers that use each (one list call made them)."""
    everything = [(watcher, _watched_ref(watcher)) for watcher in containers]
    found: dict[str, list[Watcher]] = {normalize(ref): [] for ref in job.images}
    if job.containers:
        for watcher, ref in everything:
            if ref and _label_match(watcher, job.containers):
                found.setdefault(ref, [])
    for ref, users in found.items():
        local_id = locals_[ref].id if ref in locals_ else ""
        users.extend(w for w, used in everything
                     if used == ref or (local_id and w.image_id == local_id))
    return found


def _watched_ref(watcher: Watcher) -> str:
    """The normalized reference a container was created from; '' for an image ID (no tag to
    watch)."""
    if is_image_id(watcher.ref):
        return ""
    try:
        return normalize(watcher.ref)
    except InvalidReference:
        return ""


def _hint(error: str, ref: str) -> str:
    """The fix for the registry failures people meet: credentials, or a registry down."""
    lowered = error.lower()
    registry = registry_of(ref)  # team/app is on docker.io, not a registry named "team"
    if any(word in lowered for word in ("unauthorized", "authentication required", "denied")):
        return (f" Check the credentials for {registry}: [registries.\"{registry}\"] username "
                "and password_env or password_file in the dockops config.")
    if any(word in lowered for word in ("connection refused", "no such host", "timeout",
                                        "i/o timeout")):
        return f" Is the registry {registry} up and reachable from the Docker host?"
    return ""


def plan_host(ctx: JobContext, host: str) -> rc.HostPlan:
    """What one host watches: one container list and one image list."""
    job = ctx.update_job
    engine = ctx.services.hosts.get(host)
    containers = engine_updates.watchers(engine)
    refs = targets(job, containers, {})
    locals_ = engine_updates.local_images(engine, refs)
    refs = targets(job, containers, locals_)
    return rc.HostPlan(host, engine, refs, locals_)


def check_hosts(ctx: JobContext, plans: list[rc.HostPlan]) -> list[ImageCheck]:
    """Every watched image of every host; each unique reference asked once (bot.registry)."""
    remotes = rc.check_all(rc.shared(ctx.services), ctx.services.settings, ctx.update_job,
                           plans, _hint)
    return [ImageCheck(plan.host, ref, plan.locals.get(ref) or LocalImage(ref, "", ""),
                       remotes[ref].digest, remotes[ref].error, tuple(users), remotes[ref].via)
            for plan in plans for ref, users in sorted(plan.targets.items())]


def check_host(ctx: JobContext, host: str) -> list[ImageCheck]:
    """Every watched image on one host."""
    return check_hosts(ctx, [plan_host(ctx, host)])


def act(ctx: JobContext, check: ImageCheck) -> Notice | None:
    """What to do about one changed image: announce it, pull it, or pull and recreate."""
    job = ctx.update_job
    base = f"{job.name}:{check.key}:{check.remote}"
    if job.action == "notify":
        return Notice(f"{base}:notify", n.UpdateAvailable(job.name, check.host, check.ref,
                                                          check.local.digest, check.remote,
                                                          _names(check.watchers),
                                                          notice_buttons(ctx, check),
                                                          _details(ctx, check)),
                      seen=(check.key, check.remote))
    engine = ctx.services.hosts.get(check.host)
    try:
        pulled = engine_registry.pull(engine, check.ref,
                                      credentials.auth_config(ctx.services.settings, check.ref))
    except DockopsError as exc:
        return Notice(f"{base}:pull-failed", n.PullFailed(job.name, check.host, check.ref,
                                                          exc.message),
                      seen=(check.key, f"{check.remote}#failed"))
    stale = [w for w in check.watchers if w.image_id != pulled.id_after]
    if job.action == "pull":
        return Notice(f"{base}:pulled", n.Pulled(job.name, check.host, check.ref,
                                                 check.local.digest, pulled.digest_after,
                                                 _names(stale)),
                      seen=(check.key, check.remote))
    results = recreate_all(engine, check.ref, stale, job)
    return Notice(f"{base}:recreated", n.Recreated(job.name, check.host, check.ref,
                                                   check.local.digest, pulled.digest_after,
                                                   tuple(_outcome(r) for r in results),
                                                   policy.cleanup(engine, job, results)),
                  seen=(check.key, check.remote))


def _details(ctx: JobContext, check: ImageCheck) -> n.UpdateDetails | None:
    if check.via != rc.VIA_REGISTRY:
        return None
    return rc.details(rc.shared(ctx.services), ctx.update_job,
                      ctx.services.hosts.get(check.host), check.ref, check.remote, check.local)


def _outcome(result: RecreateResult) -> n.RecreatedContainer:
    return n.RecreatedContainer(result.container, result.ok, result.rolled_back, result.reason,
                                result.log_tail, result.started, result.note)


def notice_buttons(ctx: JobContext, check: ImageCheck) -> n.NoticeButtons:
    """The notice's buttons, each a stored command: pull the tag, recreate exactly the
    containers the notice lists (with a confirmation), snooze the image."""
    issue = Buttons(ctx.services.store).issue
    on_host = ["--host", check.host]
    ids = sorted({w.id for w in check.watchers})
    recreate = issue(n.RECREATE_ACTION,
                     shlex.join([*on_host, *recreate_words(ctx.update_job, check.ref), *ids]),
                     ttl_seconds=NOTICE_BUTTON_SECONDS, channel=ctx.job.channel) if ids else ""
    return n.NoticeButtons(
        pull=issue(n.PULL_ACTION, shlex.join([*on_host, "pull", check.ref]),
                   ttl_seconds=NOTICE_BUTTON_SECONDS, channel=ctx.job.channel),
        recreate=recreate,
        snooze=issue(n.SNOOZE_ACTION, shlex.join(["jobs", "snooze", check.ref]),
                     ttl_seconds=NOTICE_BUTTON_SECONDS, channel=ctx.job.channel))


def recreate_words(job: UpdateJobConfig, ref: str) -> list[str]:
    """The recreate a notice's button runs: pull `ref`, recreate on it, and with the job's
    `cleanup = true` remove the image it replaced when nothing else uses it."""
    return ["recreate", "--pull", *(["--cleanup"] if job.cleanup else []), "--image", ref]


def recreate_all(engine: Engine, ref: str, watchers: Iterable[Watcher],
                 job: UpdateJobConfig) -> list[RecreateResult]:
    """Recreate each container in turn (one at a time: a bad image stops at the first)."""
    timeout = job.recreate_timeout.total_seconds()
    results: list[RecreateResult] = []
    for watcher in watchers:
        try:
            results.append(recreate(engine, watcher.id, ref, timeout=timeout))
        except DockopsError as exc:
            results.append(RecreateResult(watcher.name, watcher.image_id, "", ok=False,
                                          reason=exc.message))
    return results


def _names(watchers: Iterable[Watcher]) -> tuple[str, ...]:
    return tuple(sorted({w.name for w in watchers}))


def run(ctx: JobContext) -> JobReport:
    """Check every watched image on every host of the job; act on the changed ones."""
    job = ctx.update_job
    hosts = list(job.hosts) or list(ctx.services.hosts.engines)  # default: every host
    checks: list[ImageCheck] = []
    notices: list[Notice] = []
    forget: list[tuple[str, str]] = []
    failed_hosts: list[str] = []
    plans: list[rc.HostPlan] = []
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(hosts))),
                            thread_name_prefix="update-plan") as pool:  # hosts in parallel
        planned = {host: pool.submit(plan_host, ctx, host) for host in hosts}
    for host in hosts:
        try:
            plans.append(planned[host].result())
        except DockopsError as exc:
            # Told once per outage: the marker goes when the host answers again.
            failed_hosts.append(host)
            notices.append(Notice(f"{job.name}:{host}:host-failed:{ctx.run_id}",
                                  n.HostFailed(job.name, host, exc.message),
                                  seen=(f"{host}/*", HOST_FAILED)))
            continue
        forget.append((f"{host}/*", HOST_FAILED))
    checks.extend(check_hosts(ctx, plans))
    swarm = service_checks.run(ctx, hosts, _hint) if job.services else None
    changed = snoozed = young = 0
    skipped = sorted({check.error for check in checks if check.via == rc.VIA_SKIPPED})
    failing = records.images_seen(ctx.services.store, job.name, CHECK_FAILED)
    for check in checks:
        if check.via == rc.VIA_SKIPPED:
            continue
        if check.error:
            notices.append(Notice(f"{job.name}:{check.key}:{CHECK_FAILED}:{ctx.run_id}",
                                  n.CheckFailed(job.name, check.host, check.ref, check.error),
                                  seen=(check.key, CHECK_FAILED)))
            continue
        if check.key in failing:
            forget.append((check.key, CHECK_FAILED))
        if not check.changed:
            continue
        changed += 1
        if records.snoozed_until(ctx.services.store, check.ref):
            snoozed += 1
            continue
        if job.action == "notify" and _seen(ctx, check.key, check.remote):
            continue
        if policy.held(ctx, check):  # min_age: neither offered nor applied yet
            young += 1
            continue
        notice = act(ctx, check)
        policy.remember(ctx, notice)
        if notice is not None:
            notices.append(notice)
    notices.extend(policy.applied(ctx, checks))
    reminder = policy.reminder(ctx, checks)
    notices.extend([reminder] if reminder else [])
    if job.watch_tags:
        told, listed, held_tags = tag_notices(ctx, plans)
        notices.extend(told)
        forget.extend(listed)
        young += held_tags
    failed = sum(1 for c in checks if c.error and c.via != rc.VIA_SKIPPED) + len(failed_hosts)
    if swarm is not None:  # Swarm services (bot/jobs/services.py)
        notices.extend(swarm.notices)
        failed += swarm.failed
    summary = (f"{len(checks)} image(s) checked, {changed} changed"
               + (f", {snoozed} snoozed" if snoozed else "")
               + (f", {young} under min_age" if young else "") + (f", {failed} failed" if failed
                                                                   else "")
               + _registry_notes(ctx, checks, skipped)
               + (swarm.summary() if swarm is not None else ""))
    if job.summary:
        notices.append(Notice(f"{job.name}:summary:{ctx.run_id}",
                              n.UpdateSummary(job.name, summary, tuple(_checked(c) for c in checks))))
    return JobReport("error" if failed else "ok", summary, tuple(notices), tuple(forget))


def _registry_notes(ctx: JobContext, checks: list[ImageCheck], skipped: list[str]) -> str:
    """What the report adds about registries: the engine fallback, quota skips, quotas."""
    notes = []
    via_engine = sum(1 for c in checks if c.via == rc.VIA_ENGINE and not c.error)
    if via_engine:
        notes.append(f"{via_engine} through the engine's distribution API (registry not "
                     "reachable directly)")
    notes.extend(skipped)
    watched = {registry_of(c.ref) for c in checks}
    quotas = rc.shared(ctx.services).client.quotas()
    notes.extend(f"{q.registry}: {q.describe()}" for q in quotas if q.registry in watched)
    return "".join(f"; {note.rstrip('.')}" for note in notes)


def tag_notices(ctx: JobContext, plans: list[rc.HostPlan]
                ) -> tuple[list[Notice], list[tuple[str, str]], int]:
    """`app 1.25.3 -> 1.25.4 available`: once per newer tag, host and job (seen markers),
    once the tag's image is older than min_age; the markers of tag lists that failed before
    and were read now (to forget); how many new tags min_age holds back."""
    job = ctx.update_job
    found, errors = rc.new_tags(rc.shared(ctx.services), job,
                                {ref for plan in plans for ref in plan.targets})
    notices: list[Notice] = []
    for plan in plans:
        for ref in (ref for ref in plan.targets if ref in errors):  # told once per outage
            notices.append(Notice(f"{job.name}:{plan.host}/{ref}:{TAGS_FAILED}:{ctx.run_id}",
                                  n.CheckFailed(job.name, plan.host, ref, errors[ref]),
                                  seen=(f"{plan.host}/{ref}", TAGS_FAILED)))
    listed = [(f"{plan.host}/{ref}", TAGS_FAILED) for plan in plans for ref in plan.targets
              if ref not in errors]
    holds: dict[tuple[str, str], str] = {}  # (watched ref, tag): why min_age holds it
    held: set[tuple[str, str]] = set()
    for plan in plans:
        for new in (new for new in found if new.ref in plan.targets):
            key = f"{plan.host}/{new.repository}"
            marker = f"tag:{new.tag}"
            if _seen(ctx, key, marker):
                continue
            if (new.ref, new.tag) not in holds:
                holds[new.ref, new.tag] = policy.tag_held(ctx, new.ref, new.tag)
            if holds[new.ref, new.tag]:  # not offered yet; told once it is old enough
                held.add((new.ref, new.tag))
                continue
            users = plan.targets[new.ref]
            notices.append(Notice(
                f"{job.name}:{key}:{marker}",
                n.TagAvailable(job.name, plan.host, new.repository, new.current, new.tag,
                               _names(users), tag_buttons(ctx, plan.host, new, users)),
                seen=(key, marker)))
    return notices, listed, len(held)


def tag_buttons(ctx: JobContext, host: str, new: rc.NewTag,
                users: Iterable[Watcher]) -> n.NoticeButtons:
    """Pull the new tag; recreate the containers on the watched tag onto it (confirmed)."""
    issue = Buttons(ctx.services.store).issue
    ref = f"{new.repository}:{new.tag}"
    ids = sorted({w.id for w in users})
    recreate = issue(n.RECREATE_ACTION,
                     shlex.join(["--host", host, *recreate_words(ctx.update_job, ref), *ids]),
                     ttl_seconds=NOTICE_BUTTON_SECONDS, channel=ctx.job.channel) if ids else ""
    return n.NoticeButtons(
        pull=issue(n.PULL_ACTION, shlex.join(["--host", host, "pull", ref]),
                   ttl_seconds=NOTICE_BUTTON_SECONDS, channel=ctx.job.channel),
        recreate=recreate, snooze="")


def _seen(ctx: JobContext, image: str, digest: str) -> bool:
    with ctx.services.store.session() as session:
        return records.was_seen(session, ctx.job.name, image, digest)


def _checked(check: ImageCheck) -> n.CheckedImage:
    return n.CheckedImage(check.host, check.ref, check.remote if check.changed else "",
                          check.error)
