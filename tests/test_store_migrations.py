"""The store upgrades itself: an old store keeps every row, a newer one is refused untouched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from bot.cli import main
from bot.store import Base, Buttons, Confirmations, Store, schema
from bot.store import jobs as records
from bot.store import outbox as outbox_table

# The schema as release 0.1.0 (and every commit before 0eaf9f0) created it: `git show
# 0eaf9f0^:bot/store.py`, `...:bot/confirm.py`, `...:bot/jobs/records.py`, `...:bot/jobs/outbox.py`.
V010 = """
CREATE TABLE audit (id INTEGER NOT NULL, at DATETIME NOT NULL, user_id VARCHAR(64) NOT NULL,
  user_name VARCHAR(128) NOT NULL, channel_id VARCHAR(64) NOT NULL, source VARCHAR(16) NOT NULL,
  host VARCHAR(64) NOT NULL, command VARCHAR(64) NOT NULL, text TEXT NOT NULL,
  decision VARCHAR(16) NOT NULL, outcome VARCHAR(16) NOT NULL, message TEXT NOT NULL,
  duration_ms INTEGER NOT NULL, PRIMARY KEY (id));
CREATE INDEX ix_audit_at ON audit (at);
CREATE INDEX ix_audit_user_id ON audit (user_id);
CREATE TABLE confirmations (token VARCHAR(32) NOT NULL, requester VARCHAR(64) NOT NULL,
  source VARCHAR(16) NOT NULL, channel VARCHAR(64) NOT NULL, command VARCHAR(64) NOT NULL,
  text TEXT NOT NULL, host VARCHAR(64) NOT NULL, created FLOAT NOT NULL, expires FLOAT NOT NULL,
  state VARCHAR(16) NOT NULL, decided_by VARCHAR(64) NOT NULL, decided_at FLOAT NOT NULL,
  PRIMARY KEY (token));
CREATE INDEX ix_confirmations_expires ON confirmations (expires);
CREATE INDEX ix_confirmations_state ON confirmations (state);
CREATE TABLE job_runs (id INTEGER NOT NULL, job VARCHAR(64) NOT NULL,
  "trigger" VARCHAR(16) NOT NULL, started_at DATETIME NOT NULL, finished_at DATETIME,
  outcome VARCHAR(16) NOT NULL, summary TEXT NOT NULL, PRIMARY KEY (id));
CREATE INDEX ix_job_runs_job ON job_runs (job);
CREATE TABLE outbox (id INTEGER NOT NULL, "key" VARCHAR(512) NOT NULL, channel VARCHAR(64) NOT NULL,
  payload TEXT NOT NULL, created_at DATETIME NOT NULL, attempts INTEGER NOT NULL,
  due FLOAT NOT NULL, leased_until FLOAT NOT NULL, last_error TEXT NOT NULL, PRIMARY KEY (id),
  UNIQUE ("key"));
CREATE INDEX ix_outbox_due ON outbox (due);
CREATE TABLE seen_digests (job VARCHAR(64) NOT NULL, image VARCHAR(512) NOT NULL,
  digest VARCHAR(128) NOT NULL, seen_at DATETIME NOT NULL, PRIMARY KEY (job, image, digest));
CREATE TABLE update_snoozes (image VARCHAR(512) NOT NULL, until DATETIME NOT NULL,
  "by" VARCHAR(64) NOT NULL, PRIMARY KEY (image));
"""
V010_ROWS = """
INSERT INTO audit VALUES (1, '2026-11-27 10:00:00.000000', 'U0ALICE', 'alice', 'C0OPS', 'slack',
  'local', 'ps', 'ps -a', 'allowed', 'ok', '', 12);
INSERT INTO confirmations VALUES ('tok-old', 'U0ALICE', 'slack', 'C0OPS', 'rm', 'rm web', 'local',
  1000.0, 4102444800.0, 'pending', '', 0.0);
INSERT INTO job_runs VALUES (1, 'nightly', 'schedule', '2026-11-27 03:00:00.000000',
  '2026-11-27 03:00:05.000000', 'ok', 'removed 2 image(s)');
INSERT INTO outbox VALUES (1, 'nightly:1', 'C0OPS', '{"text": "pruned", "blocks": []}',
  '2026-11-27 03:00:05.000000', 3, 0.0, 0.0, 'ratelimited');
INSERT INTO seen_digests VALUES ('updates', 'nginx:latest', 'sha256:abc',
  '2026-11-27 04:00:00.000000');
INSERT INTO update_snoozes VALUES ('redis:7', '2099-01-01 00:00:00.000000', 'U0ALICE');
"""
# Commit 0eaf9f0 pinned a prune's image IDs; 1f125a5 kept replay keys; e29fed4 added buttons.
PINNED = """
ALTER TABLE confirmations ADD COLUMN pinned TEXT NOT NULL DEFAULT '';
INSERT INTO confirmations VALUES ('tok-pinned', 'U0ALICE', 'slack', 'C0OPS', 'image prune',
  'image prune -a', 'local', 1000.0, 4102444800.0, 'pending', '', 0.0, '["sha256:1"]');
"""
REPLAY_KEYS = """
CREATE TABLE replay_keys ("key" VARCHAR(128) NOT NULL, expires_at FLOAT NOT NULL, PRIMARY KEY ("key"));
CREATE INDEX ix_replay_keys_expires_at ON replay_keys (expires_at);
INSERT INTO replay_keys VALUES ('v0:1:abc', 4102444800.0);
"""
BUTTONS = """
CREATE TABLE buttons (token VARCHAR(32) NOT NULL, action_id VARCHAR(64) NOT NULL,
  command TEXT NOT NULL, channel VARCHAR(64) NOT NULL, issued_by VARCHAR(64) NOT NULL,
  created FLOAT NOT NULL, expires FLOAT NOT NULL, used_by VARCHAR(64) NOT NULL,
  used_at FLOAT NOT NULL, PRIMARY KEY (token));
CREATE INDEX ix_buttons_expires ON buttons (expires);
INSERT INTO buttons VALUES ('btn-1', 'update_pull', 'pull nginx:latest', 'C0OPS', 'U0ALICE',
  1000.0, 4102444800.0, '', 0.0);
"""
DELIVERIES = """
CREATE TABLE deliveries ("key" VARCHAR(128) NOT NULL, expires_at FLOAT NOT NULL, PRIMARY KEY ("key"));
CREATE INDEX ix_deliveries_expires_at ON deliveries (expires_at);
"""
INCIDENTS = """
CREATE TABLE incidents (id INTEGER NOT NULL, rule VARCHAR(64) NOT NULL, host VARCHAR(64) NOT NULL,
  container_id VARCHAR(64) NOT NULL, container VARCHAR(255) NOT NULL, channel VARCHAR(64) NOT NULL,
  kind VARCHAR(32) NOT NULL, state VARCHAR(16) NOT NULL, opened_at FLOAT NOT NULL,
  last_event_at FLOAT NOT NULL, closed_at FLOAT NOT NULL, count INTEGER NOT NULL,
  restarts INTEGER NOT NULL, running_since FLOAT NOT NULL, closed_by VARCHAR(64) NOT NULL,
  facts TEXT NOT NULL, PRIMARY KEY (id));
CREATE INDEX ix_incidents_rule ON incidents (rule);
CREATE INDEX ix_incidents_state ON incidents (state);
CREATE INDEX ix_incidents_container_id ON incidents (container_id);
CREATE TABLE event_cursors (host VARCHAR(64) NOT NULL, since_ns BIGINT NOT NULL,
  seen TEXT NOT NULL, updated_at FLOAT NOT NULL, PRIMARY KEY (host));
CREATE TABLE alert_mutes (rule VARCHAR(64) NOT NULL, container VARCHAR(255) NOT NULL,
  until FLOAT NOT NULL, "by" VARCHAR(64) NOT NULL, PRIMARY KEY (rule, container));
CREATE TABLE previous_images (host VARCHAR(64) NOT NULL, container VARCHAR(255) NOT NULL,
  image_id VARCHAR(128) NOT NULL, image VARCHAR(512) NOT NULL, recorded_at FLOAT NOT NULL,
  PRIMARY KEY (host, container));
CREATE TABLE outbox_posted ("key" VARCHAR(512) NOT NULL, channel VARCHAR(64) NOT NULL,
  ts VARCHAR(32) NOT NULL, posted_at FLOAT NOT NULL, PRIMARY KEY ("key"));
INSERT INTO incidents VALUES (1, 'prod-crashes', 'local', 'abc', 'web', 'C0OPS', 'die', 'open',
  1000.0, 1000.0, 0.0, 1, 0, 0.0, '', '{}');
"""
UPDATE_POLICY = """
CREATE TABLE update_notices (job VARCHAR(64) NOT NULL, image VARCHAR(512) NOT NULL,
  digest VARCHAR(128) NOT NULL, notice_key VARCHAR(512) NOT NULL, channel VARCHAR(64) NOT NULL,
  payload TEXT NOT NULL, told_at FLOAT NOT NULL, state VARCHAR(16) NOT NULL,
  applied_at FLOAT NOT NULL, applied_by VARCHAR(64) NOT NULL, applied_how VARCHAR(64) NOT NULL,
  PRIMARY KEY (job, image, digest));
CREATE INDEX ix_update_notices_state ON update_notices (state);
CREATE TABLE update_reminders (job VARCHAR(64) NOT NULL, last_at FLOAT NOT NULL,
  PRIMARY KEY (job));
INSERT INTO update_notices VALUES ('updates', 'local/nginx:latest', 'sha256:def', 'k', 'C0OPS',
  '{}', 1000.0, 'pending', 0.0, '', '');
"""
# Each pre-Alembic schema, oldest first, and the revision it is recognised as.
HISTORY = [("0001_baseline", V010 + V010_ROWS), ("0002_confirmations_pinned", PINNED),
           ("0003_replay_keys", REPLAY_KEYS), ("0004_buttons", BUTTONS),
           ("0005_deliveries", DELIVERIES), ("0006_incidents", INCIDENTS),
           ("0007_update_policy", UPDATE_POLICY)]


def old_store(data: Path, revision: str) -> Path:
    """A store as the code at `revision` made it (no alembic_version), with rows in each table."""
    data.mkdir(parents=True, exist_ok=True)
    path = data / "dockops.sqlite3"
    db = sqlite3.connect(path)
    for name, sql in HISTORY:
        db.executescript(sql)
        if name == revision:
            break
    db.commit()
    db.close()
    return path


def tables(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        db.close()


def backups(data: Path) -> list[Path]:
    return sorted(data.glob("dockops.sqlite3.bak-*"))


def test_a_0_1_0_store_is_backed_up_and_upgraded_and_every_row_is_still_there(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old_store(data, "0001_baseline")

    store = Store(data)
    try:
        assert (store.upgraded.before, store.upgraded.after) == ("0001_baseline", schema.head())
        [row] = store.audit_rows()
        assert (row.user_name, row.text, row.outcome, row.duration_ms) == ("alice", "ps -a", "ok", 12)
        old = Confirmations(store).get("tok-old")
        assert old is not None and old.text == "rm web" and old.pinned is None
        [run] = records.recent_runs(store, "nightly")
        assert (run.outcome, run.summary) == ("ok", "removed 2 image(s)")
        [queued] = outbox_table.queued(store)
        assert (queued.key, queued.attempts, queued.payload["text"]) == ("nightly:1", 3, "pruned")
        with store.session() as session:
            assert records.was_seen(session, "updates", "nginx:latest", "sha256:abc")
        assert records.snoozed_until(store, "redis:7") is not None
        # The tables added since work on the upgraded store.
        token = Buttons(store).issue("update_pull", "pull nginx:latest", ttl_seconds=60)
        assert Buttons(store).use(token, "U0BOB")
        store.remember_replay_keys([("v0:2:def", 4102444800.0)], now=0)
        store.remember_deliveries([("cmd:1", 4102444800.0)], now=0)
        assert "v0:2:def" in store.replay_keys(0) and "cmd:1" in store.delivered(0)
    finally:
        store.close()

    [backup] = backups(data)
    assert backup.name.startswith("dockops.sqlite3.bak-0001_baseline-")
    assert "alembic_version" not in tables(backup) and "buttons" not in tables(backup)
    assert sqlite3.connect(backup).execute("SELECT text FROM audit").fetchall() == [("ps -a",)]


def test_a_store_of_the_previous_commits_keeps_its_pins_and_replay_keys(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old_store(data, "0003_replay_keys")  # pinned and replay keys, no buttons yet

    store = Store(data)
    try:
        assert store.upgraded.before == "0003_replay_keys"
        pinned = Confirmations(store).get("tok-pinned")
        assert pinned is not None and pinned.pinned == ("sha256:1",)
        assert store.replay_keys(0) == {"v0:1:abc": 4102444800.0}
        assert Buttons(store).get(Buttons(store).issue("a", "ps", ttl_seconds=60)) is not None
    finally:
        store.close()
    assert [b.name.split("-")[1] for b in backups(data)] == ["0003_replay_keys"]


@pytest.mark.parametrize("revision", [name for name, _ in HISTORY])
def test_a_store_made_before_alembic_is_recognised_by_its_tables(tmp_path: Path,
                                                                 revision: str) -> None:
    path = old_store(tmp_path, revision)
    assert schema.status(path) == schema.Revision(revision, recorded=False)
    store = Store(tmp_path)
    store.close()
    assert schema.status(path) == schema.Revision(schema.head(), recorded=True)
    assert len(backups(tmp_path)) == 1


def test_a_store_at_head_opens_without_a_backup(tmp_path: Path) -> None:
    Store(tmp_path).close()
    store = Store(tmp_path)
    store.close()
    assert store.upgraded.before == store.upgraded.after == schema.head()
    assert backups(tmp_path) == []


def test_the_revisions_build_the_schema_the_models_describe(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    try:
        with engine.begin() as connection:
            command.upgrade(schema.alembic_config(connection), "head")
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()


def newer_store(data: Path) -> Path:
    Store(data).close()
    path = data / "dockops.sqlite3"
    db = sqlite3.connect(path)
    db.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    db.commit()
    db.close()
    return path


def test_a_store_newer_than_the_code_is_refused_in_one_sentence_and_left_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    path = newer_store(data)
    monkeypatch.setenv("DOCKOPS_DATA_DIR", str(data))

    # The console opens the store as serve does (Services.build), without Slack.
    assert main(["console", "-c", "version"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.count(". ") == 0
    assert "0099_from_the_future" in err and "newer than dockops 0.3.0" in err
    assert schema.status(path) == schema.Revision("0099_from_the_future", recorded=True)
    assert backups(data) == []

    assert main(["db", "current"]) == 0
    assert "newer than dockops 0.3.0" in capsys.readouterr().out


def test_db_current_changes_nothing_and_db_upgrade_backs_up_and_migrates(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    path = old_store(data, "0002_confirmations_pinned")
    monkeypatch.setenv("DOCKOPS_DATA_DIR", str(data))

    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.startswith("0002_confirmations_pinned (recognised from its tables")
    assert "alembic_version" not in tables(path) and backups(data) == []

    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert f"from 0002_confirmations_pinned to {schema.head()}" in out
    assert str(backups(data)[0]) in out

    assert main(["db", "current"]) == 0
    assert capsys.readouterr().out.strip() == f"{schema.head()} (head): the store is up to date."
    assert main(["db", "upgrade"]) == 0
    assert "nothing to do" in capsys.readouterr().out and len(backups(data)) == 1


def test_version_is_0_3_0_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    from bot import __version__, metrics

    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"dockops {__version__}" == "dockops 0.3.0"
    assert 'dockops_build_info{version="0.3.0"} 1.0' in metrics.exposition()[0].decode()
    changelog = (Path(__file__).resolve().parent.parent / "CHANGELOG.md").read_text()
    assert "## 0.2.0" in changelog and "## 0.1.0" in changelog


def row_counts(path: Path) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        names = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name != 'alembic_version'")]
        return {name: db.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names}
    finally:
        db.close()


def test_a_0_2_0_store_upgrades_to_0_3_0_and_keeps_every_row(tmp_path: Path) -> None:
    """0.2.0 recorded its revision (0005_deliveries): the upgrade adds tables, drops no row."""
    data = tmp_path / "data"
    path = old_store(data, "0005_deliveries")
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            command.stamp(schema.alembic_config(connection), "0005_deliveries")
    finally:
        engine.dispose()
    before = row_counts(path)
    assert schema.status(path) == schema.Revision("0005_deliveries", recorded=True)
    assert sum(before.values()) > 5

    Store(data).close()

    after = row_counts(path)
    assert {name: after[name] for name in before} == before
    assert {"incidents", "update_notices"} <= set(after)
    assert schema.status(path) == schema.Revision(schema.head(), recorded=True)
    [backup] = backups(data)
    assert row_counts(backup) == before
