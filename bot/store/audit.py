"""The audit trail: every command, who asked, where, the decision, the outcome and the time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.store.base import Base, aware, utcnow

if TYPE_CHECKING:
    from bot.store.database import Store


class AuditTable(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    user_name: Mapped[str] = mapped_column(String(128), default="")
    channel_id: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(16), default="slack")
    host: Mapped[str] = mapped_column(String(64), default="")
    command: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str] = mapped_column(String(16))  # allowed | refused | invalid | pending
    outcome: Mapped[str] = mapped_column(String(16))  # ok | error | refused | preview | ...
    message: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class AuditRow:
    """One command as audited: written by the pipeline, read by `audit` and the audit channel."""

    user_id: str
    decision: str
    outcome: str
    user_name: str = ""
    channel_id: str = ""
    source: str = "slack"
    host: str = ""
    command: str = ""
    text: str = ""
    message: str = ""
    duration_ms: int = 0
    at: datetime = field(default_factory=utcnow)
    id: int = 0  # given by the table; 0 until written


def record_audit(store: Store, row: AuditRow) -> int:
    """Write the row; its id."""
    with store.session.begin() as session:
        added = AuditTable(
            at=row.at, user_id=row.user_id, user_name=row.user_name, channel_id=row.channel_id,
            source=row.source, host=row.host, command=row.command, text=row.text,
            decision=row.decision, outcome=row.outcome, message=row.message,
            duration_ms=row.duration_ms)
        session.add(added)
        session.flush()
        return added.id


def finish_audit(store: Store, row_id: int, row: AuditRow) -> None:
    """Give a row written before the command ran its decision, outcome, message and time."""
    with store.session.begin() as session:
        session.execute(update(AuditTable).where(AuditTable.id == row_id).values(
            decision=row.decision, outcome=row.outcome, message=row.message,
            duration_ms=row.duration_ms))


def audit_rows(store: Store, *, user_id: str | None = None, limit: int = 20) -> list[AuditRow]:
    """The newest rows first, optionally of one user."""
    query = select(AuditTable).order_by(AuditTable.id.desc()).limit(limit)
    if user_id:
        query = query.where(AuditTable.user_id == user_id)
    with Session(store.engine) as session:
        return [AuditRow(user_id=r.user_id, decision=r.decision, outcome=r.outcome,
                         user_name=r.user_name, channel_id=r.channel_id, source=r.source,
                         host=r.host, command=r.command, text=r.text, message=r.message,
                         duration_ms=r.duration_ms, at=aware(r.at), id=r.id)
                for r in session.scalars(query)]
