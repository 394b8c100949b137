"""Buttons that carry commands: the click sends an opaque token; the row says what it runs.

A button is a typed command in disguise. Its row holds the exact command text (host,
image, container IDs...), the one action_id it belongs to, and a deadline; the click
runs that text through the pipeline as the clicker, so roles, host roles, confirmation,
audit and metrics apply as if it had been typed. Each token works once.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Float, String, Text, update
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base, rows_changed

if TYPE_CHECKING:
    from bot.store.database import Store


class ButtonTable(Base):
    """One button sent to Slack: what its click runs, until when, and who used it."""

    __tablename__ = "buttons"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    action_id: Mapped[str] = mapped_column(String(64))
    command: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(64), default="")
    issued_by: Mapped[str] = mapped_column(String(64), default="")
    created: Mapped[float] = mapped_column(Float)
    expires: Mapped[float] = mapped_column(Float, index=True)
    used_by: Mapped[str] = mapped_column(String(64), default="")
    used_at: Mapped[float] = mapped_column(Float, default=0.0)


@dataclass(frozen=True)
class Button:
    """A button as read from the table."""

    token: str
    action_id: str
    command: str
    channel: str
    issued_by: str
    expires: float
    used_by: str

    def expired(self, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) >= self.expires


def _button(row: ButtonTable) -> Button:
    return Button(row.token, row.action_id, row.command, row.channel, row.issued_by, row.expires,
                  row.used_by)


class Buttons:
    """Issues button tokens and lets each be used at most once, before its deadline."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def issue(self, action_id: str, command: str, *, ttl_seconds: float, channel: str = "",
              issued_by: str = "") -> str:
        """A new token for a button with `action_id` whose click runs `command`."""
        now = time.time()
        row = ButtonTable(token=secrets.token_urlsafe(16), action_id=action_id, command=command,
                        channel=channel, issued_by=issued_by, created=now,
                        expires=now + ttl_seconds)
        with self.store.session.begin() as session:
            session.add(row)
        return row.token

    def get(self, token: str) -> Button | None:
        if not token or len(token) > 64:
            return None
        with self.store.session() as session:
            row = session.get(ButtonTable, token)
            return _button(row) if row else None

    def use(self, token: str, by: str) -> bool:
        """Mark the button used; False when it was used already or its deadline passed.

        One UPDATE guarded by `used_at = 0` and the deadline: of two clicks racing,
        exactly one sees a changed row.
        """
        now = time.time()
        query = (update(ButtonTable)
                 .where(ButtonTable.token == token, ButtonTable.used_at == 0.0,
                        ButtonTable.expires > now)
                 .values(used_by=by, used_at=now))
        with self.store.session.begin() as session:
            return rows_changed(session, query) == 1
