"""The update job's policy (issue 15): which new digests may be offered or applied
(`min_age`), what a recreate leaves behind (`cleanup`), one reminder instead of repeats
(`remind`), and notices that turn into "applied" once their containers run the new digest,
whoever updated them.

Detection (bot/jobs/updates.py, bot/jobs/registry_checks.py) says what changed; this module
decides what to do about it; the store (bot/store/update_notices.py) remembers what was told.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from bot.config import UpdateJobConfig
from bot.engine.client import Engine
from bot.engine.recreate import RecreateResult, remove_superseded
from bot.engine.updates import LocalImage, Watcher
from bot.errors import DockopsError
from bot.jobs import notices as n
from bot.jobs.report import JobContext, Notice
from bot.store import jobs as records
from bot.store import update_notices as told_store
from bot.units import human_duration

if TYPE_CHECKING:
    from bot.store.database import Store

Queue = Callable[[Session, Notice], None]  # puts an edit in the outbox, in a transaction
REMIND_SECONDS = {"daily": 24 * 3600.0, "weekly": 7 * 24 * 3600.0}
_FRACTION = re.compile(r"(\.\d{6})\d+")


class Check(Protocol):
    """What the policy reads of one image check (bot/jobs/updates.ImageCheck)."""

    @property
    def host(self) -> str: ...
    @property
    def ref(self) -> str: ...
    @property
    def key(self) -> str: ...
    @property
    def local(self) -> LocalImage: ...
    @property
    def remote(self) -> str: ...
    @property
    def error(self) -> str: ...
    @property
    def changed(self) -> bool: ...
    @property
    def watchers(self) -> tuple[Watcher, ...]: ...


# -- min_age -------------------------------------------------------------------------------

def parse_created(value: str | datetime | None) -> datetime | None:
    """An image config's `created` (RFC 3339, nanoseconds allowed) as an aware datetime."""
    if value is None or isinstance(value, datetime):
        return value
    try:
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def hold_reason(job: UpdateJobConfig, created: datetime | None, now: datetime) -> str:
    """Why a new digest is neither offered nor applied yet ('' : it may be)."""
    if job.min_age <= timedelta(0):
        return ""
    limit = human_duration(job.min_age.total_seconds())
    if created is None:
        return f"its created date is unknown, so it cannot be shown older than min_age ({limit})"
    age = now - created
    if age < job.min_age:
        return (f"it was created {human_duration(max(0.0, age.total_seconds()))} ago, "
                f"under min_age ({limit})")
    return ""


def created_of(ctx: JobContext, check: Check) -> datetime | None:
    """The new digest's created date: from the check (detection reads the digest's config),
    else from the registry (one manifest and config GET per digest, cached on disk)."""
    for value in (getattr(check, "created", None),
                  getattr(getattr(check, "details", None), "created", None)):
        if value:
            return parse_created(value)
    from bot.jobs import registry_checks  # the registry client is made only when needed

    engine = ctx.services.hosts.get(check.host)
    try:
        details = registry_checks.details(registry_checks.shared(ctx.services), ctx.update_job,
                                          engine, check.ref, check.remote, check.local)
    except DockopsError:
        return None
    return parse_created(details.created) if details else None


def held(ctx: JobContext, check: Check, now: datetime | None = None) -> str:
    """`hold_reason` for a changed check ('' when the job has no min_age)."""
    if ctx.update_job.min_age <= timedelta(0):
        return ""
    return hold_reason(ctx.update_job, created_of(ctx, check), now or datetime.now(UTC))


def tag_held(ctx: JobContext, ref: str, tag: str, now: datetime | None = None) -> str:
    """`hold_reason` for a new tag of `ref`'s repository ('' when the job has no min_age):
    one HEAD for the tag's digest, then that digest's config (read once, cached on disk)."""
    job = ctx.update_job
    if job.min_age <= timedelta(0):
        return ""
    from bot.jobs import registry_checks

    created = registry_checks.tag_created(registry_checks.shared(ctx.services), job, ref, tag)
    return hold_reason(job, parse_created(created or None), now or datetime.now(UTC))


# -- cleanup -------------------------------------------------------------------------------

def cleanup(engine: Engine, job: UpdateJobConfig, results: Sequence[RecreateResult]
            ) -> tuple[n.CleanedImage, ...]:
    """`cleanup = true`: `remove_replaced` after the job's own recreate."""
    if not job.cleanup:
        return ()
    return remove_replaced(engine, results)


def remove_replaced(engine: Engine, results: Sequence[RecreateResult]
                    ) -> tuple[n.CleanedImage, ...]:
    """Remove each image the successful recreates left behind, unforced; why one stays.
    Nothing when a recreate was rolled back (that container still runs its old image)."""
    if any(not r.ok for r in results):
        return ()
    superseded = dict.fromkeys(r.old_image_id for r in results
                               if r.old_image_id and r.old_image_id != r.new_image_id)
    cleaned = []
    for image_id in superseded:
        try:
            result = remove_superseded(engine, image_id)
        except DockopsError as exc:
            cleaned.append(n.CleanedImage(image_id, False, exc.message.rstrip(".")))
            continue
        cleaned.append(n.CleanedImage(result.image_id, result.removed, result.reason))
    return tuple(cleaned)


# -- notices told, applied, reminded ---------------------------------------------------------

def remember(ctx: JobContext, notice: Notice | None) -> None:
    """Remember an update notice (to edit it once applied, and for the reminder)."""
    if notice is None or not isinstance(notice.data, n.UpdateAvailable):
        return
    data = notice.data
    told = told_store.ToldUpdate(ctx.job.name, f"{data.host}/{data.ref}", data.new, notice.key,
                                 ctx.job.channel, n.encode(data), time.time(),
                                 told_store.PENDING)
    with ctx.services.store.session.begin() as session:
        told_store.remember_told(session, told)


def _told_containers(told: told_store.ToldUpdate) -> set[str]:
    return set((told.payload.get("notice") or {}).get("containers") or ())


def runs_digest(check: Check, digest: str, containers: set[str]) -> bool:
    """Whether the tag's local image is `digest` and the notice's containers (those still
    there) run it."""
    if check.error or not check.local.id or check.local.digest != digest:
        return False
    named = [w for w in check.watchers if w.name in containers] or list(check.watchers)
    return all(w.image_id == check.local.id for w in named)


def applied(ctx: JobContext, checks: Iterable[Check]) -> list[Notice]:
    """The edits of notices whose containers now run the new digest, each made once."""
    return applied_edits(ctx.services.store, ctx.job.name, checks)


def applied_edits(store: Store, job: str, checks: Iterable[Check], *, by: str = "",
                  how: str = "", only: set[str] | None = None,
                  queue: Queue | None = None) -> list[Notice]:
    """The "applied" edits of the job's pending notices whose containers run the new digest.

    Who and how come from the audit trail (a user's finished recreate/pull/run naming them),
    or are given (`by`, `how`: the caller just did it, for the notices naming a container in
    `only`). A notice whose container a command is still working on waits for the next look.
    Each notice turns applied once; `queue` puts its edit in the outbox in that transaction.
    """
    by_key = {check.key: check for check in checks}
    edits: list[Notice] = []
    for told in told_store.pending(store, job):
        check = by_key.get(told.image)
        containers = _told_containers(told)
        if check is None or not runs_digest(check, told.digest, containers):
            continue
        if by and only is not None and containers & only:
            who, way = by, how
        else:
            names = {check.ref, *containers} | {w.id for w in check.watchers} \
                | {w.name for w in check.watchers}
            row = told_store.who_updated(store, check.host, told.told_at, names)
            if row is not None and row.outcome == told_store.RUNNING:
                continue  # its recreate is under way: its author is known once it ends
            who, way = (row.user_id, row.command) if row else ("", "")
        notice: dict[str, Any] = told.payload.get("notice") or {}
        edit = Notice(f"{told.notice_key}:applied", n.UpdateApplied(
            job, check.host, check.ref, str(notice.get("old") or ""), told.digest,
            tuple(sorted(containers)), told.notice_key, who, way))
        with store.session.begin() as session:
            if not told_store.mark_applied(session, told, time.time(), who, way):
                continue
            if queue is not None:
                queue(session, edit)
        edits.append(edit)
    return edits


def reminder(ctx: JobContext, checks: Iterable[Check], now: float | None = None
             ) -> Notice | None:
    """`remind`: one summary of the updates told and still pending, once a day or week."""
    job = ctx.update_job
    if not job.remind:
        return None
    now = time.time() if now is None else now
    store = ctx.services.store
    current = {check.key: check for check in checks if check.changed}
    still = [told for told in told_store.pending(store, job.name)
             if told.image in current and current[told.image].remote == told.digest
             and not records.snoozed_until(store, current[told.image].ref)]
    if not still:
        return None
    last = told_store.last_reminder(store, job.name) or min(t.told_at for t in still)
    if now - last < REMIND_SECONDS[job.remind]:
        return None
    with store.session.begin() as session:
        told_store.set_reminder(session, job.name, now)
    return Notice(f"{job.name}:remind:{int(now)}", n.UpdatesPending(job.name, job.remind, tuple(
        n.PendingUpdate(current[t.image].host, current[t.image].ref, t.digest,
                        tuple(sorted(_told_containers(t))), t.told_at) for t in still)))
