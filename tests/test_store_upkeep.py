"""Backups while the bot writes, retention by [store], and the scheduler's jobs in the one file."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.cli import main
from bot.config import StoreConfig
from bot.jobs.cron import parse_schedule
from bot.jobs.runner import JOB_FUNCTION, JobRunner
from bot.jobs.scheduler import JobScheduler
from bot.services import Services
from bot.store import AuditRow, Buttons, Confirmations, Store, retention
from bot.store import jobs as records
from bot.store import outbox as outbox_table
from tests.conftest import ACCESS, make_settings
from tests.support import wait_for

NIGHTLY = ('[[jobs]]\nname = "nightly"\ntype = "prune"\nschedule = "0 3 * * *"\n'
           'channel = "C0OPS"\n')


def test_backup_copies_what_an_open_store_wrote_into_one_self_contained_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("DOCKOPS_DATA_DIR", str(data))
    store = Store(data)  # the bot, running: its writes sit in the WAL, not yet checkpointed
    try:
        for n in range(50):
            store.record_audit(AuditRow("U0ALICE", "allowed", "ok", text=f"ps {n}"))
        target = tmp_path / "backups" / "dockops.sqlite3"
        assert main(["backup", str(target)]) == 0
        assert f"to {target}" in capsys.readouterr().out
        store.record_audit(AuditRow("U0ALICE", "allowed", "ok", text="after the backup"))

        copy = sqlite3.connect(target)
        assert copy.execute("SELECT count(*) FROM audit").fetchone() == (50,)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        copy.close()
        assert not Path(f"{target}-wal").exists()

        assert main(["backup", str(target)]) == 2  # never over an existing file
        assert "exists already" in capsys.readouterr().err
        assert main(["backup", str(target.parent)]) == 0  # a directory: a new name in it
        assert len(list(target.parent.glob("dockops-*.sqlite3"))) == 1
    finally:
        store.close()


def test_a_restored_backup_opens_as_the_store(tmp_path: Path) -> None:
    store = Store(tmp_path / "live")
    store.record_audit(AuditRow("U0ALICE", "allowed", "ok", text="ps"))
    from bot.store.backup import copy_database

    copy_database(store.path, tmp_path / "restored" / "dockops.sqlite3")
    store.close()
    restored = Store(tmp_path / "restored")
    try:
        assert [row.text for row in restored.audit_rows()] == ["ps"]
        assert restored.upgraded.backup is None
    finally:
        restored.close()


def test_housekeeping_deletes_old_history_and_expired_tokens_and_keeps_the_rest(
        tmp_path: Path) -> None:
    store = Store(tmp_path)
    now = datetime.now(UTC)
    try:
        for days in (40, 20):
            store.record_audit(AuditRow("U0ALICE", "allowed", "ok", text=f"{days} days ago",
                                        at=now - timedelta(days=days)))
        old_run = records.start_run(store, "nightly", "schedule")
        records.start_run(store, "nightly", "manual")
        with store.session.begin() as session:
            session.get(records.JobRunTable, old_run).started_at = now - timedelta(days=100)
            outbox_table.queue(session, "C0OPS", {"text": "waiting"}, "k1")
        confirmations, buttons = Confirmations(store), Buttons(store)
        gone = confirmations.open(requester="U0A", source="slack", channel="C0", command="rm",
                                  text="rm a", host="local", ttl_seconds=-2 * 86400)
        live = confirmations.open(requester="U0A", source="slack", channel="C0", command="rm",
                                  text="rm b", host="local", ttl_seconds=600)
        late = confirmations.open(requester="U0A", source="slack", channel="C0", command="rm",
                                  text="rm c", host="local", ttl_seconds=-3600)
        old_button = buttons.issue("a", "ps", ttl_seconds=-2 * 86400)
        new_button = buttons.issue("a", "ps", ttl_seconds=60)
        store.remember_replay_keys([("old", time.time() - 1), ("new", time.time() + 300)], 0)
        store.remember_deliveries([("old", time.time() - 1), ("new", time.time() + 300)], 0)

        expired = retention.expire(store, StoreConfig(audit_retention_days=30, job_history_days=90))

        assert (expired.audit, expired.job_runs, expired.confirmations, expired.buttons,
                expired.replay_keys, expired.deliveries) == (1, 1, 1, 1, 1, 1)
        assert [row.text for row in store.audit_rows()] == ["20 days ago"]
        assert [run.trigger for run in records.recent_runs(store, "nightly")] == ["manual"]
        assert confirmations.get(gone.token) is None
        assert confirmations.get(live.token) and confirmations.get(late.token)  # told "expired"
        assert buttons.get(old_button) is None and buttons.get(new_button) is not None
        assert list(store.replay_keys(0)) == ["new"] and list(store.delivered(0)) == ["new"]
        assert outbox_table.depth(store) == 1  # a waiting notice is never expired
    finally:
        store.close()


def test_store_config_defaults_to_a_year_and_check_refuses_zero() -> None:
    from bot.config import parse_file
    from bot.errors import DockopsError

    assert parse_file("").store == StoreConfig(audit_retention_days=365, job_history_days=365)
    assert parse_file("[store]\njob_history_days = 30\n").store.job_history_days == 30
    with pytest.raises(DockopsError) as caught:
        parse_file("[store]\naudit_retention_days = 0\n")
    assert "audit_retention_days" in caught.value.detail


def old_job_file(path: Path) -> None:
    """DATA_DIR/jobs.sqlite3 as 0.1.0 kept it: the nightly job, paused."""
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{path}")},
                                    timezone=UTC)
    scheduler.start(paused=True)
    scheduler.add_job(JOB_FUNCTION, parse_schedule("0 3 * * *"), args=["nightly"], id="nightly",
                      name="nightly")
    scheduler.pause_job("nightly")
    scheduler.shutdown()


def test_the_scheduler_keeps_its_jobs_in_the_store_file_and_adopts_the_old_job_file(
        tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ACCESS + NIGHTLY + "[store]\naudit_retention_days = 1\n")
    settings.data_dir.mkdir(parents=True)
    old_job_file(settings.data_dir / "jobs.sqlite3")
    services = Services.build(settings)
    services.store.record_audit(AuditRow("U0A", "allowed", "ok", text="old",
                                         at=datetime.now(UTC) - timedelta(days=2)))
    scheduler = JobScheduler(JobRunner(services, None))
    try:
        assert scheduler.start()
        assert scheduler.paused("nightly")  # the old file's state came along
        assert not (settings.data_dir / "jobs.sqlite3").exists()
        assert len(list(settings.data_dir.glob("jobs.sqlite3.imported-*"))) == 1
        db = sqlite3.connect(services.store.path)
        assert db.execute("SELECT id FROM apscheduler_jobs").fetchall() == [("nightly",)]
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        db.close()
        # Housekeeping runs at start (then daily), in memory: not a stored job.
        wait_for(lambda: not services.store.audit_rows(), what="the old audit row deleted")
    finally:
        scheduler.shutdown()
        services.close()
