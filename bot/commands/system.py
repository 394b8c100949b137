"""Engine-wide commands and the bot's own: df, version, info, hosts, audit, help."""

from __future__ import annotations

from bot.commands.spec import Arg, Command, Flag
from bot.roles import Role

SYSTEM_DF = Command(
    ("system", "df"), "Show docker disk usage", Role.VIEWER,
    flags=(Flag("verbose", "v", help="Show detailed information on space usage"),),
    examples=("system df",),
)

VERSION = Command(
    ("version",), "Show the docker engine version", Role.VIEWER,
    examples=("version",),
)

INFO = Command(
    ("info",), "Show a summary of the engine", Role.VIEWER,
    aliases=(("system", "info"),),
    examples=("info",),
)

HOSTS = Command(
    ("hosts",), "List the Docker hosts this bot operates", Role.VIEWER,
    examples=("hosts",),
)

AUDIT = Command(
    ("audit",), "Show who did what (admins)", Role.ADMIN,
    flags=(
        Flag("user", kind="str", help="Only this user's commands", metavar="USER_ID"),
        Flag("last", "n", "int", "How many rows (default 20)", "N"),
    ),
    examples=("audit", "audit --user U0123 -n 50"),
)

HELP = Command(
    ("help",), "Show commands, or one command's usage and examples", Role.NONE,
    args=(Arg("COMMAND", required=False, many=True),),
    examples=("help", "help run", "ps --help"),
)

COMMANDS = (SYSTEM_DF, VERSION, INFO, HOSTS, AUDIT, HELP)
