"""One SQLite database under DOCKOPS_DATA_DIR, through SQLAlchemy: the bot's memory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

# Every module defining a table, imported so a new store gets them all.
from bot.store import (  # noqa: F401
    audit,
    buttons,
    confirmations,
    incidents,
    jobs,
    keys,
    outbox,
    update_notices,
)
from bot.store.schema import upgrade

STORE_FILE = "dockops.sqlite3"


class Store:
    """The database and a session factory; opening creates it, or migrates an older one.

    Raises StoreTooNew when a newer dockops upgraded the file.
    """

    def __init__(self, data_dir: Path | str, filename: str = STORE_FILE) -> None:
        path = Path(data_dir)
        path.mkdir(parents=True, exist_ok=True)
        self.path = path / filename
        self.engine: SqlEngine = create_engine(f"sqlite:///{self.path}",
                                               connect_args={"check_same_thread": False,
                                                             "timeout": 30})
        event.listen(self.engine, "connect", _sqlite_pragmas)
        self.upgraded = upgrade(self.engine, self.path)
        self.session = sessionmaker(self.engine, expire_on_commit=False)
        self.audit_problem = ""  # why the last audit write failed; "" once one succeeds

    # The audit trail and replay keys are written from the request path as methods of the
    # store itself; the other tables' operations live in their own modules.
    def record_audit(self, row: audit.AuditRow) -> int:
        """Write the row; its id. A failure is kept in `audit_problem` until a write succeeds."""
        with self._auditing():
            return audit.record_audit(self, row)

    def finish_audit(self, row_id: int, row: audit.AuditRow) -> None:
        with self._auditing():
            audit.finish_audit(self, row_id, row)

    @contextmanager
    def _auditing(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:  # disk full, read-only, locked: the sqlite3 sentence
            self.audit_problem = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise
        self.audit_problem = ""

    def audit_rows(self, *, user_id: str | None = None, limit: int = 20) -> list[audit.AuditRow]:
        return audit.audit_rows(self, user_id=user_id, limit=limit)

    def replay_keys(self, now: float) -> dict[str, float]:
        return keys.remembered(self, keys.ReplayKeyTable, now)

    def remember_replay_keys(self, batch: list[tuple[str, float]], now: float) -> None:
        keys.remember(self, keys.ReplayKeyTable, batch, now)

    def delivered(self, now: float) -> dict[str, float]:
        return keys.remembered(self, keys.DeliveryTable, now)

    def remember_deliveries(self, batch: list[tuple[str, float]], now: float) -> None:
        keys.remember(self, keys.DeliveryTable, batch, now)

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
