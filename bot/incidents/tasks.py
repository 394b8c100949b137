"""One thread per Swarm manager polling its failed and rejected tasks for `task_failed` rules.

The engine's event stream has no task events (a rejected task never had a container), so the
poller lists the tasks every few seconds. Its cursor (the host's `HOST#tasks` row) stays
LAG_SECONDS behind the manager's clock and remembers the keys handled since: a task whose state
reaches the manager late is still seen, and none is posted twice, across restarts too.
"""

from __future__ import annotations

import logging
import random
import threading

from bot.config import AlertConfig
from bot.engine.client import Engine
from bot.engine.events import engine_now
from bot.engine.swarm import NotSwarmManager, failed_service_tasks
from bot.errors import DockopsError
from bot.incidents.tracker import Tracker
from bot.store import incidents as records

log = logging.getLogger("dockops.incidents")

POLL_SECONDS = 3.0
LAG_SECONDS = 30.0
NOT_MANAGER_SECONDS = 60.0  # a host that is not (or no longer) a manager is asked again later
MAX_BACKOFF = 30.0


def wants_tasks(rules: list[AlertConfig], host: str) -> bool:
    """Whether a task_failed rule covers `host` (hosts = [] means every host)."""
    return any("task_failed" in rule.events and (not rule.hosts or host in rule.hosts)
               for rule in rules)


class TaskPoller:
    """Polls one host's failed Swarm tasks into the tracker until stopped."""

    def __init__(self, host: str, engine: Engine, tracker: Tracker, stop: threading.Event,
                 *, interval: float = POLL_SECONDS) -> None:
        self.host = host
        self.engine = engine
        self.tracker = tracker
        self.stop = stop
        self.interval = interval
        self.cursor_host = records.tasks_cursor_host(host)
        self.manager: bool | None = None  # unknown until the first poll
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=f"tasks-{self.host}", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        failures = 0
        delay = 0.0
        while not self.stop.wait(delay):
            try:
                self.poll()
                if self.manager is False or failures:
                    log.info("Swarm tasks of %s followed", self.host)
                self.manager, failures, delay = True, 0, self.interval
            except NotSwarmManager:
                if self.manager is not False:
                    log.warning("task_failed on %s: the host is not a Swarm manager; asking "
                                "again every %.0fs", self.host, NOT_MANAGER_SECONDS)
                self.manager, delay = False, NOT_MANAGER_SECONDS
            except DockopsError as exc:
                failures += 1
                if failures == 1:
                    log.warning("Swarm tasks of %s: %s; trying again", self.host, exc.message)
                delay = min(MAX_BACKOFF, self.interval * 2 ** failures) * random.uniform(0.8, 1.2)
            except Exception:
                failures += 1
                log.exception("Swarm tasks of %s: unexpected failure; trying again", self.host)
                delay = MAX_BACKOFF

    def poll(self) -> int:
        """One pass: every failed task after the cursor handled; incidents opened."""
        now_ns = int(engine_now(self.engine) * 1e9)
        cursor = records.cursor(self.tracker.store, self.cursor_host)
        if cursor is None:  # the first start: from now on, no history
            with self.tracker.store.session.begin() as session:
                records.move_cursor(session, self.cursor_host, now_ns)
            return 0
        opened = 0
        for task in failed_service_tasks(self.engine, cursor.replay_from_ns):
            if self.stop.is_set():
                return opened
            opened += self.tracker.handle_task(self.host, task)
        with self.tracker.store.session.begin() as session:
            records.move_cursor(session, self.cursor_host, now_ns - int(LAG_SECONDS * 1e9))
        return opened
