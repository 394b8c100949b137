"""User actions already run (a slash command, a click), kept so a re-delivery runs nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Float, String, delete, select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.base import Base

if TYPE_CHECKING:
    from bot.store.database import Store


class DeliveryTable(Base):
    __tablename__ = "deliveries"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # unix seconds


def delivered(store: Store, now: float) -> dict[str, float]:
    """The delivery keys still remembered: key -> expiry."""
    query = select(DeliveryTable).where(DeliveryTable.expires_at >= now)
    with store.session() as session:
        return {row.key: row.expires_at for row in session.scalars(query)}


def remember_deliveries(store: Store, keys: list[tuple[str, float]], now: float) -> None:
    """Keep these keys until their expiry (a key kept already stays); forget expired ones."""
    with store.session.begin() as session:
        session.execute(delete(DeliveryTable).where(DeliveryTable.expires_at < now))
        if keys:
            session.execute(insert(DeliveryTable).on_conflict_do_nothing(
                index_elements=["key"]), [{"key": k, "expires_at": e} for k, e in keys])

