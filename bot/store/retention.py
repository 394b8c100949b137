"""Housekeeping: what the store keeps no longer is deleted, once a day by the scheduler.

Audit rows and job runs older than [store] audit_retention_days / job_history_days;
confirmations and buttons a day past their deadline (a late click is still told it
expired); replay keys, delivery keys, snoozes and alert mutes once they expired. Closed
incidents (recovered, resolved, summarized) older than incident_history_days go, and with them
the ts rows of delivered messages (outbox_posted) older than that which nothing can reply to or
update any more: not an incident's still kept, not a pending update notice's (its "applied"
edit may come any day), not one a queued row waits for. Update notices already applied go
after job_history_days (the containers run that digest: nothing can announce it again). The
outbox itself and the digests already announced are never expired: dropping them would lose
or repeat a notice.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.store.audit import AuditTable
from bot.store.base import rows_changed
from bot.store.buttons import ButtonTable
from bot.store.confirmations import ConfirmationTable
from bot.store.incidents import OPEN_STATES, AlertMuteTable, IncidentTable
from bot.store.jobs import JobRunTable, SnoozeTable
from bot.store.keys import DeliveryTable, ReplayKeyTable
from bot.store.outbox import OutboxTable, PostedTable
from bot.store.update_notices import APPLIED, PENDING, UpdateNoticeTable

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
    incidents: int = 0
    posted: int = 0
    mutes: int = 0
    update_notices: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{count} {kind}" for kind, count in asdict(self).items())


def expire(store: Store, config: StoreConfig, now: datetime | None = None) -> Expired:
    """Delete every row past its keeping time as of `now`; the counts."""
    moment = now or datetime.now(UTC)
    unix = moment.timestamp()
    audit_cutoff = moment - timedelta(days=config.audit_retention_days)
    runs_cutoff = moment - timedelta(days=config.job_history_days)
    late = unix - LATE_CLICK_SECONDS
    incidents_cutoff = unix - config.incident_history_days * 86400
    with store.session.begin() as session:
        # The newest row stays: SQLite would hand its id (in buttons, outbox keys) out again.
        newest = session.scalar(select(func.max(IncidentTable.id))) or 0
        incidents = rows_changed(session, delete(IncidentTable).where(
            IncidentTable.state.not_in(OPEN_STATES), IncidentTable.closed_at > 0,
            IncidentTable.closed_at < incidents_cutoff, IncidentTable.id < newest))
        return Expired(
            update_notices=rows_changed(session, delete(UpdateNoticeTable).where(
                UpdateNoticeTable.state == APPLIED,
                UpdateNoticeTable.applied_at < runs_cutoff.timestamp())),
            incidents=incidents, posted=_expire_posted(session, incidents_cutoff),
            mutes=rows_changed(session, delete(AlertMuteTable).where(AlertMuteTable.until < unix)),
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


def _expire_posted(session: Session, cutoff: float) -> int:
    """Delivered-message ts rows older than `cutoff` that no later row can need (see above)."""
    candidates = set(session.scalars(select(PostedTable.key).where(
        PostedTable.posted_at < cutoff)))
    if not candidates:
        return 0
    kept = {f"incident:{number}:message" for number in session.scalars(select(IncidentTable.id))}
    kept.update(session.scalars(select(UpdateNoticeTable.notice_key).where(
        UpdateNoticeTable.state == PENDING)))
    for payload in session.scalars(select(OutboxTable.payload)):
        kept.update(_parents(payload))
    gone = sorted(candidates - kept)
    for start in range(0, len(gone), 500):
        session.execute(delete(PostedTable).where(PostedTable.key.in_(gone[start:start + 500])))
    return len(gone)


def _parents(payload: str) -> set[str]:
    """The message keys a queued row replies to or updates."""
    try:
        value = json.loads(payload)
    except ValueError:
        return set()
    if not isinstance(value, dict):
        return set()
    return {str(value[name]) for name in ("thread_of", "update_of") if value.get(name)}
