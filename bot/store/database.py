"""One SQLite database under DOCKOPS_DATA_DIR, through SQLAlchemy: the bot's memory."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.orm import sessionmaker

# Every module defining a table, imported so create_all makes them all.
from bot.store import audit, buttons, confirmations, deliveries, jobs, outbox, replay  # noqa: F401
from bot.store.base import Base


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
        Base.metadata.create_all(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)

    # The audit trail and replay keys are written from the request path as methods of the
    # store itself; the other tables' operations live in their own modules.
    def record_audit(self, row: audit.AuditRow) -> None:
        audit.record_audit(self, row)

    def audit_rows(self, *, user_id: str | None = None, limit: int = 20) -> list[audit.AuditRow]:
        return audit.audit_rows(self, user_id=user_id, limit=limit)

    def replay_keys(self, now: float) -> dict[str, float]:
        return replay.replay_keys(self, now)

    def remember_replay_keys(self, keys: list[tuple[str, float]], now: float) -> None:
        replay.remember_replay_keys(self, keys, now)

    def delivered(self, now: float) -> dict[str, float]:
        return deliveries.delivered(self, now)

    def remember_deliveries(self, keys: list[tuple[str, float]], now: float) -> None:
        deliveries.remember_deliveries(self, keys, now)

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
