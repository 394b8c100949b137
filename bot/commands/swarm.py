"""Swarm commands (service, node, stack) for hosts that are Swarm managers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.commands.kinds import KeyValue, Kind, shown
from bot.commands.spec import Arg, Command, Flag, Invocation
from bot.commands.system import HOST_FLAG
from bot.errors import UsageError
from bot.roles import Role

AVAILABILITIES = ("active", "pause", "drain")
_FILTER = Flag("filter", "f", KeyValue("name=web", collect="filters"),
               "Filter output (name=, label=, id=, mode=; tasks: desired-state=, node=)",
               "KEY=VALUE")


@dataclass(frozen=True)
class Choice(Kind):
    """One of a fixed set of words (`--availability active|pause|drain`)."""

    choices: tuple[str, ...]

    def convert(self, text: str, flag: str) -> Any:
        if text.lower() not in self.choices:
            raise UsageError(f'invalid argument "{shown(text)}" for "{flag}": use '
                             + ", ".join(f"`{c}`" for c in self.choices) + ".",
                             detail=f"Example: {flag} {self.choices[0]}")
        return text.lower()


def scale_targets(words: tuple[str, ...]) -> list[tuple[str, int]]:
    """`NAME=N` words as (service, replicas), with the CLI's meaning; UsageError otherwise."""
    targets = []
    for word in words:
        name, eq, value = word.partition("=")
        if not eq or not name:
            raise UsageError(f"invalid scale specifier '{shown(word)}': should be of the form "
                             "service=value.", detail="Example: /docker service scale web=3")
        if not value.isdigit() or len(value) > 6:
            raise UsageError(f"invalid replicas value {shown(value)}: use a whole number (0 "
                             "stops every task).", detail="Example: /docker service scale web=3")
        targets.append((name, int(value)))
    return targets


def _scales_to_zero(invocation: Invocation) -> bool:
    try:
        return any(replicas == 0 for _, replicas in scale_targets(invocation.args))
    except UsageError:
        return False  # the handler says what is wrong with the words


def _drains(invocation: Invocation) -> bool:
    return invocation.opt("availability") == "drain"


SERVICE_LS = Command(
    ("service", "ls"), "List services (on a Swarm manager)", Role.VIEWER,
    flags=(_FILTER, Flag("quiet", "q", help="Only display IDs"), HOST_FLAG),
    aliases=(("service", "list"),),
    examples=("service ls", "service ls --filter label=team=api", "service ls --host all"),
)

SERVICE_PS = Command(
    ("service", "ps"), "List the tasks of one or more services", Role.VIEWER,
    args=(Arg("SERVICE", many=True),),
    flags=(_FILTER, Flag("quiet", "q", help="Only display task IDs"),
           Flag("no-trunc", help="Do not truncate output")),
    examples=("service ps web", "service ps --filter desired-state=running web"),
)

SERVICE_INSPECT = Command(
    ("service", "inspect"), "Display detailed information on a service (JSON)", Role.VIEWER,
    args=(Arg("SERVICE"),),
    examples=("service inspect web",),
)

SERVICE_LOGS = Command(
    ("service", "logs"), "Fetch the logs of a service's tasks", Role.VIEWER,
    args=(Arg("SERVICE"),),
    flags=(
        Flag("follow", "f", help="Follow log output into a thread (bounded in time)"),
        Flag("tail", "n", "str", "Number of lines to show from the end (default 100)", "N"),
        Flag("timestamps", "t", help="Show timestamps"),
    ),
    examples=("service logs web", "service logs --tail 20 web", "service logs -f web"),
    role_for=lambda inv: Role.OPERATOR if inv.opt("follow") else Role.VIEWER,
)

SERVICE_SCALE = Command(
    ("service", "scale"), "Scale one or more replicated services (0 asks first)", Role.OPERATOR,
    args=(Arg("SERVICE=REPLICAS", many=True),),
    examples=("service scale web=3", "service scale web=2 worker=4"),
    destructive=_scales_to_zero,
)

SERVICE_UPDATE = Command(
    ("service", "update"), "Roll a service onto another image (Swarm's rolling update)",
    Role.OPERATOR,
    args=(Arg("SERVICE"),),
    flags=(
        Flag("image", kind="str", help="Service image tag (pinned by digest when the registry "
                                       "answers)", metavar="REF"),
        Flag("force", help="Force update even if no changes require it"),
    ),
    examples=("service update --image registry/team/web:1.1 web", "service update --force web"),
)

SERVICE_ROLLBACK = Command(
    ("service", "rollback"), "Revert a service to its previous spec", Role.OPERATOR,
    args=(Arg("SERVICE"),),
    examples=("service rollback web",),
)

SERVICE_RM = Command(
    ("service", "rm"), "Remove one or more services (asks first)", Role.ADMIN,
    args=(Arg("SERVICE", many=True),),
    aliases=(("service", "remove"),),
    examples=("service rm web",),
    destructive=True,
)

NODE_LS = Command(
    ("node", "ls"), "List the nodes of the Swarm", Role.VIEWER,
    flags=(Flag("quiet", "q", help="Only display IDs"), HOST_FLAG),
    aliases=(("node", "list"),),
    examples=("node ls", "node ls --host all"),
)

NODE_INSPECT = Command(
    ("node", "inspect"), "Display detailed information on a node (JSON)", Role.VIEWER,
    args=(Arg("NODE"),),
    examples=("node inspect self", "node inspect worker-1"),
)

NODE_UPDATE = Command(
    ("node", "update"), "Set a node's availability (drain asks first)", Role.ADMIN,
    args=(Arg("NODE"),),
    flags=(Flag("availability", kind=Choice(AVAILABILITIES),
                help="Availability of the node (active, pause, drain)", metavar="STATE"),),
    examples=("node update --availability drain worker-1",
              "node update --availability active worker-1"),
    destructive=_drains,
)

STACK_LS = Command(
    ("stack", "ls"), "List stacks (services labelled by docker stack deploy)", Role.VIEWER,
    flags=(HOST_FLAG,),
    aliases=(("stack", "list"),),
    examples=("stack ls",),
)

STACK_PS = Command(
    ("stack", "ps"), "List the tasks in a stack", Role.VIEWER,
    args=(Arg("STACK"),),
    flags=(Flag("no-trunc", help="Do not truncate output"),),
    examples=("stack ps shop",),
)

STACK_SERVICES = Command(
    ("stack", "services"), "List the services in a stack", Role.VIEWER,
    args=(Arg("STACK"),),
    flags=(Flag("quiet", "q", help="Only display IDs"),),
    examples=("stack services shop",),
)

COMMANDS: tuple[Command, ...] = (
    SERVICE_LS, SERVICE_PS, SERVICE_INSPECT, SERVICE_LOGS, SERVICE_SCALE, SERVICE_UPDATE,
    SERVICE_ROLLBACK, SERVICE_RM, NODE_LS, NODE_INSPECT, NODE_UPDATE, STACK_LS, STACK_PS,
    STACK_SERVICES,
)
