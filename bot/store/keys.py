"""Keys remembered until they expire: signed requests already served (replay_keys) and user
actions already run (deliveries). Both are decided in memory and written here in batches."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Float, String, delete, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base

if TYPE_CHECKING:
    from bot.store.database import Store


class _KeyColumns:
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # unix seconds


class ReplayKeyTable(_KeyColumns, Base):
    """A signed Slack request already served, kept until its signature could no longer pass."""

    __tablename__ = "replay_keys"


class DeliveryTable(_KeyColumns, Base):
    """A slash command or click already run, kept so a re-delivery runs nothing."""

    __tablename__ = "deliveries"


KeyTable = type[ReplayKeyTable] | type[DeliveryTable]


def remembered(store: Store, table: KeyTable, now: float) -> dict[str, float]:
    """The keys still remembered: key -> expiry."""
    query = select(table.key, table.expires_at).where(table.expires_at >= now)
    with store.session() as session:
        return {key: expires_at for key, expires_at in session.execute(query)}


def remember(store: Store, table: KeyTable, keys: list[tuple[str, float]], now: float) -> None:
    """Keep these keys until their expiry (a key kept already stays); forget expired ones."""
    with store.session.begin() as session:
        session.execute(delete(table).where(table.expires_at < now))
        if keys:
            session.execute(insert(table).on_conflict_do_nothing(index_elements=["key"]),
                            [{"key": k, "expires_at": e} for k, e in keys])
