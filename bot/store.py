"""One SQLite database under DOCKOPS_DATA_DIR, through SQLAlchemy: the bot's memory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    DateTime,
    Float,
    Integer,
    String,
    Text,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class AuditRow(Base):
    """Every command: who, where, what, the decision, the outcome and how long it took."""

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


class ReplayKeyRow(Base):
    """A signed Slack request already served, kept until its signature could no longer pass."""

    __tablename__ = "replay_keys"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # unix seconds


class Store:
    """The database and a session factory; tables are created on first open."""

    def __init__(self, data_dir: Path | str, filename: str = "dockops.sqlite3") -> None:
        path = Path(data_dir)
        path.mkdir(parents=True, exist_ok=True)
        self.path = path / filename
        self.engine: SqlEngine = create_engine(f"sqlite:///{self.path}",
                                               connect_args={"check_same_thread": False,
                                                             "timeout": 30})
        event.listen(self.engine, "connect", _sqlite_pragmas)
        import bot.models  # noqa: F401  (registers every table before create_all)

        Base.metadata.create_all(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)

    def record_audit(self, row: AuditRow) -> None:
        with self.session.begin() as session:
            session.add(row)

    def audit_rows(self, *, user_id: str | None = None, limit: int = 20) -> list[AuditRow]:
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if user_id:
            query = query.where(AuditRow.user_id == user_id)
        with Session(self.engine) as session:
            return list(session.scalars(query))

    def replay_keys(self, now: float) -> dict[str, float]:
        """The remembered signed requests that could still pass: key -> expiry."""
        query = select(ReplayKeyRow).where(ReplayKeyRow.expires_at >= now)
        with self.session() as session:
            return {row.key: row.expires_at for row in session.scalars(query)}

    def remember_replay_keys(self, keys: list[tuple[str, float]], now: float) -> None:
        """Keep these keys until their expiry (a key seen already stays); forget expired ones."""
        with self.session.begin() as session:
            session.execute(delete(ReplayKeyRow).where(ReplayKeyRow.expires_at < now))
            if keys:
                session.execute(insert(ReplayKeyRow).on_conflict_do_nothing(
                    index_elements=["key"]), [{"key": k, "expires_at": e} for k, e in keys])

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
