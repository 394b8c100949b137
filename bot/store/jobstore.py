"""The scheduler's jobs live in the store's file (table apscheduler_jobs), one file to back up.

Before 0.2.0 they had a file of their own, DATA_DIR/jobs.sqlite3: its jobs (with their
next run times and pause states) are copied in once, and the file is renamed aside.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Table

from bot.store.backup import stamp

if TYPE_CHECKING:
    from bot.store.database import Store

log = logging.getLogger("dockops.store")


def adopt_old_jobs(store: Store, table: Table, old: Path) -> int:
    """Create `table` in the store and copy the jobs of the old job store file into it.

    A job already in the table stays as it is. The old file becomes
    `jobs.sqlite3.imported-<timestamp>`; how many jobs were copied.
    """
    table.create(store.engine, checkfirst=True)
    if not old.is_file():
        return 0
    source = sqlite3.connect(old, timeout=30)
    try:
        has_jobs = source.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                  (table.name,)).fetchone()
        rows = source.execute(f"SELECT id, next_run_time, job_state FROM {table.name}"
                              ).fetchall() if has_jobs else []
    finally:
        source.close()
    if rows:
        with store.engine.begin() as connection:
            connection.execute(table.insert().prefix_with("OR IGNORE"),
                               [{"id": i, "next_run_time": n, "job_state": s} for i, n, s in rows])
    old.rename(old.with_name(f"{old.name}.imported-{stamp()}"))
    log.warning("scheduler jobs moved from %s into %s (%d job(s))", old, store.path, len(rows))
    return len(rows)
