"""Alert rules and incidents: alerts, alerts mute/unmute, alerts history, and what the incident
message's buttons run (alerts resolve, alerts rollback)."""

from __future__ import annotations

from bot.commands.spec import Arg, Command, Flag
from bot.roles import Role

ALERTS = Command(
    ("alerts",), "List the alert rules and the open incidents", Role.VIEWER,
    aliases=(("alerts", "ls"),),
    examples=("alerts",),
    on_host=False,
)

ALERTS_MUTE = Command(
    ("alerts", "mute"), "Stop posting a rule's incidents for a while (default 1h)", Role.ADMIN,
    args=(Arg("RULE"), Arg("DURATION", required=False)),
    flags=(Flag("container", kind="str", help="Only this container's incidents",
                metavar="NAME"),),
    examples=("alerts mute prod-crashes", "alerts mute prod-crashes 30m --container web"),
    on_host=False,
)

ALERTS_UNMUTE = Command(
    ("alerts", "unmute"), "Post a muted rule's incidents again", Role.ADMIN,
    args=(Arg("RULE"),),
    examples=("alerts unmute prod-crashes",),
    on_host=False,
)

ALERTS_HISTORY = Command(
    ("alerts", "history"), "Show recent incidents, of every rule or of one", Role.VIEWER,
    args=(Arg("RULE", required=False),),
    flags=(Flag("last", "n", "int", "How many incidents (default 20)", "N"),),
    examples=("alerts history", "alerts history prod-crashes -n 5"),
    on_host=False,
)

ALERTS_RESOLVE = Command(
    ("alerts", "resolve"), "Close an open incident (what its Resolve button does)", Role.OPERATOR,
    args=(Arg("INCIDENT"),),
    examples=("alerts resolve 12",),
    on_host=False,
)

ALERTS_ROLLBACK = Command(
    ("alerts", "rollback"), "Recreate an incident's container on the image it ran before its "
    "last recreate", Role.OPERATOR,
    args=(Arg("INCIDENT"),),
    examples=("alerts rollback 12",),
    destructive=True,
)

COMMANDS = (ALERTS, ALERTS_MUTE, ALERTS_UNMUTE, ALERTS_HISTORY, ALERTS_RESOLVE, ALERTS_ROLLBACK)
