"""Every module that defines a table, imported so `Store` creates them all."""

import bot.buttons
import bot.confirm  # noqa: F401
from bot import store  # noqa: F401
from bot.jobs import outbox, records  # noqa: F401
