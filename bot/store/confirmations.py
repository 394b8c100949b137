"""Pending confirmations of destructive commands: one row each, decided at most once."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import Float, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, rows_changed

if TYPE_CHECKING:
    from bot.store.database import Store

State = Literal["pending", "confirmed", "cancelled", "expired"]


class ConfirmationTable(Base):
    """A destructive command waiting for its requester (or an admin) to confirm it."""

    __tablename__ = "confirmations"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    requester: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16), default="slack")
    channel: Mapped[str] = mapped_column(String(64), default="")
    command: Mapped[str] = mapped_column(String(64), default="")
    # The exact text, so confirming re-runs what was previewed. Destructive commands
    # (rm, rmi, prune, kill, stop) take no secrets.
    text: Mapped[str] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(64), default="")
    created: Mapped[float] = mapped_column(Float)
    expires: Mapped[float] = mapped_column(Float, index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[float] = mapped_column(Float, default=0.0)
    pinned: Mapped[str] = mapped_column(Text, default="")  # JSON list the preview showed


@dataclass(frozen=True)
class Pending:
    """A confirmation as read from the table."""

    token: str
    requester: str
    source: str
    channel: str
    command: str
    text: str
    host: str
    created: float
    expires: float
    state: str
    decided_by: str
    decided_at: float
    pinned: tuple[str, ...] | None = None

    def expired(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) >= self.expires

    @property
    def ttl_seconds(self) -> float:
        return self.expires - self.created


def _pending(row: ConfirmationTable) -> Pending:
    pinned = tuple(json.loads(row.pinned)) if row.pinned else None
    return Pending(row.token, row.requester, row.source, row.channel, row.command, row.text,
                   row.host, row.created, row.expires, row.state, row.decided_by, row.decided_at,
                   pinned)


class Confirmations:
    """Opens confirmations and moves each from pending to exactly one final state."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def open(self, *, requester: str, source: str, channel: str, command: str, text: str,
             host: str, ttl_seconds: float, pinned: list[str] | None = None) -> Pending:
        now = time.time()
        row = ConfirmationTable(token=secrets.token_urlsafe(16), requester=requester, source=source,
                              channel=channel, command=command, text=text, host=host, created=now,
                              expires=now + ttl_seconds, state="pending",
                              pinned=json.dumps(pinned) if pinned is not None else "")
        with self.store.session.begin() as session:
            session.add(row)
        return _pending(row)

    def get(self, token: str) -> Pending | None:
        with self.store.session() as session:
            row = session.get(ConfirmationTable, token)
            return _pending(row) if row else None

    def decide(self, token: str, state: State, by: str) -> bool:
        """Move a live pending confirmation to `state`; False when another decision came first.

        One UPDATE guarded by `state = 'pending'` (and the deadline, unless expiring):
        of two clicks racing, exactly one sees a changed row.
        """
        now = time.time()
        query = update(ConfirmationTable).where(ConfirmationTable.token == token,
                                              ConfirmationTable.state == "pending")
        if state == "expired":
            query = query.where(ConfirmationTable.expires <= now)
        else:
            query = query.where(ConfirmationTable.expires > now)
        with self.store.session.begin() as session:
            return rows_changed(session, query.values(state=state, decided_by=by,
                                                      decided_at=now)) == 1

    def overdue(self, now: float | None = None) -> list[Pending]:
        """Pending confirmations past their deadline, not yet marked expired."""
        moment = now if now is not None else time.time()
        query = select(ConfirmationTable).where(ConfirmationTable.state == "pending",
                                              ConfirmationTable.expires <= moment)
        with self.store.session() as session:
            return [_pending(row) for row in session.scalars(query)]
