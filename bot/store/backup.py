"""Consistent copies of the store while it is in use: SQLite's online backup API."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path


def stamp(moment: datetime | None = None) -> str:
    """A UTC timestamp for file names: 20261130T120000Z."""
    return (moment or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def copy_database(source: Path, target: Path) -> Path:
    """Copy the database at `source` to a new file `target`, page by page, as one snapshot.

    Writers may go on meanwhile (WAL): the copy is the database as of one moment. The copy
    is a single self-contained file (rollback journal, not WAL), ready to be moved away.
    """
    if not source.is_file():
        raise FileNotFoundError(source)
    if target.exists():
        raise FileExistsError(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    return target
