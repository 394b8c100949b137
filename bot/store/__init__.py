"""The bot's memory: one SQLite database, every table and its intent-named operations.

`Store(data_dir)` opens it. Each module holds one concern's tables (`*Table`, private to
this package in spirit) and the operations on them; what they hand out are plain frozen
rows, never SQLAlchemy objects:

    audit          AuditRow            Store.record_audit, Store.audit_rows
    keys           (replay_keys)       Store.replay_keys, Store.remember_replay_keys
                   (deliveries)        Store.delivered, Store.remember_deliveries
    confirmations  Pending             Confirmations.open/get/decide/overdue
    buttons        Button              Buttons.issue/get/use
    outbox         Queued              queue, lease_next, postpone, remove, depth, waiting, queued
    jobs           JobRun              start_run, finish_run, recent_runs, last_run,
                                       was_seen, mark_seen, forget_seen,
                                       snooze, snoozed_until, forget_snooze

Around the tables: schema (Alembic revisions in migrations/, applied when a Store opens),
backup (online copies), retention (daily housekeeping), jobstore (the scheduler's table),
admin (`dockops db current|upgrade`, `dockops backup`).
"""

from bot.store.audit import AuditRow, AuditTable
from bot.store.base import Base, utcnow
from bot.store.buttons import Button, Buttons, ButtonTable
from bot.store.confirmations import Confirmations, ConfirmationTable, Pending, State
from bot.store.database import Store
from bot.store.jobs import JobRun
from bot.store.outbox import Queued

__all__ = ["AuditRow", "AuditTable", "Base", "Button", "ButtonTable", "Buttons",
           "ConfirmationTable", "Confirmations", "JobRun", "Pending", "Queued", "State", "Store",
           "utcnow"]
