"""Alembic's environment: runs the revisions on the connection bot.store.schema hands it."""

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from bot.store import Base

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # `alembic -x url=sqlite:///data/dockops.sqlite3 ...` by hand
        url = context.get_x_argument(as_dictionary=True)["url"]
        with create_engine(url).begin() as own:
            _migrate(own)
    else:
        _migrate(connection)


def _migrate(connection: Connection) -> None:
    # Batch mode: SQLite alters most columns only by copying the table; Alembic does that.
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run()
