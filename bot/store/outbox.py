"""The outbox table: notifications waiting for Slack, leased one sender at a time."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, Integer, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.store.base import Base, aware, rows_changed, utcnow

if TYPE_CHECKING:
    from bot.store.database import Store


class OutboxTable(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(512), unique=True)
    channel: Mapped[str] = mapped_column(String(64))
    # JSON: {"kind": ..., "notice": {...}} (a notice), or {"text", "blocks"} (a Slack message)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[float] = mapped_column(Float, default=0.0, index=True)  # unix seconds
    leased_until: Mapped[float] = mapped_column(Float, default=0.0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class PostedTable(Base):
    """Where a delivered message landed (its ts), for rows that asked to be remembered: later
    rows reply in its thread (`thread_of`) or update it (`update_of`) by its outbox key."""

    __tablename__ = "outbox_posted"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    ts: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[float] = mapped_column(Float)


@dataclass(frozen=True)
class Queued:
    """One notification waiting: where it goes, what it says (as stored), how it fared."""

    id: int
    key: str
    channel: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    due: float
    leased_until: float
    last_error: str


def _queued(row: OutboxTable) -> Queued:
    return Queued(row.id, row.key, row.channel, json.loads(row.payload), aware(row.created_at),
                  row.attempts, row.due, row.leased_until, row.last_error)


def queue(session: Session, channel: str, payload: dict[str, Any], key: str) -> bool:
    """Queue `payload` inside the caller's transaction; False when `key` is already queued."""
    if session.scalar(select(OutboxTable.id).where(OutboxTable.key == key)) is not None:
        return False
    session.add(OutboxTable(key=key, channel=channel, due=time.time(),
                            payload=json.dumps(payload)))
    return True


def lease_next(store: Store, lease_seconds: float) -> Queued | None:
    """Lease the oldest row of a channel whose oldest row is due: each channel reads in order."""
    now = time.time()
    with store.session.begin() as session:
        heads: dict[str, OutboxTable] = {}
        for row in session.scalars(select(OutboxTable).order_by(OutboxTable.id)):
            heads.setdefault(row.channel, row)
        ready = [row for row in heads.values() if row.due <= now and row.leased_until < now]
        if not ready:
            return None
        row = min(ready, key=lambda r: r.id)
        # Another process may lease the same row at the same moment: the UPDATE decides.
        claimed = rows_changed(session, update(OutboxTable).where(
            OutboxTable.id == row.id, OutboxTable.leased_until < now)
            .values(leased_until=now + lease_seconds))
        return _queued(row) if claimed == 1 else None


def remove(store: Store, row_id: int, posted: tuple[str, str] | None = None) -> None:
    """Slack has it: the row goes; `posted` (channel, ts) is kept under its key, in the same
    transaction, when later rows will reply to or update that message."""
    with store.session.begin() as session:
        row = session.get(OutboxTable, row_id)
        if row is not None:
            if posted is not None:
                session.merge(PostedTable(key=row.key, channel=posted[0], ts=posted[1],
                                          posted_at=time.time()))
            session.delete(row)


def posted_ts(store: Store, key: str) -> str | None:
    """The ts of the message delivered under `key`, when it was remembered."""
    with Session(store.engine) as session:
        row = session.get(PostedTable, key)
        return row.ts if row else None


def is_queued(store: Store, key: str) -> bool:
    with Session(store.engine) as session:
        return session.scalar(select(OutboxTable.id).where(OutboxTable.key == key)) is not None


def postpone(store: Store, row_id: int, seconds: float, error: str) -> None:
    """Try again in `seconds`, counting the attempt and keeping why it failed."""
    with store.session.begin() as session:
        session.execute(update(OutboxTable).where(OutboxTable.id == row_id).values(
            attempts=OutboxTable.attempts + 1, due=time.time() + seconds, leased_until=0.0,
            last_error=error[:500]))


def depth(store: Store) -> int:
    with Session(store.engine) as session:
        return int(session.scalar(select(func.count(OutboxTable.id))) or 0)


def waiting(store: Store) -> tuple[int, float | None]:
    """How many rows wait, and when the earliest is due (unix seconds)."""
    with Session(store.engine) as session:
        count = int(session.scalar(select(func.count(OutboxTable.id))) or 0)
        due = session.scalar(select(func.min(OutboxTable.due)))
    return count, due


def queued(store: Store) -> list[Queued]:
    """Every waiting row, oldest first."""
    with Session(store.engine) as session:
        return [_queued(row) for row in session.scalars(select(OutboxTable)
                                                        .order_by(OutboxTable.id))]
