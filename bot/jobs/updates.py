"""The update job: find watched images whose tag moved in the registry, then notify, pull
or recreate, as the job's `action` says. Detection asks only for manifests (no pull)."""

from __future__ import annotations

import random
import shlex
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bot.buttons import Buttons
from bot.config import JobConfig
from bot.engine import updates as engine_updates
from bot.engine.client import Engine
from bot.engine.recreate import RecreateResult, recreate
from bot.engine.updates import LocalImage, Watcher, normalize_ref
from bot.errors import DockopsError
from bot.jobs import records
from bot.jobs.report import JobContext, JobReport, Notice
from bot.services import Services
from bot.timeparse import parse_duration
from bot.views import jobs as views

CHECK_FAILED = "check-failed"
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


def targets(job: JobConfig, containers: Iterable[Watcher],
            locals_: dict[str, LocalImage]) -> dict[str, list[Watcher]]:
    """Watched references and the containers that use each (one list call made them)."""
    everything = list(containers)
    found: dict[str, list[Watcher]] = {normalize_ref(ref): [] for ref in job.images}
    if job.containers:
        for watcher in everything:
            if _label_match(watcher, job.containers) and \
                    not engine_updates.is_image_id(watcher.ref):
                found.setdefault(normalize_ref(watcher.ref), [])
    for ref, users in found.items():
        local_id = locals_[ref].id if ref in locals_ else ""
        users.extend(w for w in everything
                     if normalize_ref(w.ref) == ref or (local_id and w.image_id == local_id))
    return found


def registry_auth(services: Services, ref: str) -> dict[str, Any] | None:
    """Credentials for the image's registry, from config or docker's config.json."""
    from bot import registry_auth as auth

    found = auth.resolve(services.settings, auth.registry_of(ref))
    return found.auth_config() if found else None


def check_image(engine: Engine, services: Services, host: str, ref: str,
                watchers: list[Watcher], jitter: float) -> ImageCheck:
    """Ask the registry for `ref`'s digest (after a random pause) and compare it with ours."""
    if jitter > 0:
        time.sleep(random.uniform(0, jitter))  # spread checks so registries see no burst
    local = LocalImage(ref, "", "")
    try:
        local = engine_updates.local_image(engine, ref)
        remote = engine_updates.registry_digest(engine, ref, registry_auth(services, ref))
    except DockopsError as exc:
        error = exc.message.rstrip()
        error += "" if error.endswith((".", "!", "?")) else "."
        return ImageCheck(host, ref, local, "", error + _hint(error, ref), tuple(watchers))
    return ImageCheck(host, ref, local, remote, "", tuple(watchers))


def _hint(error: str, ref: str) -> str:
    """The fix for the registry failures people meet: credentials, or a registry down."""
    lowered = error.lower()
    registry = ref.split("/", 1)[0] if "/" in ref else "docker.io"
    if any(word in lowered for word in ("unauthorized", "authentication required", "denied")):
        return (f" Check the credentials for {registry}: [registries.\"{registry}\"] username "
                "and password_env or password_file in the dockops config.")
    if any(word in lowered for word in ("connection refused", "no such host", "timeout",
                                        "i/o timeout")):
        return f" Is the registry {registry} up and reachable from the Docker host?"
    return ""


def check_host(ctx: JobContext, host: str) -> list[ImageCheck]:
    """Every watched image on one host, checked with bounded concurrency."""
    job = ctx.job
    engine = ctx.services.hosts.get(host)
    containers = engine_updates.watchers(engine)
    refs = targets(job, containers, {})
    locals_ = {ref: engine_updates.local_image(engine, ref) for ref in refs}
    refs = targets(job, containers, locals_)
    jitter = parse_duration(job.jitter).total_seconds() if job.jitter else 0.0
    with ThreadPoolExecutor(max_workers=job.concurrency, thread_name_prefix="update-check") as pool:
        futures = [pool.submit(check_image, engine, ctx.services, host, ref, users, jitter)
                   for ref, users in sorted(refs.items())]
        return [future.result() for future in futures]


def act(ctx: JobContext, check: ImageCheck) -> Notice | None:
    """What to do about one changed image: announce it, pull it, or pull and recreate."""
    job = ctx.job
    base = f"{job.name}:{check.key}:{check.remote}"
    if job.action == "notify":
        return Notice(f"{base}:notify", views.update_available(job.name, check.host, check.ref,
                                                             check.local.digest, check.remote,
                                                             _names(check.watchers),
                                                             notice_buttons(ctx, check)),
                      seen=(check.key, check.remote))
    engine = ctx.services.hosts.get(check.host)
    try:
        pulled = engine_updates.pull(engine, check.ref, registry_auth(ctx.services, check.ref))
    except DockopsError as exc:
        return Notice(f"{base}:pull-failed", views.action_failed(job.name, check.ref, "pull",
                                                                 exc.message),
                      seen=(check.key, f"{check.remote}#failed"))
    stale = [w for w in check.watchers if w.image_id != pulled.id]
    if job.action == "pull":
        return Notice(f"{base}:pulled", views.pulled(job.name, check.host, check.ref,
                                                     check.local.digest, pulled.digest,
                                                     _names(stale)),
                      seen=(check.key, check.remote))
    results = recreate_all(engine, check.ref, stale, job)
    return Notice(f"{base}:recreated", views.recreated(job.name, check.host, check.ref,
                                                       check.local.digest, pulled.digest, results),
                  seen=(check.key, check.remote))


def notice_buttons(ctx: JobContext, check: ImageCheck) -> views.NoticeButtons:
    """The notice's buttons, each a stored command: pull the tag, recreate exactly the
    containers the notice lists (with a confirmation), snooze the image."""
    issue = Buttons(ctx.services.store).issue
    on_host = ["--host", check.host]
    ids = sorted({w.id for w in check.watchers})
    recreate = issue(views.RECREATE_ACTION,
                     shlex.join([*on_host, "recreate", "--pull", "--image", check.ref, *ids]),
                     ttl_seconds=NOTICE_BUTTON_SECONDS, channel=ctx.job.channel) if ids else ""
    return views.NoticeButtons(
        pull=issue(views.PULL_ACTION, shlex.join([*on_host, "pull", check.ref]),
                   ttl_seconds=NOTICE_BUTTON_SECONDS, channel=ctx.job.channel),
        recreate=recreate,
        snooze=issue(views.SNOOZE_ACTION, shlex.join(["jobs", "snooze", check.ref]),
                     ttl_seconds=NOTICE_BUTTON_SECONDS, channel=ctx.job.channel))


def recreate_all(engine: Engine, ref: str, watchers: Iterable[Watcher],
                 job: JobConfig) -> list[RecreateResult]:
    """Recreate each container in turn (one at a time: a bad image stops at the first)."""
    timeout = parse_duration(job.recreate_timeout).total_seconds()
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
    job = ctx.job
    hosts = list(job.hosts) or list(ctx.services.hosts.engines)  # default: every host
    checks: list[ImageCheck] = []
    notices: list[Notice] = []
    forget: list[tuple[str, str]] = []
    failed_hosts: list[str] = []
    for host in hosts:
        try:
            checks.extend(check_host(ctx, host))
        except DockopsError as exc:
            # Told once per outage: the marker goes when the host answers again.
            failed_hosts.append(host)
            notices.append(Notice(f"{job.name}:{host}:host-failed:{ctx.run_id}",
                                  views.host_failed(job.name, host, exc.message),
                                  seen=(f"{host}/*", HOST_FAILED)))
            continue
        forget.append((f"{host}/*", HOST_FAILED))
    changed = snoozed = 0
    for check in checks:
        if check.error:
            notices.append(Notice(f"{job.name}:{check.key}:{CHECK_FAILED}:{ctx.run_id}",
                                  views.check_failed(job.name, check.host, check.ref, check.error),
                                  seen=(check.key, CHECK_FAILED)))
            continue
        forget.append((check.key, CHECK_FAILED))
        if not check.changed:
            continue
        changed += 1
        if records.snoozed_until(ctx.services.store, check.ref):
            snoozed += 1
            continue
        if job.action == "notify" and _seen(ctx, check.key, check.remote):
            continue
        notice = act(ctx, check)
        if notice is not None:
            notices.append(notice)
    failed = sum(1 for c in checks if c.error) + len(failed_hosts)
    summary = (f"{len(checks)} image(s) checked, {changed} changed"
               + (f", {snoozed} snoozed" if snoozed else "") + (f", {failed} failed" if failed
                                                                   else ""))
    if job.summary:
        notices.append(Notice(f"{job.name}:summary:{ctx.run_id}",
                              views.update_summary(job.name, [_row(c) for c in checks], summary)))
    return JobReport("error" if failed else "ok", summary, tuple(notices), tuple(forget))


def _seen(ctx: JobContext, image: str, digest: str) -> bool:
    with ctx.services.store.session() as session:
        return records.was_seen(session, ctx.job.name, image, digest)


def _row(check: ImageCheck) -> tuple[str, str, str]:
    if check.error:
        state = f"check failed: {check.error}"
    elif check.changed:
        state = "new digest " + check.remote[:19]
    else:
        state = "up to date"
    return check.host, check.ref, state
