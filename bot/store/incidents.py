"""What the incident followers remember: incidents, each host's event cursor, mutes, and the
image a container ran before dockops recreated it (what Roll back goes back to)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Float, Integer, String, Text, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.store.audit import AuditTable
from bot.store.base import Base, aware, rows_changed
from bot.store.outbox import OutboxTable

if TYPE_CHECKING:
    from bot.store.audit import AuditRow
    from bot.store.database import Store

OPEN_STATES = ("open", "quiet")


class IncidentTable(Base):
    """One incident: a rule's container that died, OOMed or turned unhealthy, and what followed."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(64), index=True)
    host: Mapped[str] = mapped_column(String(64))
    container_id: Mapped[str] = mapped_column(String(64), index=True)
    container: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # die | oom | unhealthy | restart_loop
    # open | quiet (recorded in quiet hours, not posted yet) | recovered | resolved
    state: Mapped[str] = mapped_column(String(16), index=True)
    opened_at: Mapped[float] = mapped_column(Float)
    last_event_at: Mapped[float] = mapped_column(Float)
    closed_at: Mapped[float] = mapped_column(Float, default=0.0)
    count: Mapped[int] = mapped_column(Integer, default=1)
    restarts: Mapped[int] = mapped_column(Integer, default=0)
    running_since: Mapped[float] = mapped_column(Float, default=0.0)  # 0: not running again
    closed_by: Mapped[str] = mapped_column(String(64), default="")
    # JSON: the facts the message shows (bot/incidents/notices.py Incident), kept current.
    facts: Mapped[str] = mapped_column(Text, default="{}")


# The engine stamps an event before it publishes it: under load, events of different
# containers arrive a little out of order. Events within this much of the cursor are
# replayed and recognised by key, so a late one is handled, and none twice.
MARGIN_NS = 5_000_000_000


class EventCursorTable(Base):
    """Per host: the newest engine event time handled, and the events handled within
    MARGIN_NS before it (by key)."""

    __tablename__ = "event_cursors"

    host: Mapped[str] = mapped_column(String(64), primary_key=True)
    since_ns: Mapped[int] = mapped_column(BigInteger)
    seen: Mapped[str] = mapped_column(Text, default="[]")  # event keys at exactly since_ns
    updated_at: Mapped[float] = mapped_column(Float, default=0.0)


class AlertMuteTable(Base):
    """A rule muted until `until`; for one container when `container` is set."""

    __tablename__ = "alert_mutes"

    rule: Mapped[str] = mapped_column(String(64), primary_key=True)
    container: Mapped[str] = mapped_column(String(255), primary_key=True, default="")
    until: Mapped[float] = mapped_column(Float)
    by: Mapped[str] = mapped_column(String(64), default="")


class PreviousImageTable(Base):
    """The image a container ran before dockops recreated it (seen in the engine's events)."""

    __tablename__ = "previous_images"

    host: Mapped[str] = mapped_column(String(64), primary_key=True)
    container: Mapped[str] = mapped_column(String(255), primary_key=True)
    image_id: Mapped[str] = mapped_column(String(128))
    image: Mapped[str] = mapped_column(String(512), default="")
    recorded_at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class Incident:
    """An incident as read from the table; `facts` is what its message shows."""

    id: int
    rule: str
    host: str
    container_id: str
    container: str
    channel: str
    kind: str
    state: str
    opened_at: float
    last_event_at: float
    closed_at: float
    count: int
    restarts: int
    running_since: float
    closed_by: str
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def message_key(self) -> str:
        """The outbox key of the incident's message (threads and updates refer to it)."""
        return f"incident:{self.id}:message"


@dataclass(frozen=True)
class Cursor:
    since_ns: int
    seen: frozenset[str]

    @property
    def replay_from_ns(self) -> int:
        """Where a replay starts: the margin before the cursor."""
        return self.since_ns - MARGIN_NS

    def handled(self, time_ns: int, key: str) -> bool:
        """Whether an event was handled (or is older than anything still replayed)."""
        return time_ns < self.replay_from_ns or key in self.seen


def _recent(keys: set[str], since_ns: int) -> str:
    """The keys still inside the margin (a key starts with its event's time in ns)."""
    return json.dumps(sorted(key for key in keys
                             if int_or(key.split(":", 1)[0]) >= since_ns - MARGIN_NS))


@dataclass(frozen=True)
class Mute:
    rule: str
    container: str
    until: float
    by: str


def _incident(row: IncidentTable) -> Incident:
    return Incident(row.id, row.rule, row.host, row.container_id, row.container, row.channel,
                    row.kind, row.state, row.opened_at, row.last_event_at, row.closed_at,
                    row.count, row.restarts, row.running_since, row.closed_by,
                    json.loads(row.facts or "{}"))


# -- incidents ----------------------------------------------------------------------------------

def open_incident_row(session: Session, rule: str, host: str, container_id: str) -> IncidentTable | None:
    """The open (or quiet) incident of this rule and container, for update in `session`."""
    return session.scalars(select(IncidentTable).where(
        IncidentTable.rule == rule, IncidentTable.host == host,
        IncidentTable.container_id == container_id,
        IncidentTable.state.in_(OPEN_STATES)).order_by(IncidentTable.id.desc())).first()


def add_incident(session: Session, **values: Any) -> IncidentTable:
    row = IncidentTable(**values)
    session.add(row)
    session.flush()
    return row


def as_incident(row: IncidentTable) -> Incident:
    return _incident(row)


def get(store: Store, incident_id: int) -> Incident | None:
    with store.session() as session:
        row = session.get(IncidentTable, incident_id)
        return _incident(row) if row else None


def open_incidents(store: Store, rule: str | None = None) -> list[Incident]:
    query = select(IncidentTable).where(IncidentTable.state.in_(OPEN_STATES))
    if rule:
        query = query.where(IncidentTable.rule == rule)
    with store.session() as session:
        return [_incident(row) for row in session.scalars(query.order_by(IncidentTable.id))]


def history(store: Store, rule: str | None = None, limit: int = 20) -> list[Incident]:
    query = select(IncidentTable)
    if rule:
        query = query.where(IncidentTable.rule == rule)
    with store.session() as session:
        rows = session.scalars(query.order_by(IncidentTable.id.desc()).limit(limit))
        return [_incident(row) for row in rows]


def close(store: Store, incident_id: int, state: str, by: str) -> Incident | None:
    """Mark an open incident recovered or resolved; None when it was not open."""
    with store.session.begin() as session:
        changed = rows_changed(session, update(IncidentTable).where(
            IncidentTable.id == incident_id, IncidentTable.state.in_(OPEN_STATES)).values(
            state=state, closed_at=time.time(), closed_by=by))
        row = session.get(IncidentTable, incident_id)
        return _incident(row) if changed and row else None


def drop_pending_updates(session: Session, incident_id: int) -> None:
    """Forget queued, not yet leased updates of an incident's message: a newer one replaces them."""
    session.execute(delete(OutboxTable).where(
        OutboxTable.key.like(f"incident:{incident_id}:update:%"),
        OutboxTable.leased_until < time.time()))


# -- cursors ------------------------------------------------------------------------------------

def cursor(store: Store, host: str) -> Cursor | None:
    with store.session() as session:
        row = session.get(EventCursorTable, host)
        return Cursor(row.since_ns, frozenset(json.loads(row.seen))) if row else None


def advance(session: Session, host: str, time_ns: int, key: str) -> None:
    """Record that the event `key` at `time_ns` was handled (in the caller's transaction)."""
    row = session.get(EventCursorTable, host)
    if row is None:
        session.add(EventCursorTable(host=host, since_ns=time_ns, seen=json.dumps([key]),
                                     updated_at=time.time()))
        return
    row.since_ns = max(row.since_ns, time_ns)
    row.seen = _recent({*json.loads(row.seen), key}, row.since_ns)
    row.updated_at = time.time()


def move_cursor(session: Session, host: str, since_ns: int) -> None:
    """Move the cursor forward to `since_ns` (a quiet stretch: nothing handled there)."""
    row = session.get(EventCursorTable, host)
    if row is None:
        session.add(EventCursorTable(host=host, since_ns=since_ns, seen="[]",
                                     updated_at=time.time()))
    elif since_ns > row.since_ns:
        row.since_ns, row.updated_at = since_ns, time.time()
        row.seen = _recent(set(json.loads(row.seen)), since_ns)


def tasks_cursor_host(host: str) -> str:
    """The cursor row of a host's Swarm task poller (host names never hold '#')."""
    return f"{host}#tasks"


def note_seen(session: Session, host: str, key: str) -> None:
    """Record a handled key without moving the cursor (the task poller moves it itself, well
    behind its newest task: task states reach the manager late and out of order)."""
    row = session.get(EventCursorTable, host)
    if row is None:
        session.add(EventCursorTable(host=host, since_ns=int_or(key.split(":", 1)[0]),
                                     seen=json.dumps([key]), updated_at=time.time()))
        return
    row.seen = _recent({*json.loads(row.seen), key}, row.since_ns)
    row.updated_at = time.time()


# -- mutes --------------------------------------------------------------------------------------

def mute(store: Store, rule: str, container: str, until: float, by: str) -> None:
    with store.session.begin() as session:
        row = session.get(AlertMuteTable, (rule, container))
        if row is None:
            session.add(AlertMuteTable(rule=rule, container=container, until=until, by=by))
        else:
            row.until, row.by = until, by


def unmute(store: Store, rule: str) -> int:
    """Lift every mute of the rule (whole rule and single containers); how many there were."""
    with store.session.begin() as session:
        return rows_changed(session, delete(AlertMuteTable).where(AlertMuteTable.rule == rule))


def mutes(store: Store, now: float | None = None) -> list[Mute]:
    moment = time.time() if now is None else now
    with store.session() as session:
        rows = session.scalars(select(AlertMuteTable).where(AlertMuteTable.until > moment)
                               .order_by(AlertMuteTable.rule, AlertMuteTable.container))
        return [Mute(row.rule, row.container, row.until, row.by) for row in rows]


def muted(session: Session, rule: str, container: str, now: float) -> bool:
    return session.scalars(select(AlertMuteTable.rule).where(
        AlertMuteTable.rule == rule, AlertMuteTable.container.in_(("", container)),
        AlertMuteTable.until > now)).first() is not None


# -- previous images ----------------------------------------------------------------------------

def remember_previous_image(store: Store, host: str, container: str, image_id: str,
                            image: str) -> None:
    with store.session.begin() as session:
        row = session.get(PreviousImageTable, (host, container))
        if row is None:
            session.add(PreviousImageTable(host=host, container=container, image_id=image_id,
                                           image=image, recorded_at=time.time()))
        else:
            row.image_id, row.image, row.recorded_at = image_id, image, time.time()


def previous_image(store: Store, host: str, container: str) -> tuple[str, str] | None:
    """(image ID, reference) the container ran before its last recreate, when known."""
    with store.session() as session:
        row = session.get(PreviousImageTable, (host, container))
        return (row.image_id, row.image) if row else None


# -- the audit, read for "last change" ----------------------------------------------------------

CHANGES = ("run", "create", "recreate", "update", "start", "restart", "alerts rollback")


def last_change(store: Store, host: str, container: str) -> AuditRow | None:
    """The newest successful run/recreate/update... of `container` on `host`, from the audit."""
    from bot.store.audit import AuditRow

    with store.session() as session:
        rows = session.scalars(select(AuditTable).where(
            AuditTable.command.in_(CHANGES), AuditTable.outcome == "ok",
            AuditTable.host.in_((host, "")), AuditTable.text.like(f"%{container}%"))
            .order_by(AuditTable.id.desc()).limit(20))
        for row in rows:
            if container in row.text.split():
                return AuditRow(user_id=row.user_id, user_name=row.user_name,
                                decision=row.decision, outcome=row.outcome, host=row.host,
                                command=row.command, text=row.text, at=aware(row.at),
                                source=row.source, id=row.id)
    return None


def counts(store: Store) -> dict[str, int]:
    """Open incidents per rule."""
    found: dict[str, int] = {}
    for incident in open_incidents(store):
        found[incident.rule] = found.get(incident.rule, 0) + 1
    return found


def rows_of(session: Session, ids: list[int]) -> list[IncidentTable]:
    return list(session.scalars(select(IncidentTable).where(IncidentTable.id.in_(ids))))


def quiet_incidents(session: Session, rule: str) -> list[IncidentTable]:
    return list(session.scalars(select(IncidentTable).where(
        IncidentTable.rule == rule, IncidentTable.state == "quiet").order_by(IncidentTable.id)))


def recovering(store: Store) -> list[Incident]:
    """Open incidents whose container runs again: candidates for "recovered"."""
    with store.session() as session:
        return [_incident(row) for row in session.scalars(select(IncidentTable).where(
            IncidentTable.state == "open", IncidentTable.running_since > 0))]


def set_facts(session: Session, row: IncidentTable, facts: dict[str, Any]) -> None:
    row.facts = json.dumps(facts)


def int_or(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


__all__ = ["AlertMuteTable", "Cursor", "EventCursorTable", "Incident", "IncidentTable", "Mute",
           "PreviousImageTable", "as_incident", "cursor", "get", "history", "open_incidents"]
