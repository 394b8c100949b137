"""Housekeeping of incidents: closed incidents past [store] incident_history_days go with their
message's ts row; open and recent ones, and every ts row a later message may need, stay."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import StoreConfig, parse_file
from bot.store import Store, retention
from bot.store import incidents as records
from bot.store import outbox as rows
from bot.store.incidents import AlertMuteTable, IncidentTable
from bot.store.outbox import PostedTable
from bot.store.update_notices import UpdateNoticeTable

DAY = 86400.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(tmp_path / "data")
    yield opened
    opened.close()


def incident(store: Store, state: str, closed_days_ago: float) -> int:
    now = time.time()
    with store.session.begin() as session:
        row = records.add_incident(
            session, rule="crashes", host="local", container_id="c1", container="web",
            channel="C0OPS", kind="die", state=state, opened_at=now - closed_days_ago * DAY - 60,
            last_event_at=now - closed_days_ago * DAY - 60,
            closed_at=now - closed_days_ago * DAY if state not in records.OPEN_STATES else 0.0,
            count=1, restarts=0, running_since=0.0, closed_by="", facts="{}")
        session.add(PostedTable(key=f"incident:{row.id}:message", channel="C0OPS",
                                ts=f"{row.id}.000100", posted_at=now - closed_days_ago * DAY))
        return row.id


def posted(store: Store, key: str, days_ago: float) -> None:
    with store.session.begin() as session:
        session.add(PostedTable(key=key, channel="C0OPS", ts="1.0",
                                posted_at=time.time() - days_ago * DAY))


def test_old_closed_incidents_and_unneeded_ts_rows_go_open_recent_and_needed_ones_stay(
        store: Store) -> None:
    old_resolved = incident(store, "resolved", 100)
    old_recovered = incident(store, "recovered", 95)
    old_open = incident(store, "open", 200)  # open for ever: still takes replies
    recent_resolved = incident(store, "resolved", 3)
    newest_old = incident(store, "summarized", 120)  # the newest id stays (SQLite reuses it)
    posted(store, "job:nightly:old-report", 100)  # nothing will reply to it: goes
    posted(store, "job:nightly:recent", 2)
    posted(store, "updates:pending", 100)  # a pending update notice: "applied" edits it later
    posted(store, "job:waited-for", 100)  # a queued row still threads under it
    now = time.time()
    with store.session.begin() as session:
        session.add(UpdateNoticeTable(job="updates", image="local/app:1", digest="sha256:a",
                                      notice_key="updates:pending", channel="C0OPS",
                                      payload="{}", told_at=now - 100 * DAY))
        rows.queue(session, "C0OPS", {"text": "late reply", "thread_of": "job:waited-for"},
                   "job:late-reply")
        session.add(AlertMuteTable(rule="crashes", container="", until=now - 60, by="U0A"))
        session.add(AlertMuteTable(rule="crashes", container="web", until=now + 600, by="U0A"))

    expired = retention.expire(store, StoreConfig(incident_history_days=90))

    assert (expired.incidents, expired.posted, expired.mutes) == (2, 3, 1)
    with store.session() as session:
        left = set(session.scalars(select(IncidentTable.id)))
        keys = set(session.scalars(select(PostedTable.key)))
    assert left == {old_open, recent_resolved, newest_old}
    assert old_resolved not in left and old_recovered not in left
    assert keys == {f"incident:{old_open}:message", f"incident:{recent_resolved}:message",
                    f"incident:{newest_old}:message", "job:nightly:recent", "updates:pending",
                    "job:waited-for"}
    assert [m.container for m in records.mutes(store)] == ["web"]
    assert [row.key for row in rows.queued(store)] == ["job:late-reply"]  # never expired


def test_incident_history_days_has_its_own_key() -> None:
    assert parse_file("").store.incident_history_days == 90
    assert parse_file("[store]\nincident_history_days = 7\n").store.incident_history_days == 7


def test_applied_update_notices_go_after_the_job_history_pending_ones_stay(store: Store) -> None:
    now = time.time()
    with store.session.begin() as session:
        for digest, state, applied_days_ago in (("sha256:old", "applied", 400),
                                                ("sha256:recent", "applied", 10),
                                                ("sha256:waiting", "pending", 0)):
            session.add(UpdateNoticeTable(
                job="updates", image="local/app:1", digest=digest, notice_key=digest,
                channel="C0OPS", payload="{}", told_at=now - 500 * DAY, state=state,
                applied_at=now - applied_days_ago * DAY if state == "applied" else 0.0))

    expired = retention.expire(store, StoreConfig(job_history_days=365))

    assert expired.update_notices == 1
    with store.session() as session:
        left = set(session.scalars(select(UpdateNoticeTable.digest)))
    assert left == {"sha256:recent", "sha256:waiting"}
