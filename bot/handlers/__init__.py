"""Handlers: each command's engine call and view. Importing this wires them all."""

import bot.handlers.audit  # noqa: F401  (registers handlers)
from bot.handlers import alerts as alerts  # registers handlers
from bot.handlers import build as build  # registers handlers
from bot.handlers import copy as copy  # registers handlers
from bot.handlers import distribution as distribution  # registers handlers
from bot.handlers import follow as follow  # registers handlers
from bot.handlers import hosts as hosts  # registers handlers
from bot.handlers import jobs as jobs  # registers handlers
from bot.handlers import lifecycle as lifecycle  # registers handlers
from bot.handlers import networks as networks  # registers handlers
from bot.handlers import prunes as prunes  # registers handlers
from bot.handlers import read  # noqa: F401  (registers handlers)
from bot.handlers import recreate as recreate  # registers handlers
from bot.handlers import remove as remove  # registers handlers
from bot.handlers import runtime as runtime  # registers handlers
from bot.handlers import swarm as swarm  # registers handlers
from bot.handlers import volumes as volumes  # registers handlers
from bot.handlers.context import Context
from bot.handlers.dispatch import HANDLERS, PREVIEWS, handles, previews

__all__ = ["HANDLERS", "PREVIEWS", "Context", "handles", "previews"]
