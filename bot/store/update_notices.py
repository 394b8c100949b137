"""What the update policy remembers: each update notice told (to edit it into "applied" once
the containers run the new digest) and when each job last sent its reminder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.store.audit import AuditRow, AuditTable
from bot.store.base import Base, aware, rows_changed

if TYPE_CHECKING:
    from bot.store.database import Store

PENDING = "pending"
APPLIED = "applied"
RUNNING = "running"  # an audit row's outcome while its command is under way
RUNNING_SECONDS = 900.0  # a row still "running" after this is a crashed process's: ignored


class UpdateNoticeTable(Base):
    """An update notice posted for (job, image, digest): pending until the containers run it."""

    __tablename__ = "update_notices"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    image: Mapped[str] = mapped_column(String(512), primary_key=True)  # host/ref
    digest: Mapped[str] = mapped_column(String(128), primary_key=True)
    notice_key: Mapped[str] = mapped_column(String(512))  # its outbox key (where it landed)
    channel: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # the notice as queued (bot/jobs/notices.encode)
    told_at: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), default=PENDING, index=True)
    applied_at: Mapped[float] = mapped_column(Float, default=0.0)
    applied_by: Mapped[str] = mapped_column(String(64), default="")  # user ID; "" outside
    applied_how: Mapped[str] = mapped_column(String(64), default="")  # recreate | pull | run


class UpdateReminderTable(Base):
    """When a job last summarised its pending updates (`remind = "daily"|"weekly"`)."""

    __tablename__ = "update_reminders"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class ToldUpdate:
    """One update notice as remembered."""

    job: str
    image: str
    digest: str
    notice_key: str
    channel: str
    payload: dict[str, Any]
    told_at: float
    state: str


def _told(row: UpdateNoticeTable) -> ToldUpdate:
    return ToldUpdate(row.job, row.image, row.digest, row.notice_key, row.channel,
                      json.loads(row.payload), row.told_at, row.state)


def remember_told(session: Session, told: ToldUpdate) -> bool:
    """Remember a notice inside the caller's transaction; False when it already is."""
    if session.get(UpdateNoticeTable, (told.job, told.image, told.digest)) is not None:
        return False
    session.add(UpdateNoticeTable(job=told.job, image=told.image, digest=told.digest,
                                  notice_key=told.notice_key, channel=told.channel,
                                  payload=json.dumps(told.payload), told_at=told.told_at,
                                  state=told.state))
    return True


def pending(store: Store, job: str) -> list[ToldUpdate]:
    """The job's notices not applied yet, oldest first."""
    with Session(store.engine) as session:
        return [_told(row) for row in session.scalars(
            select(UpdateNoticeTable).where(UpdateNoticeTable.job == job,
                                            UpdateNoticeTable.state == PENDING)
            .order_by(UpdateNoticeTable.told_at))]


def mark_applied(session: Session, told: ToldUpdate, at: float, by: str, how: str) -> bool:
    """Pending -> applied, once (False when another run got there first)."""
    return rows_changed(session, update(UpdateNoticeTable).where(
        UpdateNoticeTable.job == told.job, UpdateNoticeTable.image == told.image,
        UpdateNoticeTable.digest == told.digest, UpdateNoticeTable.state == PENDING)
        .values(state=APPLIED, applied_at=at, applied_by=by, applied_how=how)) == 1


def last_reminder(store: Store, job: str) -> float | None:
    with Session(store.engine) as session:
        row = session.get(UpdateReminderTable, job)
        return row.last_at if row else None


def set_reminder(session: Session, job: str, at: float) -> None:
    """The job's reminder clock, inside the caller's transaction."""
    session.merge(UpdateReminderTable(job=job, last_at=at))


def who_updated(store: Store, host: str, since: float, names: set[str],
                commands: tuple[str, ...] = ("recreate", "pull", "run")) -> AuditRow | None:
    """The newest successful recreate/pull/run on `host` since `since` (unix seconds) whose
    text names one of `names` (container IDs, names, the image reference), or one still
    running (outcome RUNNING, begun in the last RUNNING_SECONDS); None: nobody."""
    import time
    from datetime import UTC, datetime

    after = datetime.fromtimestamp(since, UTC)
    recent = datetime.fromtimestamp(time.time() - RUNNING_SECONDS, UTC)
    query = (select(AuditTable).where(AuditTable.host == host,
                                      AuditTable.outcome.in_(("ok", RUNNING)),
                                      AuditTable.command.in_(commands), AuditTable.at >= after)
             .order_by(AuditTable.id.desc()).limit(200))
    with Session(store.engine) as session:
        for row in session.scalars(query):
            if row.outcome == RUNNING and aware(row.at) < recent:
                continue
            words = set(row.text.split())
            if words & names or any(word.startswith(name) for word in words for name in names
                                    if len(name) >= 12):
                return AuditRow(user_id=row.user_id, decision=row.decision, outcome=row.outcome,
                                user_name=row.user_name, channel_id=row.channel_id,
                                source=row.source, host=row.host, command=row.command,
                                text=row.text, at=aware(row.at), id=row.id)
    return None
