"""Housekeeping: what the store keeps no longer is deleted, once a day by the scheduler.

Audit rows and job runs older than [store] audit_retention_days / job_history_days;
confirmations and buttons a day past their deadline (a late click is still told it
expired); replay keys, delivery keys and snoozes once they expired. The outbox and the
digests already announced are never expired: dropping them would lose or repeat a notice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete

from bot.store.audit import AuditTable
from bot.store.base import rows_changed
from bot.store.buttons import ButtonTable
from bot.store.confirmations import ConfirmationTable
from bot.store.jobs import JobRunTable, SnoozeTable
from bot.store.keys import DeliveryTable, ReplayKeyTable

if TYPE_CHECKING:
    from bot.config import StoreConfig
    from bot.store.database import Store

LATE_CLICK_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Expired:
    """How many rows of each kind one housekeeping pass deleted."""

    audit: int = 0
    job_runs: int = 0
    confirmations: int = 0
    buttons: int = 0
    replay_keys: int = 0
    deliveries: int = 0
    snoozes: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{count} {kind}" for kind, count in asdict(self).items())


def expire(store: Store, config: StoreConfig, now: datetime | None = None) -> Expired:
    """Delete every row past its keeping time as of `now`; the counts."""
    moment = now or datetime.now(UTC)
    unix = moment.timestamp()
    audit_cutoff = moment - timedelta(days=config.audit_retention_days)
    runs_cutoff = moment - timedelta(days=config.job_history_days)
    late = unix - LATE_CLICK_SECONDS
    with store.session.begin() as session:
        return Expired(
            audit=rows_changed(session, delete(AuditTable).where(AuditTable.at < audit_cutoff)),
            job_runs=rows_changed(session, delete(JobRunTable)
                                  .where(JobRunTable.started_at < runs_cutoff)),
            confirmations=rows_changed(session, delete(ConfirmationTable)
                                       .where(ConfirmationTable.expires < late)),
            buttons=rows_changed(session, delete(ButtonTable).where(ButtonTable.expires < late)),
            replay_keys=rows_changed(session, delete(ReplayKeyTable)
                                     .where(ReplayKeyTable.expires_at < unix)),
            deliveries=rows_changed(session, delete(DeliveryTable)
                                    .where(DeliveryTable.expires_at < unix)),
            snoozes=rows_changed(session, delete(SnoozeTable).where(SnoozeTable.until < moment)))
