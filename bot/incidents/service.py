"""The incident followers in `dockops serve`: one per host, plus a tick for recoveries and the
end of quiet hours. Started after the outbox; stopped before it."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from bot.engine.events import container_facts
from bot.engine.swarm import service_running
from bot.errors import DockopsError
from bot.incidents.follower import HostFollower
from bot.incidents.tasks import TaskPoller, wants_tasks
from bot.incidents.tracker import Tracker
from bot.services import Services
from bot.store import incidents as records

log = logging.getLogger("dockops.incidents")

TICK_SECONDS = 2.0
# How long a container must run (and be healthy) again before its incident recovers.
RECOVERY_SECONDS = 60.0


def recovery_seconds() -> float:
    """RECOVERY_SECONDS, or DOCKOPS_INCIDENT_RECOVERY_SECONDS (tests and benchmarks)."""
    try:
        return float(os.environ.get("DOCKOPS_INCIDENT_RECOVERY_SECONDS") or RECOVERY_SECONDS)
    except ValueError:
        return RECOVERY_SECONDS


class Incidents:
    """Follows every host's events while alert rules exist; `tracker` answers the commands."""

    def __init__(self, services: Services, wake: Callable[[], None] | None = None, *,
                 recovery: float | None = None, window: float | None = None) -> None:
        self.services = services
        self.tracker = Tracker(services.settings, services.store,
                               recovery_seconds=recovery if recovery is not None
                               else recovery_seconds(), wake=wake)
        self.stop_event = threading.Event()
        extra = {"window": window} if window is not None else {}
        self.followers = [HostFollower(name, engine, self.tracker, self.stop_event, **extra)
                          for name, engine in services.hosts.engines.items()]
        rules = services.settings.alerts
        self.pollers = [TaskPoller(name, engine, self.tracker, self.stop_event)
                        for name, engine in services.hosts.engines.items()
                        if wants_tasks(rules, name)]
        self._ticker: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._ticker is not None

    def start(self) -> None:
        if not self.services.settings.alerts or self._ticker is not None:
            return
        # A host seen for the first time is followed from now: set before "ready" is said,
        # so nothing that happens after the start line is missed.
        for follower in self.followers:
            if records.cursor(self.services.store, follower.host) is None:
                with self.services.store.session.begin() as session:
                    records.move_cursor(session, follower.host, time.time_ns())
        for poller in self.pollers:
            if records.cursor(self.services.store, poller.cursor_host) is None:
                with self.services.store.session.begin() as session:
                    records.move_cursor(session, poller.cursor_host, time.time_ns())
        for follower in self.followers:
            follower.start()
        for poller in self.pollers:
            poller.start()
        self._ticker = threading.Thread(target=self._tick_loop, name="incidents", daemon=True)
        self._ticker.start()
        log.info("following container events of %d host(s) for %d alert rule(s)",
                 len(self.followers), len(self.services.settings.alerts))
        if self.pollers:
            log.info("polling failed Swarm tasks of %d host(s) for task_failed",
                     len(self.pollers))

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for follower in self.followers:
            follower.join(max(0.1, deadline - time.monotonic()))
        for poller in self.pollers:
            poller.join(max(0.1, deadline - time.monotonic()))
        if self._ticker is not None:
            self._ticker.join(max(0.1, deadline - time.monotonic()))
            self._ticker = None

    def _tick_loop(self) -> None:
        while not self.stop_event.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:
                log.exception("incident tick failed; trying again")

    def tick(self, now: float | None = None) -> None:
        """Recoveries (running and healthy long enough) and quiet-hour summaries."""
        moment = time.time() if now is None else now
        for incident in records.recovering(self.services.store):
            try:
                engine = self.services.hosts.get(incident.host)
                facts = container_facts(engine, incident.container_id, log_lines=0)
            except DockopsError:
                continue
            if facts.gone or not facts.running or facts.health_status not in ("", "healthy"):
                continue
            since = max(facts.started_at, incident.running_since)
            if moment - since >= self.tracker.recovery_seconds:
                self.tracker.recovered(incident.id, moment - since)
        for incident in records.open_incidents(self.services.store):
            if incident.kind == "task_failed" and incident.state == "open" \
                    and moment - incident.last_event_at >= self.tracker.recovery_seconds:
                self._service_recovered(incident, moment)
        self.tracker.summarize_quiet(moment)

    def _service_recovered(self, incident: records.Incident, moment: float) -> None:
        """No failed task for the recovery time and every wanted task runs: recovered."""
        try:
            engine = self.services.hosts.get(incident.host)
            if service_running(engine, incident.container_id):
                self.tracker.recovered(incident.id, moment - incident.last_event_at)
        except DockopsError:
            return
