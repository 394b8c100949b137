"""The App Home tab: `app_home_opened` -> views.publish with a fleet overview, after the ack,
through the governed client. Reads only, and only what the opener could read by typing
`ps --host all`, `alerts` and `jobs`: the hosts where their role is viewer or more (the same
role rules as the gate), those hosts' incidents, and the jobs when their role allows `jobs`."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any

from slack_bolt import App

from bot.engine.events import container_counts
from bot.errors import DockopsError
from bot.policy import Actor, role_of
from bot.policy.hosts import role_for_host
from bot.roles import Role
from bot.services import Services
from bot.slack.runtime import Runtime
from bot.store import incidents as incident_records
from bot.store import jobs as job_records
from bot.store import outbox as outbox_rows
from bot.views.home import HostLine, JobLine, Overview, home_view, no_role_view
from bot.workers import TooManyCommands

log = logging.getLogger("dockops.slack")

HOST_DEADLINE = 3.0  # a dead host shows as unreachable instead of holding the tab


def register(app: App, runtime: Runtime) -> None:
    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        try:
            runtime.pool.submit(lambda: publish(runtime, str(event["user"])),
                                user=str(event["user"]))
        except TooManyCommands:  # the tab is refreshed on the next open
            log.info("App Home for %s not refreshed: too many commands of theirs running",
                     event["user"])


def publish(runtime: Runtime, user: str) -> None:
    try:
        actor = runtime.identify(Actor(user_id=user))
        found = overview(runtime.services, actor)
        view = home_view(found) if found is not None else no_role_view(user)
        runtime.client.views_publish(user_id=user, view=view)
    except Exception:
        log.exception("could not publish the App Home tab")


def overview(services: Services, actor: Actor) -> Overview | None:
    """Hosts (reachable, running/total), open incidents, waiting update notices, jobs: what
    `actor` may read; None when they may read nothing."""
    access, configs = services.settings.access, services.settings.hosts
    names = [name for name in services.hosts.engines
             if role_for_host(actor, configs.get(name), access) >= Role.VIEWER]
    reads_jobs = role_of(actor, access) >= Role.VIEWER
    if not names and not reads_jobs:
        return None
    pool = ThreadPoolExecutor(max_workers=max(1, min(8, len(names))))
    futures = {name: pool.submit(container_counts, services.hosts.engines[name])
               for name in names}
    wait(futures.values(), timeout=HOST_DEADLINE)
    pool.shutdown(wait=False)
    hosts = []
    for name, future in futures.items():
        if not future.done():
            hosts.append(HostLine(name, False, 0, 0, f"no answer within {HOST_DEADLINE:g}s"))
            continue
        try:
            running, total = future.result()
            hosts.append(HostLine(name, True, running, total))
        except DockopsError as exc:
            hosts.append(HostLine(name, False, 0, 0, exc.message))
    incidents = tuple((i.id, i.container, i.host, i.kind, i.count)
                      for i in incident_records.open_incidents(services.store) if i.host in names)
    waiting = sum(1 for row in outbox_rows.queued(services.store)
                  if str(row.payload.get("kind", "")).startswith("update")) if reads_jobs else 0
    jobs = []
    for job in services.settings.jobs if reads_jobs else ():
        last = job_records.last_run(services.store, job.name)
        jobs.append(JobLine(job.name, last.outcome if last else "",
                            last.finished_at if last else None, last.summary if last else ""))
    return Overview(tuple(hosts), incidents, waiting, tuple(jobs), datetime.now(UTC))
