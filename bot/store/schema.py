"""The store's schema version: Alembic revisions (migrations/) brought to head when it opens.

A store made before Alembic (0.1.0, and this week's commits before 0.2.0) has no
alembic_version table: its tables and columns say which revision it is at, and it is
stamped there first. An existing store is copied aside before any revision runs on it.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection, Engine

from bot import __version__
from bot.errors import DockopsError
from bot.store.backup import copy_database, stamp
from bot.store.base import Base

log = logging.getLogger("dockops.store")
# Alembic says "Context impl SQLiteImpl" at INFO on every open; our own line reports upgrades.
logging.getLogger("alembic").setLevel(logging.WARNING)

MIGRATIONS = Path(__file__).with_name("migrations")

# What each revision added, newest first: the first one a pre-Alembic store has names its
# revision; a store with the `audit` table and none of these is 0.1.0's (the baseline).
ADDED = [("0007_update_policy", "update_notices"),
         ("0006_incidents", "incidents"), ("0005_deliveries", "deliveries"), ("0004_buttons", "buttons"),
         ("0003_replay_keys", "replay_keys"), ("0002_confirmations_pinned", "confirmations.pinned")]
BASELINE = "0001_baseline"


class StoreTooNew(DockopsError):
    """The store was upgraded by a newer dockops: this one does not know its schema."""


@dataclass(frozen=True)
class Revision:
    """Where a store stands: its revision (None: empty) and whether Alembic recorded it."""

    revision: str | None
    recorded: bool  # False: recognised from its tables (made before Alembic), or empty


@dataclass(frozen=True)
class Upgrade:
    """What opening the store did: the revision before and after, and the backup taken."""

    before: str | None
    after: str
    backup: Path | None = None


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an alembic.ini: the package's migrations directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision this code knows."""
    return _script().get_current_head() or BASELINE


def known(revision: str) -> bool:
    return revision in {script.revision for script in _script().walk_revisions()}


def recognise(connection: Connection) -> str | None:
    """The revision a store made before Alembic is at, from its tables; None when empty."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    if "audit" not in tables:
        return None
    present = tables | {f"{table}.{column['name']}" for table in tables
                        for column in inspector.get_columns(table)}
    return next((revision for revision, added in ADDED if added in present), BASELINE)


def revision_of(connection: Connection) -> Revision:
    recorded = MigrationContext.configure(connection).get_current_revision()
    if recorded:
        return Revision(recorded, True)
    return Revision(recognise(connection), False)


def status(path: Path) -> Revision:
    """The revision of the store at `path`, read without changing anything."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return revision_of(connection)
    finally:
        engine.dispose()


def upgrade(engine: Engine, path: Path) -> Upgrade:
    """Bring the store at `path` to head: create a new one, or back up and migrate an old one.

    Raises StoreTooNew when a newer dockops upgraded it. One process at a time (a file lock):
    the console and the bot may start together.
    """
    with engine.connect() as connection:
        found = revision_of(connection)
    if found.recorded and found.revision == head():
        return Upgrade(head(), head())
    with _locked(path.with_name(f"{path.name}.lock")):
        with engine.connect() as connection:
            found = revision_of(connection)  # another process may have upgraded meanwhile
        if found.recorded and found.revision == head():
            return Upgrade(head(), head())
        if found.revision is None:
            return _create(engine)
        _refuse_newer(found, path)
        backup = copy_database(path, path.with_name(f"{path.name}.bak-{found.revision}-{stamp()}"))
        with engine.begin() as connection:
            config = alembic_config(connection)
            if not found.recorded:
                command.stamp(config, found.revision)
            command.upgrade(config, "head")
    log.warning("store upgraded from %s to %s (%s); the store as it was: %s", found.revision,
                head(), "recognised from its tables" if not found.recorded else "recorded",
                backup)
    return Upgrade(found.revision, head(), backup)


def _create(engine: Engine) -> Upgrade:
    # A new store: the models' tables, recorded at head (tests/test_migrations.py checks that
    # the revisions build the same schema).
    Base.metadata.create_all(engine)
    with engine.begin() as connection:
        MigrationContext.configure(connection).stamp(_script(), "head")
    return Upgrade(None, head())


def _refuse_newer(found: Revision, path: Path) -> None:
    if found.revision is not None and not known(found.revision):
        raise StoreTooNew(
            f"The store {path} is at schema revision {found.revision}, newer than dockops "
            f"{__version__} knows (up to {head()}): run the release that upgraded it, or "
            "restore the backup it took (dockops.sqlite3.bak-*) as the README says.")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
