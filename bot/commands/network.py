"""Network commands, flags named as in the docker CLI reference."""

from __future__ import annotations

from bot.commands.kinds import KeyValue
from bot.commands.spec import Arg, Command, Flag, Invocation
from bot.commands.system import HOST_FLAG
from bot.roles import Role


def _disconnect_forced(invocation: Invocation) -> bool:
    return bool(invocation.opt("force"))


def _create_role(invocation: Invocation) -> Role:
    """A chosen `--subnet` can shadow the host's own routes (its LAN, a VPN): admins only."""
    return Role.ADMIN if invocation.opt("subnet") else Role.OPERATOR


NETWORK_LS = Command(
    ("network", "ls"), "List networks", Role.VIEWER,
    flags=(
        Flag("filter", "f", KeyValue("driver=bridge", collect="filters"),
             "Filter output (driver=, id=, label=, name=, scope=, type=, dangling=)",
             "KEY=VALUE"),
        Flag("format", kind="str", help="Format output with a Go template, e.g. "
                                        "'{{.Name}}' or 'table {{.ID}}\\t{{.Name}}'",
             metavar="TEMPLATE"),
        Flag("no-trunc", help="Do not truncate the output"),
        Flag("quiet", "q", help="Only display network IDs"),
        HOST_FLAG,
    ),
    aliases=(("network", "list"),),
    examples=("network ls", "network ls --filter driver=bridge", "network ls -q"),
)

NETWORK_INSPECT = Command(
    ("network", "inspect"), "Display detailed information on a network", Role.VIEWER,
    args=(Arg("NETWORK"),),
    flags=(
        Flag("format", "f", "str", "Format with a Go template, e.g. '{{json .IPAM}}'",
             "TEMPLATE"),
        HOST_FLAG,
    ),
    examples=("network inspect bridge", "network inspect -f '{{json .Containers}}' backend"),
)

NETWORK_CREATE = Command(
    ("network", "create"), "Create a network", Role.OPERATOR,
    args=(Arg("NETWORK"),),
    flags=(
        Flag("driver", "d", "str", "Driver to manage the network (default bridge; host, "
                                   "macvlan and ipvlan need allow_host_namespaces)", "DRIVER"),
        Flag("subnet", kind="list", help="Subnet in CIDR format (admins: it can shadow the "
                                         "host's routes)", metavar="SUBNET"),
        Flag("label", kind=KeyValue("team=api", bare="empty"), help="Set metadata on a network",
             metavar="K=V"),
        Flag("internal", help="Restrict external access to the network"),
        Flag("attachable", help="Enable manual container attachment (overlay)"),
        HOST_FLAG,
    ),
    examples=("network create backend", "network create --subnet 10.30.0.0/24 backend",
              "network create --internal --label team=api db-net"),
    role_for=_create_role,
)

NETWORK_RM = Command(
    ("network", "rm"), "Remove one or more networks", Role.ADMIN,
    args=(Arg("NETWORK", many=True),),
    flags=(HOST_FLAG,),
    aliases=(("network", "remove"),),
    examples=("network rm backend", "network rm backend frontend"),
    destructive=True,
)

NETWORK_CONNECT = Command(
    ("network", "connect"), "Connect a container to a network", Role.OPERATOR,
    args=(Arg("NETWORK"), Arg("CONTAINER")),
    flags=(
        Flag("alias", kind="list", help="Add network-scoped alias for the container",
             metavar="ALIAS"),
        HOST_FLAG,
    ),
    examples=("network connect backend web", "network connect --alias db backend postgres"),
)

NETWORK_DISCONNECT = Command(
    ("network", "disconnect"), "Disconnect a container from a network", Role.OPERATOR,
    args=(Arg("NETWORK"), Arg("CONTAINER")),
    flags=(
        Flag("force", "f", help="Force the container to disconnect from a network"),
        HOST_FLAG,
    ),
    examples=("network disconnect backend web", "network disconnect -f backend web"),
    destructive=_disconnect_forced,
)

COMMANDS = (NETWORK_LS, NETWORK_INSPECT, NETWORK_CREATE, NETWORK_RM, NETWORK_CONNECT,
            NETWORK_DISCONNECT)
