"""What the jobs remember: each run, the digests already announced, and snoozes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.store import Base, Store, utcnow


class JobRunRow(Base):
    """One run of a job: when, why (schedule, manual, button), how it ended, and a summary."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64), index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="running")  # ok | error | skipped
    summary: Mapped[str] = mapped_column(Text, default="")


class SeenDigestRow(Base):
    """A registry digest already announced for an image: never announced twice."""

    __tablename__ = "seen_digests"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    image: Mapped[str] = mapped_column(String(512), primary_key=True)
    digest: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SnoozeRow(Base):
    """An image whose update announcements wait until `until` (the Snooze 24h button)."""

    __tablename__ = "update_snoozes"

    image: Mapped[str] = mapped_column(String(512), primary_key=True)
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(64), default="")


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back without their zone; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def start_run(store: Store, job: str, trigger: str) -> int:
    with store.session.begin() as session:
        row = JobRunRow(job=job, trigger=trigger, outcome="running")
        session.add(row)
        session.flush()
        return row.id


def finish_run(store: Store, run_id: int, outcome: str, summary: str) -> None:
    with store.session.begin() as session:
        row = session.get(JobRunRow, run_id)
        if row is not None:
            row.outcome, row.summary, row.finished_at = outcome, summary[:4000], utcnow()


def recent_runs(store: Store, job: str, limit: int = 10) -> list[JobRunRow]:
    query = select(JobRunRow).where(JobRunRow.job == job).order_by(JobRunRow.id.desc()).limit(limit)
    with Session(store.engine) as session:
        rows = list(session.scalars(query))
    for row in rows:
        row.started_at = _aware(row.started_at)
        row.finished_at = _aware(row.finished_at) if row.finished_at else None
    return rows


def last_run(store: Store, job: str) -> JobRunRow | None:
    runs = recent_runs(store, job, 1)
    return runs[0] if runs else None


def was_seen(session: Session, job: str, image: str, digest: str) -> bool:
    return session.get(SeenDigestRow, (job, image, digest)) is not None


def mark_seen(session: Session, job: str, image: str, digest: str) -> None:
    session.merge(SeenDigestRow(job=job, image=image, digest=digest))


def snoozed_until(store: Store, image: str, now: datetime | None = None) -> datetime | None:
    """When the image's snooze ends, or None when it is not snoozed."""
    with Session(store.engine) as session:
        row = session.get(SnoozeRow, image)
    if row is None:
        return None
    until = _aware(row.until)
    return until if until > (now or datetime.now(UTC)) else None


def snooze(store: Store, image: str, by: str, hours: float = 24) -> datetime:
    until = datetime.now(UTC) + timedelta(hours=hours)
    with store.session.begin() as session:
        session.merge(SnoozeRow(image=image, until=until, by=by))
    return until


def forget_snooze(store: Store, image: str) -> None:
    with store.session.begin() as session:
        session.execute(delete(SnoozeRow).where(SnoozeRow.image == image))
