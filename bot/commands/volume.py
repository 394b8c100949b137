"""Volume commands, flags named as in the docker CLI reference."""

from __future__ import annotations

from bot.commands.kinds import KeyValue
from bot.commands.prune import label_filters
from bot.commands.spec import Arg, Command, Flag
from bot.commands.system import HOST_FLAG
from bot.roles import Role

VOLUME_LS = Command(
    ("volume", "ls"), "List volumes", Role.VIEWER,
    flags=(
        Flag("filter", "f", KeyValue("dangling=true", collect="filters"),
             "Filter output (dangling=, driver=, label=, name=)", "KEY=VALUE"),
        Flag("format", kind="str", help="Format output with a Go template, e.g. '{{.Name}}'",
             metavar="TEMPLATE"),
        Flag("quiet", "q", help="Only display volume names"),
        HOST_FLAG,
    ),
    aliases=(("volume", "list"),),
    examples=("volume ls", "volume ls --filter dangling=true", "volume ls -q"),
)

VOLUME_INSPECT = Command(
    ("volume", "inspect"), "Display detailed information on a volume", Role.VIEWER,
    args=(Arg("VOLUME"),),
    flags=(
        Flag("format", "f", "str", "Format with a Go template, e.g. '{{.Mountpoint}}'",
             "TEMPLATE"),
        HOST_FLAG,
    ),
    examples=("volume inspect data", "volume inspect -f '{{json .Labels}}' data"),
)

VOLUME_CREATE = Command(
    ("volume", "create"), "Create a volume", Role.OPERATOR,
    args=(Arg("VOLUME", required=False),),
    flags=(
        Flag("driver", "d", "str", "Volume driver name (local only)", "DRIVER"),
        Flag("label", kind=KeyValue("team=api", bare="empty"), help="Set metadata for a volume",
             metavar="K=V"),
        Flag("opt", "o", KeyValue("type=tmpfs"), "Driver options (a bind of a host path only "
                                                 "under [run] bind_mounts)", "K=V"),
        HOST_FLAG,
    ),
    examples=("volume create data", "volume create --label team=api data",
              "volume create -o type=tmpfs -o device=tmpfs -o o=size=64m scratch"),
)

VOLUME_RM = Command(
    ("volume", "rm"), "Remove one or more volumes", Role.ADMIN,
    args=(Arg("VOLUME", many=True),),
    flags=(
        Flag("force", "f", help="Force the removal of one or more volumes"),
        HOST_FLAG,
    ),
    aliases=(("volume", "remove"),),
    examples=("volume rm data", "volume rm -f data cache"),
    destructive=True,
)

VOLUME_PRUNE = Command(
    ("volume", "prune"), "Remove unused local volumes", Role.ADMIN,
    flags=(
        Flag("all", "a", help="Remove all unused volumes, not just anonymous ones"),
        Flag("filter", kind=label_filters("volume prune"), help="label=KEY[=VALUE], label!=...",
             metavar="FILTER"),
        Flag("force", "f", help="Accepted for CLI habit; Slack still asks to confirm"),
        HOST_FLAG,
    ),
    examples=("volume prune", "volume prune -a --filter label=team=api"),
    destructive=True,
)

COMMANDS = (VOLUME_LS, VOLUME_INSPECT, VOLUME_CREATE, VOLUME_RM, VOLUME_PRUNE)
