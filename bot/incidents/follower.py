"""One thread per host following `docker events` from the persisted cursor.

Each window is `docker events --since CURSOR --until NOW+20s`: the engine replays what it
still holds after the cursor, then streams live until the window ends, and the next window
starts where the cursor is. After a failure (engine restarted, connection lost) and at start,
what the engine replays is handled first, then the containers that stopped after the cursor
without a replayed `die` are the gap: reported once, and the cursor moves past it.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time

from bot import metrics
from bot.engine.client import Engine
from bot.engine.events import EngineEvent, EventStream, container_facts, engine_now, image_of, stopped_since
from bot.errors import DockopsError
from bot.incidents.tracker import Tracker
from bot.store import incidents as records

log = logging.getLogger("dockops.incidents")

WINDOW_SECONDS = 20.0
MAX_BACKOFF = 8.0
# recreate parks the old container as NAME-dockops-old-TIMESTAMP (bot/engine/recreate.py).
_PARKED = re.compile(r"^(?P<name>.+)-dockops-old-\d+$")


class HostFollower:
    """Follows one host's container events into the tracker until stopped."""

    def __init__(self, host: str, engine: Engine, tracker: Tracker, stop: threading.Event,
                 *, window: float = WINDOW_SECONDS) -> None:
        self.host = host
        self.engine = engine
        self.tracker = tracker
        self.stop = stop
        self.window = window
        self.connected = False
        self._stream: EventStream | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=f"events-{self.host}", daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        stream = self._stream
        if stream is not None:
            stream.close()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        failures = 0
        caught_up = False
        while not self.stop.is_set():
            try:
                if not caught_up:
                    self._catch_up()
                    caught_up = True
                if failures:
                    log.info("events of %s followed again after %d failure(s)", self.host,
                             failures)
                failures = 0
                self.connected = True
                self._window()
            except DockopsError as exc:
                self.connected = False
                caught_up = False
                failures += 1
                metrics.EVENT_STREAM_RECONNECTS.labels(self.host).inc()
                if failures == 1:
                    log.warning("events of %s: %s; reconnecting", self.host, exc.message)
                self.stop.wait(min(MAX_BACKOFF, 0.25 * 2 ** failures) * random.uniform(0.8, 1.2))
            except Exception:
                self.connected = False
                caught_up = False
                failures += 1
                log.exception("events of %s: unexpected failure; reconnecting", self.host)
                self.stop.wait(MAX_BACKOFF)

    def _catch_up(self) -> None:
        """Replay what the engine holds after the cursor; report what it could not replay."""
        now = engine_now(self.engine)
        cursor = records.cursor(self.tracker.store, self.host)
        if cursor is None:  # the first start: follow from now on, no history
            with self.tracker.store.session.begin() as session:
                records.move_cursor(session, self.host, int(now * 1e9))
            return
        stopped: set[str] = set()
        for event in self._events(cursor.replay_from_ns, now):
            if event.action == "die":
                stopped.add(event.container_id)
        since = cursor.since_ns / 1e9
        missed = [item for item in stopped_since(
            self.engine, since, lambda labels: bool(self.tracker.rules_for(self.host, labels)))
            if item[0] not in stopped and item[4] < now]
        if missed:
            log.warning("events of %s between %.3f and %.3f were not replayed: %d container(s) "
                        "stopped then", self.host, since, now, len(missed))
            self.tracker.gap(self.host, since, now, [item[:4] for item in missed],
                             cursor.since_ns)

    def _window(self) -> None:
        cursor = records.cursor(self.tracker.store, self.host)
        since_ns = cursor.replay_from_ns if cursor else time.time_ns()
        until = time.time() + self.window
        for _ in self._events(since_ns, until):
            pass
        if self.stop.is_set():
            return
        if time.time() < until:  # the engine closed the stream before the window's end
            raise DockopsError("the engine closed its event stream (restarting?)")
        with self.tracker.store.session.begin() as session:  # late events stay replayable
            records.move_cursor(session, self.host, int(until * 1e9) - records.MARGIN_NS)

    def _events(self, since_ns: int, until: float) -> list[EngineEvent]:
        """Handle every event in [since, until]; the ones handled."""
        stream = EventStream(self.engine, since_ns, until)
        self._stream = stream
        handled = []
        try:
            for event in stream.open():
                if self.stop.is_set():
                    break
                self._handle(event)
                handled.append(event)
        except DockopsError:
            raise
        except Exception as exc:  # the stream broke mid-read (engine restarted)
            if self.stop.is_set():
                return handled
            raise DockopsError(f"the event stream broke ({type(exc).__name__})") from exc
        finally:
            stream.close()
            self._stream = None
        return handled

    def _handle(self, event: EngineEvent) -> None:
        if event.action == "rename":
            self._remember_parked(event)
        self.tracker.handle(self.host, event, self._facts)

    def _facts(self, host: str, event: EngineEvent, lines: int):  # type: ignore[no-untyped-def]
        del host
        return container_facts(self.engine, event.container_id, log_lines=lines,
                               before_ns=event.time_ns)

    def _remember_parked(self, event: EngineEvent) -> None:
        """`recreate` renamed the old container aside: its image is what Roll back restores."""
        parked = _PARKED.match(event.name)
        if parked is None:
            return
        found = image_of(self.engine, event.container_id)
        if found is not None:
            records.remember_previous_image(self.tracker.store, self.host, parked.group("name"),
                                            found[0], found[1])
