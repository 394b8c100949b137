"""The light "applied" check: pending update notices whose containers now run the new digest
become "applied" within a minute, whoever updated them, without asking any registry.

Per host with pending notices: one container list and one image list, compared with the
notices remembered in bot/store/update_notices.py. The scheduler runs it every minute
(DOCKOPS_APPLIED_CHECK_SECONDS overrides that); `recreate` runs it for its host right after
it succeeded, naming its user. Each edit is queued in the outbox in the transaction that
marks the notice applied: exactly once, whichever look (or job run) sees it first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.config import UpdateJobConfig
from bot.engine import updates as engine_updates
from bot.engine.updates import LocalImage, Watcher
from bot.errors import DockopsError
from bot.jobs import notices as n
from bot.jobs import policy
from bot.jobs.report import Notice
from bot.refs import InvalidReference, normalize
from bot.services import Services
from bot.store import outbox as outbox_rows
from bot.store import update_notices as told_store

log = logging.getLogger("dockops.jobs.applied")

SECONDS_ENV = "DOCKOPS_APPLIED_CHECK_SECONDS"
DEFAULT_SECONDS = 60.0


def interval_seconds() -> float:
    """How often the scheduler looks (DOCKOPS_APPLIED_CHECK_SECONDS, for tests)."""
    try:
        seconds = float(os.environ.get(SECONDS_ENV) or DEFAULT_SECONDS)
    except ValueError:
        return DEFAULT_SECONDS
    return seconds if seconds > 0 else DEFAULT_SECONDS


@dataclass(frozen=True)
class LocalCheck:
    """A watched reference as one host has it now (what policy.runs_digest reads)."""

    host: str
    ref: str
    local: LocalImage
    watchers: tuple[Watcher, ...]
    remote: str = ""
    error: str = ""
    changed: bool = False

    @property
    def key(self) -> str:
        return f"{self.host}/{self.ref}"


@dataclass
class Look:
    """What one look found: the edits queued, and the hosts that could not be listed."""

    edits: list[Notice] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)


def _where(told: told_store.ToldUpdate) -> tuple[str, str]:
    notice = told.payload.get("notice") or {}
    return str(notice.get("host") or ""), str(notice.get("ref") or "")


def _ref_of(watcher: Watcher) -> str:
    try:
        return normalize(watcher.ref)
    except InvalidReference:
        return ""


def local_checks(services: Services, host: str, told: Iterable[told_store.ToldUpdate]
                 ) -> list[LocalCheck]:
    """The host's containers and images for the notices' references: two list calls."""
    told = list(told)
    refs = {_where(t)[1] for t in told}
    named = {name for t in told for name in (t.payload.get("notice") or {}).get("containers")
             or ()}
    engine = services.hosts.get(host)
    containers = engine_updates.watchers(engine)
    locals_ = engine_updates.local_images(engine, refs)
    checks = []
    for ref in sorted(refs):
        local = locals_[ref]
        users = tuple(w for w in containers if w.name in named or _ref_of(w) == ref
                      or (local.id and w.image_id == local.id))
        checks.append(LocalCheck(host, ref, local, users))
    return checks


def _queue(channel: str) -> policy.Queue:
    def queue(session: Session, edit: Notice) -> None:
        outbox_rows.queue(session, channel, n.encode(edit.data), edit.key)

    return queue


def look(services: Services, *, hosts: Iterable[str] | None = None, by: str = "",
         how: str = "", only: Iterable[str] = ()) -> Look:
    """Turn every pending notice (of `hosts`, default all) whose containers run the new
    digest into "applied". `by`/`how`: the user and command that just recreated the
    containers named in `only` (the others are told from the audit trail)."""
    found = Look()
    wanted = set(hosts) if hosts is not None else None
    store = services.store
    jobs = [job for job in services.settings.jobs if isinstance(job, UpdateJobConfig)]
    pending: dict[str, dict[str, list[told_store.ToldUpdate]]] = {}  # host -> job -> notices
    for job in jobs:
        for told in told_store.pending(store, job.name):
            host = _where(told)[0]
            if host and (wanted is None or host in wanted):
                pending.setdefault(host, {}).setdefault(job.name, []).append(told)
    channels = {job.name: job.channel for job in jobs}
    for host, by_job in sorted(pending.items()):
        try:  # one container list and one image list per host, whatever the jobs
            checks = local_checks(services, host, [t for told in by_job.values() for t in told])
        except DockopsError as exc:  # the next look (or the job) tries again
            found.unreachable[host] = exc.message
            continue
        for name in sorted(by_job):
            found.edits.extend(policy.applied_edits(
                store, name, checks, by=by, how=how, only=set(only),
                queue=_queue(channels[name])))
    if found.unreachable:
        log.info("applied check: could not list %s", ", ".join(sorted(found.unreachable)))
    return found
