"""Engine-wide commands and the bot's own: df, version, info, hosts, audit, help."""

from __future__ import annotations

from bot.commands.spec import Arg, Command, Flag
from bot.roles import Role

# Reads that run on several hosts at once also take the global -H/--host after their name.
HOST_FLAG = Flag("host", "H", "str", "Host(s) to ask: a name, a comma list, or all", "NAME")

SYSTEM_DF = Command(
    ("system", "df"), "Show docker disk usage", Role.VIEWER,
    flags=(Flag("verbose", "v", help="Show detailed information on space usage"),
           Flag("format", kind="str", metavar="TEMPLATE",
                help="Format with a Go template, e.g. '{{json .}}'"),
           HOST_FLAG),
    examples=("system df", "system df -v"),
)

VERSION = Command(
    ("version",), "Show the docker engine version", Role.VIEWER,
    flags=(HOST_FLAG,),
    examples=("version", "version --host all"),
)

INFO = Command(
    ("info",), "Show a summary of the engine", Role.VIEWER,
    flags=(HOST_FLAG,),
    aliases=(("system", "info"),),
    examples=("info",),
)

HOSTS = Command(
    ("hosts",), "List the Docker hosts this bot operates", Role.VIEWER,
    flags=(HOST_FLAG,),
    examples=("hosts", "hosts --host prod,staging"),
)

AUDIT = Command(
    ("audit",), "Show who did what (admins)", Role.ADMIN,
    flags=(
        Flag("user", kind="str", help="Only this user's commands", metavar="USER_ID"),
        Flag("last", "n", "int", "How many rows (default 20)", "N"),
    ),
    examples=("audit", "audit --user U0123 -n 50"),
    on_host=False,
)

HELP = Command(
    ("help",), "Show commands, or one command's usage and examples", Role.NONE,
    args=(Arg("COMMAND", required=False, many=True),),
    examples=("help", "help run", "ps --help"),
    on_host=False,
)

COMMANDS = (SYSTEM_DF, VERSION, INFO, HOSTS, AUDIT, HELP)
