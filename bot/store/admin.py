"""What `dockops db upgrade | current` and `dockops backup PATH` say, as sentences to print."""

from __future__ import annotations

from pathlib import Path

from bot import __version__
from bot.errors import DockopsError
from bot.store import schema
from bot.store.backup import copy_database, stamp
from bot.store.database import STORE_FILE, Store


def current(data_dir: Path) -> str:
    """The store's revision and what this dockops would do with it; changes nothing."""
    path = data_dir / STORE_FILE
    if not path.is_file():
        return f"No store at {path} yet: `dockops serve` creates it at {schema.head()}."
    found = schema.status(path)
    head = schema.head()
    if found.revision is None:
        return f"{path} holds no dockops tables: `dockops serve` creates them at {head}."
    how = "" if found.recorded else " (recognised from its tables: made before 0.2.0)"
    if found.revision == head:
        return f"{found.revision} (head){how}: the store is up to date."
    if not schema.known(found.revision):
        return (f"{found.revision}: newer than dockops {__version__} knows "
                f"(up to {head}); this release refuses to open it.")
    return (f"{found.revision}{how}: `dockops db upgrade` (or the next start) backs it up and "
            f"upgrades it to {head}.")


def upgrade(data_dir: Path) -> str:
    """Open the store, which upgrades it; what happened."""
    store = Store(data_dir)
    try:
        done = store.upgraded
    finally:
        store.close()
    if done.before is None:
        return f"Created {store.path} at {done.after}."
    if done.before == done.after:
        return f"{store.path} is already at {done.after} (head): nothing to do."
    return f"Upgraded {store.path} from {done.before} to {done.after}; the store as it was: {done.backup}"


def backup(data_dir: Path, target: Path) -> str:
    """Copy the store to `target` (a new file, or a directory to put one in), bot running or not."""
    source = data_dir / STORE_FILE
    if target.is_dir():
        target = target / f"dockops-{stamp()}.sqlite3"
    try:
        copy_database(source, target)
    except FileNotFoundError:
        raise DockopsError(f"No store at {source} to back up: check DOCKOPS_DATA_DIR.") from None
    except FileExistsError:
        raise DockopsError(f"{target} exists already: give a new file name, or a directory."
                           ) from None
    return f"Backed up {source} to {target}."
