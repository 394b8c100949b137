"""The incident state machine: an engine event in, incidents and queued notices out.

Each event is handled in ONE store transaction that also moves the host's cursor: the
incident rows, the outbox rows (keyed by the event) and the cursor commit together, so an
event replayed after a crash finds its key seen and does nothing twice.
"""

from __future__ import annotations

import json
import logging
import secrets
import shlex
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any

from sqlalchemy.orm import Session

from bot import metrics
from bot.config import AlertConfig, Settings
from bot.engine.events import ContainerFacts, EngineEvent, FailedTask
from bot.incidents import notices as n
from bot.incidents.rules import quiet_now, watches
from bot.jobs import outbox as queue
from bot.store import ButtonTable, Store
from bot.store import incidents as records
from bot.store.incidents import IncidentTable

log = logging.getLogger("dockops.incidents")

BUTTON_TTL = 7 * 24 * 3600.0
# A die this soon after a kill/stop event is someone stopping it, not a crash.
KILL_GRACE_NS = 30 * 1_000_000_000
# An OOM kill is followed by the container's die: that die is the same occurrence.
OOM_DIE_NS = 10 * 1_000_000_000
# Thread replies per incident before only the counter in the message moves.
MAX_REPLIES = 5
# A Swarm task's container carries this label: for a task_failed rule the task alerts, not it.
SWARM_TASK_LABEL = "com.docker.swarm.task.id"

Facts = Callable[[str, EngineEvent, int], ContainerFacts]
Change = Callable[[str, str], Any]


class Tracker:
    """Turns one host's container events into incidents, for every rule that watches them."""

    def __init__(self, settings: Settings, store: Store, *, recovery_seconds: float = 60.0,
                 wake: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.store = store
        self.recovery_seconds = recovery_seconds
        self.wake = wake or (lambda: None)
        self._killed: dict[str, int] = {}  # container id -> ns of its last kill/stop event
        self._oom: dict[str, int] = {}  # container id -> ns of its last oom event
        self._dies: dict[tuple[str, str], list[int]] = {}  # (rule, id) -> die ns (loop-only rules)
        self._lock = threading.Lock()

    @property
    def rules(self) -> list[AlertConfig]:
        return self.settings.alerts

    def rules_for(self, host: str, attributes: dict[str, str]) -> list[AlertConfig]:
        return [rule for rule in self.rules if watches(rule, host, attributes)]

    # -- events ---------------------------------------------------------------------------------

    def handle(self, host: str, event: EngineEvent, facts: Facts) -> int:
        """Handle one event (a no-op when its key was handled before); incidents opened."""
        with self._lock:
            cursor = records.cursor(self.store, host)
            if cursor is not None and cursor.handled(event.time_ns, event.key):
                return 0
            metrics.INCIDENT_EVENTS.labels(host).inc()
            rules = self.rules_for(host, event.attributes)
            kind = _kind(event)
            if event.action in ("kill", "stop"):
                self._killed[event.container_id] = event.time_ns
            if event.action == "oom":
                self._oom[event.container_id] = event.time_ns
            wanted = self._needs_facts(kind, event, rules)
            known = facts(host, event, max((r.log_lines for r in rules), default=0)) \
                if wanted else None
            opened = 0
            with self.store.session.begin() as session:
                for rule in rules:
                    opened += self._apply(session, rule, host, event, kind, known)
                records.advance(session, host, event.time_ns, event.key)
        if opened or wanted:
            self.wake()
        return opened

    def _needs_facts(self, kind: str, event: EngineEvent, rules: list[AlertConfig]) -> bool:
        if not rules or not kind:
            return False
        return not (kind == "die" and self._intentional(event))

    def _intentional(self, event: EngineEvent) -> bool:
        killed = self._killed.get(event.container_id, 0)
        oom = self._oom.get(event.container_id, 0)
        return bool(killed) and event.time_ns - killed < KILL_GRACE_NS and killed > oom

    def _apply(self, session: Session, rule: AlertConfig, host: str, event: EngineEvent,
               kind: str, facts: ContainerFacts | None) -> int:
        now_s = event.time_ns / 1e9
        row = records.open_incident_row(session, rule.name, host, event.container_id)
        if event.action in ("start",) or (kind == "" and event.action.startswith(
                "health_status: healthy")):
            if row is not None and not row.running_since:
                row.running_since = now_s
            return 0
        if not kind or facts is None:
            return 0
        if "task_failed" in rule.events and SWARM_TASK_LABEL in event.attributes:
            return 0  # the task poller tells of it, once per service
        if kind == "die":
            exit_code = records.int_or(event.attributes.get("exitCode"), facts.exit_code)
            oom_ns = self._oom.get(event.container_id, 0)
            if row is not None and oom_ns and event.time_ns - oom_ns < OOM_DIE_NS \
                    and row.kind == "oom":
                _merge_exit(row, exit_code)  # the OOM kill's own die: the same occurrence
                self._queue_update(session, row, event)
                return 0
            if exit_code in rule.ignore_exit_codes and not facts.oom_killed:
                return 0
        if records.muted(session, rule.name, facts.name or event.name, time.time()):
            return 0
        if kind not in rule.events and not (kind == "die" and "restart_loop" in rule.events):
            return 0
        window_ns = int(rule.group_window.total_seconds() * 1e9)
        if row is not None and event.time_ns - int(row.last_event_at * 1e9) <= window_ns:
            self._group(session, rule, row, event, kind, facts)
            return 0
        if kind == "die" and "die" not in rule.events:  # loops only: open at the threshold
            if not self._loop_reached(rule, event):
                return 0
            kind = "restart_loop"
        if row is not None:  # an older incident of it, outside the window: this one replaces it
            row.state, row.closed_at, row.closed_by = "resolved", now_s, "a newer incident"
        self._open(session, rule, host, event, kind, facts)
        return 1

    def _loop_reached(self, rule: AlertConfig, event: EngineEvent) -> bool:
        window = int(rule.restart_loop.within.total_seconds() * 1e9)
        times = [t for t in self._dies.get((rule.name, event.container_id), [])
                 if event.time_ns - t <= window] + [event.time_ns]
        self._dies[(rule.name, event.container_id)] = times[-rule.restart_loop.restarts:]
        return len(times) >= rule.restart_loop.restarts

    def _open(self, session: Session, rule: AlertConfig, host: str, event: EngineEvent,
              kind: str, facts: ContainerFacts) -> None:
        now_s = event.time_ns / 1e9
        quiet = quiet_now(rule, now_s)
        name = facts.name or event.name
        row = records.add_incident(
            session, rule=rule.name, host=host, container_id=event.container_id,
            container=name, channel=rule.channel, kind=kind,
            state="quiet" if quiet else "open", opened_at=now_s, last_event_at=now_s,
            closed_at=0.0, count=1, restarts=facts.restart_count, running_since=0.0,
            closed_by="", facts="{}")
        metrics.INCIDENTS_OPENED.labels(host, rule.name).inc()
        change = records.last_change(self.store, host, name)
        card = n.IncidentCard(
            incident_id=row.id, rule=rule.name, host=host, container=name,
            container_id=event.container_id, image=facts.image or event.image,
            digest=facts.digest, kind=kind,
            exit_code=records.int_or(event.attributes.get("exitCode"), facts.exit_code)
            if kind in ("die", "restart_loop") else facts.exit_code,
            oom_killed=facts.oom_killed or kind == "oom", health_output=facts.health_output,
            restart_count=facts.restart_count,
            ran_seconds=max(0.0, now_s - facts.started_at) if facts.started_at else -1.0,
            log_lines=rule.log_lines, log_tail=facts.log_tail,
            change_by=(change.user_name or change.user_id) if change else "",
            change_command=change.text if change else "",
            change_at=change.at.timestamp() if change else 0.0,
            count=1, state="open", opened_at=now_s, closed_at=0.0, closed_by="",
            loop_restarts=rule.restart_loop.restarts if kind == "restart_loop" else 0,
            loop_window=_short(rule.restart_loop.within.total_seconds()),
            buttons=n.IncidentButtons())
        facts_doc: dict[str, Any] = {"card": asdict(card), "dies": [event.time_ns],
                                     "replies": 0}
        if not quiet:
            card = replace(card, buttons=self._buttons(session, host, rule, row.id, name))
            facts_doc["card"] = asdict(card)
            payload = {**n.encode(card), "remember": True, "event_ns": event.time_ns,
                       "host": host}
            queue.rows.queue(session, rule.channel, payload, f"incident:{row.id}:message")
        records.set_facts(session, row, facts_doc)

    def _buttons(self, session: Session, host: str, rule: AlertConfig, incident_id: int,
                 name: str) -> n.IncidentButtons:
        """Tokens issued in the event's transaction (a second writer would wait on it)."""
        on_host = ["--host", host] if self.settings.hosts else []
        previous = records.previous_image(self.store, host, name)

        def button(action: str, words: list[str]) -> str:
            now = time.time()
            row = ButtonTable(token=secrets.token_urlsafe(16), action_id=action,
                              command=shlex.join(words), channel=rule.channel,
                              issued_by="dockops", created=now, expires=now + BUTTON_TTL)
            session.add(row)
            return row.token

        return n.IncidentButtons(
            restart=button(n.RESTART_ACTION, [*on_host, "restart", name]),
            logs=button(n.LOGS_ACTION, [*on_host, "logs", "-f", "--tail", "20", name]),
            inspect=button(n.INSPECT_ACTION, [*on_host, "inspect", name]),
            rollback=button(n.ROLLBACK_ACTION, [*on_host, "alerts", "rollback", str(incident_id)])
            if previous else "",
            mute=button(n.MUTE_ACTION, ["alerts", "mute", rule.name, "1h", "--container", name]),
            resolve=button(n.RESOLVE_ACTION, ["alerts", "resolve", str(incident_id)]))

    def _group(self, session: Session, rule: AlertConfig, row: IncidentTable, event: EngineEvent,
               kind: str, facts: ContainerFacts) -> None:
        doc = _doc(row)
        card = doc.get("card") or {}
        now_s = event.time_ns / 1e9
        row.count += 1
        row.last_event_at = now_s
        row.running_since = 0.0
        row.restarts = max(row.restarts, facts.restart_count)
        card["count"] = row.count
        card["restart_count"] = row.restarts
        reply: n.IncidentReply | None = None
        if kind == "die":
            window = int(rule.restart_loop.within.total_seconds() * 1e9)
            dies = [t for t in doc.get("dies", []) if event.time_ns - t <= window]
            dies.append(event.time_ns)
            doc["dies"] = dies[-rule.restart_loop.restarts * 2:]
            if len(dies) >= rule.restart_loop.restarts and not card.get("loop_restarts") \
                    and "restart_loop" in rule.events:
                card["loop_restarts"] = len(dies)
                card["kind"] = row.kind = "restart_loop" if row.kind == "die" else row.kind
                reply = n.IncidentReply(row.id, row.container, "loop", kind=kind,
                                        restarts=len(dies), count=row.count,
                                        seconds=rule.restart_loop.within.total_seconds())
            elif card.get("loop_restarts"):
                card["loop_restarts"] = max(int(card["loop_restarts"]), len(dies))
        if reply is None and doc.get("replies", 0) < MAX_REPLIES and not card.get("loop_restarts"):
            reply = n.IncidentReply(
                row.id, row.container, "again", kind=kind,
                exit_code=records.int_or(event.attributes.get("exitCode"), facts.exit_code),
                oom_killed=facts.oom_killed or kind == "oom", health_output=facts.health_output,
                count=row.count)
        doc["card"] = card
        records.set_facts(session, row, doc)
        if row.state != "open":
            return
        if reply is not None:
            doc["replies"] = doc.get("replies", 0) + 1
            records.set_facts(session, row, doc)
            queue.rows.queue(session, row.channel,
                             {**n.encode(reply), "thread_of": f"incident:{row.id}:message"},
                             f"incident:{row.id}:reply:{event.key}")
        self._queue_update(session, row, event)

    def _queue_update(self, session: Session, row: IncidentTable, event: EngineEvent | None,
                      ) -> None:
        """The incident message redrawn from its facts; an older queued update gives way."""
        if row.state == "quiet":
            return
        card = _card(row)
        if card is None:
            return
        records.drop_pending_updates(session, row.id)
        stamp = event.key if event is not None else f"{time.time_ns()}"
        queue.rows.queue(session, row.channel,
                         {**n.encode(card), "update_of": f"incident:{row.id}:message"},
                         f"incident:{row.id}:update:{stamp}")

    # -- Swarm tasks (task_failed) ---------------------------------------------------------------

    def handle_task(self, host: str, task: FailedTask) -> int:
        """A failed or rejected Swarm task, for every task_failed rule that watches its service
        (a no-op when its key was handled before); incidents opened."""
        cursor_host = records.tasks_cursor_host(host)
        with self._lock:
            cursor = records.cursor(self.store, cursor_host)
            if cursor is not None and cursor.handled(task.time_ns, task.key):
                return 0
            rules = [rule for rule in self.rules_for(host, task.attributes)
                     if "task_failed" in rule.events]
            opened = 0
            with self.store.session.begin() as session:
                for rule in rules:
                    opened += self._apply_task(session, rule, host, task)
                records.note_seen(session, cursor_host, task.key)
        if rules:
            self.wake()
        return opened

    def _apply_task(self, session: Session, rule: AlertConfig, host: str, task: FailedTask
                    ) -> int:
        if task.exit_code and task.exit_code in rule.ignore_exit_codes:
            return 0
        if records.muted(session, rule.name, task.service, time.time()):
            return 0
        now_s = task.time_ns / 1e9
        row = records.open_incident_row(session, rule.name, host, task.service_id)
        window_ns = int(rule.group_window.total_seconds() * 1e9)
        if row is not None and task.time_ns - int(row.last_event_at * 1e9) <= window_ns:
            self._group_task(session, row, task)
            return 0
        if row is not None:  # an older incident of it, outside the window: this one replaces it
            row.state, row.closed_at, row.closed_by = "resolved", now_s, "a newer incident"
        quiet = quiet_now(rule, now_s)
        row = records.add_incident(
            session, rule=rule.name, host=host, container_id=task.service_id,
            container=task.service, channel=rule.channel, kind="task_failed",
            state="quiet" if quiet else "open", opened_at=now_s, last_event_at=now_s,
            closed_at=0.0, count=1, restarts=0, running_since=0.0, closed_by="", facts="{}")
        metrics.INCIDENTS_OPENED.labels(host, rule.name).inc()
        image, _, digest = task.image.partition("@")
        card = n.IncidentCard(
            incident_id=row.id, rule=rule.name, host=host, container=task.service,
            container_id=task.service_id, image=image, digest=f"{image}@{digest}" if digest
            else "", kind="task_failed", exit_code=task.exit_code, oom_killed=False,
            health_output="", restart_count=0, ran_seconds=-1.0, log_lines=0, log_tail="",
            change_by="", change_command="", change_at=0.0, count=1, state="open",
            opened_at=now_s, closed_at=0.0, closed_by="", loop_restarts=0, loop_window="",
            buttons=n.IncidentButtons(), task=task.task, task_id=task.task_id, node=task.node,
            task_state=task.state, error=task.error)
        if not quiet:
            card = replace(card, buttons=self._service_buttons(session, host, rule, row.id,
                                                               task.service))
            payload = {**n.encode(card), "remember": True, "event_ns": task.time_ns,
                       "host": host}
            queue.rows.queue(session, rule.channel, payload, f"incident:{row.id}:message")
        records.set_facts(session, row, {"card": asdict(card), "replies": 0})
        return 1

    def _group_task(self, session: Session, row: IncidentTable, task: FailedTask) -> None:
        """Another failed task of the service within the window: the counter, a thread line."""
        doc = _doc(row)
        card = doc.get("card") or {}
        row.count += 1
        row.last_event_at = max(row.last_event_at, task.time_ns / 1e9)
        card.update(count=row.count, task=task.task, task_id=task.task_id, node=task.node,
                    task_state=task.state, error=task.error, exit_code=task.exit_code)
        doc["card"] = card
        if row.state == "open" and doc.get("replies", 0) < MAX_REPLIES:
            doc["replies"] = doc.get("replies", 0) + 1
            reply = n.IncidentReply(row.id, row.container, "again", kind="task_failed",
                                    exit_code=task.exit_code, count=row.count, task=task.task,
                                    node=task.node, error=task.error)
            queue.rows.queue(session, row.channel,
                             {**n.encode(reply), "thread_of": f"incident:{row.id}:message"},
                             f"incident:{row.id}:reply:{task.key}")
        records.set_facts(session, row, doc)
        if row.state == "open":
            self._queue_update(session, row, None)

    def _service_buttons(self, session: Session, host: str, rule: AlertConfig,
                         incident_id: int, service: str) -> n.IncidentButtons:
        """A service's buttons: its tasks, its logs followed in the thread, its spec, mute,
        resolve. No Roll back: `service rollback` runs without asking first."""
        on_host = ["--host", host] if self.settings.hosts else []
        now = time.time()

        def button(action: str, words: list[str]) -> str:
            row = ButtonTable(token=secrets.token_urlsafe(16), action_id=action,
                              command=shlex.join(words), channel=rule.channel,
                              issued_by="dockops", created=now, expires=now + BUTTON_TTL)
            session.add(row)
            return row.token

        return n.IncidentButtons(
            tasks=button(n.TASKS_ACTION, [*on_host, "service", "ps", service]),
            logs=button(n.LOGS_ACTION, [*on_host, "service", "logs", "-f", "--tail", "20",
                                        service]),
            inspect=button(n.INSPECT_ACTION, [*on_host, "service", "inspect", service]),
            mute=button(n.MUTE_ACTION, ["alerts", "mute", rule.name, "1h", "--container",
                                        service]),
            resolve=button(n.RESOLVE_ACTION, ["alerts", "resolve", str(incident_id)]))

    # -- recoveries, resolutions, quiet hours, gaps --------------------------------------------

    def recovered(self, incident_id: int, running_for: float) -> bool:
        """The container has run (and been healthy) long enough: close it, say so."""
        with self._lock, self.store.session.begin() as session:
            row = session.get(IncidentTable, incident_id)
            if row is None or row.state != "open":
                return False
            now = time.time()
            row.state, row.closed_at, row.closed_by = "recovered", now, "dockops"
            after = max(0.0, (now - running_for) - row.opened_at)
            self._closed(session, row, n.IncidentReply(row.id, row.container, "recovered",
                                                       seconds=after, count=row.count),
                         recovered_after=after)
        self.wake()
        return True

    def resolve(self, incident_id: int, by: str) -> records.Incident | None:
        """`alerts resolve ID` (the Resolve button): closed by a person."""
        with self._lock, self.store.session.begin() as session:
            row = session.get(IncidentTable, incident_id)
            if row is None or row.state not in records.OPEN_STATES:
                return None
            row.state, row.closed_at, row.closed_by = "resolved", time.time(), by
            self._closed(session, row, n.IncidentReply(row.id, row.container, "resolved",
                                                       by=by, count=row.count))
            incident = records.as_incident(row)
        self.wake()
        return incident

    def _closed(self, session: Session, row: IncidentTable, reply: n.IncidentReply,
                recovered_after: float = 0.0) -> None:
        doc = _doc(row)
        card = doc.get("card") or {}
        card.update(state=row.state, closed_at=row.closed_at, closed_by=row.closed_by,
                    recovered_after=recovered_after)
        doc["card"] = card
        records.set_facts(session, row, doc)
        queue.rows.queue(session, row.channel,
                         {**n.encode(reply), "thread_of": f"incident:{row.id}:message"},
                         f"incident:{row.id}:reply:{row.state}")
        self._queue_update(session, row, None)

    def summarize_quiet(self, now: float) -> int:
        """Rules whose quiet hours ended: one summary each of what they recorded."""
        posted = 0
        with self._lock, self.store.session.begin() as session:
            for rule in self.rules:
                if quiet_now(rule, now):
                    continue
                rows = records.quiet_incidents(session, rule.name)
                if not rows:
                    continue
                summary = n.QuietSummary(rule.name, rule.quiet_hours, tuple(
                    n.QuietIncident(row.container, row.host, row.kind,
                                    int((_doc(row).get("card") or {}).get("exit_code", 0)),
                                    row.count, row.opened_at) for row in rows))
                queue.rows.queue(session, rule.channel, n.encode(summary),
                                 f"quiet:{rule.name}:{rows[0].id}")
                for row in rows:
                    row.state, row.closed_at, row.closed_by = "summarized", now, "quiet hours"
                posted += 1
        if posted:
            self.wake()
        return posted

    def gap(self, host: str, since: float, until: float,
            stopped: list[tuple[str, dict[str, str], int, bool]], cursor_ns: int) -> int:
        """Report, once per rule, what stopped while the engine's events were lost."""
        by_rule: dict[str, list[n.StoppedContainer]] = {}
        rules = {rule.name: rule for rule in self.rules}
        for _, attributes, exit_code, oom in stopped:
            for rule in self.rules_for(host, attributes):
                if exit_code in rule.ignore_exit_codes and not oom:
                    continue
                by_rule.setdefault(rule.name, []).append(
                    n.StoppedContainer(attributes.get("name", ""), exit_code, oom))
        with self._lock, self.store.session.begin() as session:
            for name, lines in by_rule.items():
                notice = n.EventGap(host, name, since, until, tuple(lines))
                queue.rows.queue(session, rules[name].channel, n.encode(notice),
                                 f"gap:{host}:{cursor_ns}:{name}")
            records.move_cursor(session, host, int(until * 1e9))
        if by_rule:
            self.wake()
        return len(by_rule)


def _kind(event: EngineEvent) -> str:
    if event.action == "die":
        return "die"
    if event.action == "oom":
        return "oom"
    if event.action.startswith("health_status") and event.action.endswith("unhealthy"):
        return "unhealthy"
    return ""


def _merge_exit(row: IncidentTable, exit_code: int) -> None:
    doc = _doc(row)
    card = doc.get("card") or {}
    card["exit_code"] = exit_code
    card["oom_killed"] = True
    doc["card"] = card
    row.facts = json.dumps(doc)


def _doc(row: IncidentTable) -> dict[str, Any]:
    value = json.loads(row.facts or "{}")
    return value if isinstance(value, dict) else {}


def _card(row: IncidentTable) -> n.IncidentCard | None:
    card = _doc(row).get("card")
    if not card:
        return None
    decoded = n.decode({n.TAG: "incident-card", "notice": card})
    return decoded if isinstance(decoded, n.IncidentCard) else None


def _short(seconds: float) -> str:
    """10m, 1h, 90s: a rule's window as it was written."""
    value = int(seconds)
    if value % 3600 == 0:
        return f"{value // 3600}h"
    if value % 60 == 0:
        return f"{value // 60}m"
    return f"{value}s"
