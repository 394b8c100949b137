"""What the jobs remember: each run, the digests (and failures) already announced, snoozes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.store.base import Base, aware, utcnow

if TYPE_CHECKING:
    from bot.store.database import Store


class JobRunTable(Base):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64), index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="running")  # ok | error | skipped
    summary: Mapped[str] = mapped_column(Text, default="")


class SeenDigestTable(Base):
    """A registry digest (or a failure marker) already announced for an image: told once."""

    __tablename__ = "seen_digests"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    image: Mapped[str] = mapped_column(String(512), primary_key=True)
    digest: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SnoozeTable(Base):
    """An image whose update announcements wait until `until` (the Snooze 24h button)."""

    __tablename__ = "update_snoozes"

    image: Mapped[str] = mapped_column(String(512), primary_key=True)
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(64), default="")


@dataclass(frozen=True)
class JobRun:
    """One run of a job: when, why (schedule, manual), how it ended, and a summary."""

    id: int
    job: str
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str  # running | ok | error | skipped
    summary: str


def start_run(store: Store, job: str, trigger: str) -> int:
    with store.session.begin() as session:
        row = JobRunTable(job=job, trigger=trigger, outcome="running")
        session.add(row)
        session.flush()
        return row.id


def finish_run(store: Store, run_id: int, outcome: str, summary: str) -> None:
    with store.session.begin() as session:
        row = session.get(JobRunTable, run_id)
        if row is not None:
            row.outcome, row.summary, row.finished_at = outcome, summary[:4000], utcnow()


def recent_runs(store: Store, job: str, limit: int = 10) -> list[JobRun]:
    """The job's newest runs first."""
    query = (select(JobRunTable).where(JobRunTable.job == job)
             .order_by(JobRunTable.id.desc()).limit(limit))
    with Session(store.engine) as session:
        return [JobRun(row.id, row.job, row.trigger, aware(row.started_at),
                       aware(row.finished_at) if row.finished_at else None, row.outcome,
                       row.summary) for row in session.scalars(query)]


def last_run(store: Store, job: str) -> JobRun | None:
    runs = recent_runs(store, job, 1)
    return runs[0] if runs else None


def was_seen(session: Session, job: str, image: str, marker: str) -> bool:
    return session.get(SeenDigestTable, (job, image, marker)) is not None


def mark_seen(session: Session, job: str, image: str, marker: str) -> None:
    session.merge(SeenDigestTable(job=job, image=image, digest=marker))


def images_seen(store: Store, job: str, marker: str) -> set[str]:
    """The images holding a marker (one query: a run forgets only markers that exist)."""
    with Session(store.engine) as session:
        return set(session.scalars(select(SeenDigestTable.image).where(
            SeenDigestTable.job == job, SeenDigestTable.digest == marker)))


def forget_seen(session: Session, job: str, image: str, marker: str) -> None:
    """Drop a marker, so the next failure (or digest) is announced again."""
    row = session.get(SeenDigestTable, (job, image, marker))
    if row is not None:
        session.delete(row)


def snoozed_until(store: Store, image: str, now: datetime | None = None) -> datetime | None:
    """When the image's snooze ends, or None when it is not snoozed."""
    with Session(store.engine) as session:
        row = session.get(SnoozeTable, image)
    if row is None:
        return None
    until = aware(row.until)
    return until if until > (now or datetime.now(UTC)) else None


def snooze(store: Store, image: str, by: str, hours: float = 24) -> datetime:
    until = datetime.now(UTC) + timedelta(hours=hours)
    with store.session.begin() as session:
        session.merge(SnoozeTable(image=image, until=until, by=by))
    return until


def forget_snooze(store: Store, image: str) -> None:
    with store.session.begin() as session:
        session.execute(delete(SnoozeTable).where(SnoozeTable.image == image))
