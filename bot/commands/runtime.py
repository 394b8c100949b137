"""What a container does and small changes to it: stats, port, pause, rename, wait, diff,
history, events, update. Flags named as in the docker CLI reference."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.kinds import ByteSize, Cpus, KeyValue, RestartPolicy
from bot.commands.spec import Arg, Command, Flag, Invocation
from bot.commands.system import HOST_FLAG
from bot.roles import Role

_TIME_HELP = "duration (10m, 2h), RFC 3339 time or unix timestamp"
# `history` has its own -H (--human) in the CLI: there --host has no short form.
_LONG_HOST = Flag("host", kind="str", help="Host to ask: a name", metavar="NAME")


@dataclass(frozen=True)
class SwapSize(ByteSize):
    """`--memory-swap`: a size as for `--memory`, or -1 for unlimited swap."""

    what: str = "swap size (or -1 for unlimited)"

    def convert(self, text: str, flag: str) -> int:
        return -1 if text.strip() == "-1" else super().convert(text, flag)


def _live_role(invocation: Invocation) -> Role:
    """A live table in a thread holds an engine stream and a follow slot: operator, as
    `logs -f`. A snapshot only reads: viewer."""
    return Role.VIEWER if invocation.opt("no_stream") else Role.OPERATOR


def _events_role(invocation: Invocation) -> Role:
    """Without --until, `docker events` streams live (a bounded follow here): operator."""
    return Role.VIEWER if invocation.opt("until") else Role.OPERATOR


def _updates_several(invocation: Invocation) -> bool:
    return len(invocation.args) > 1


STATS = Command(
    ("stats",), "Display containers' resource usage (live in a thread, or --no-stream)",
    Role.VIEWER,
    args=(Arg("CONTAINER", required=False, many=True),),
    flags=(
        Flag("all", "a", help="Show all containers (default shows just running)"),
        Flag("no-stream", help="Disable streaming stats and only pull the first result"),
        Flag("no-trunc", help="Do not truncate output"),
        Flag("format", kind="str", help="Format --no-stream output with a Go template, e.g. "
                                        "'table {{.Name}}\\t{{.CPUPerc}}' or 'json'",
             metavar="TEMPLATE"),
        HOST_FLAG,
    ),
    aliases=(("container", "stats"),),
    examples=("stats --no-stream", "stats --no-stream web worker", "stats web",
              "stats --no-stream --format '{{.Name}}: {{.MemUsage}}'"),
    role_for=_live_role,
)

PORT = Command(
    ("port",), "List port mappings or a specific mapping for the container", Role.VIEWER,
    args=(Arg("CONTAINER"), Arg("PRIVATE_PORT[/PROTO]", required=False)),
    flags=(HOST_FLAG,),
    aliases=(("container", "port"),),
    examples=("port web", "port web 80", "port web 53/udp"),
)

PAUSE = Command(
    ("pause",), "Pause all processes within one or more containers", Role.OPERATOR,
    args=(Arg("CONTAINER", many=True),),
    flags=(HOST_FLAG,),
    aliases=(("container", "pause"),),
    examples=("pause web", "pause web worker"),
)

UNPAUSE = Command(
    ("unpause",), "Unpause all processes within one or more containers", Role.OPERATOR,
    args=(Arg("CONTAINER", many=True),),
    flags=(HOST_FLAG,),
    aliases=(("container", "unpause"),),
    examples=("unpause web",),
)

RENAME = Command(
    ("rename",), "Rename a container", Role.OPERATOR,
    args=(Arg("CONTAINER"), Arg("NEW_NAME")),
    flags=(HOST_FLAG,),
    aliases=(("container", "rename"),),
    examples=("rename web web-old",),
)

WAIT = Command(
    ("wait",), "Block until one or more containers stop, then print their exit codes "
               "(bounded in time)", Role.OPERATOR,
    args=(Arg("CONTAINER", many=True),),
    flags=(HOST_FLAG,),
    aliases=(("container", "wait"),),
    examples=("wait job", "wait job1 job2"),
)

DIFF = Command(
    ("diff",), "Inspect changes to files or directories on a container's filesystem",
    Role.VIEWER,
    args=(Arg("CONTAINER"),),
    flags=(HOST_FLAG,),
    aliases=(("container", "diff"),),
    examples=("diff web",),
)

HISTORY = Command(
    ("history",), "Show the history of an image", Role.VIEWER,
    args=(Arg("IMAGE"),),
    flags=(
        Flag("no-trunc", help="Don't truncate output"),
        Flag("quiet", "q", help="Only show image IDs"),
        Flag("format", kind="str", help="Format output with a Go template, e.g. "
                                        "'{{.ID}} {{.Size}}' or 'json'", metavar="TEMPLATE"),
        _LONG_HOST,
    ),
    aliases=(("image", "history"),),
    examples=("history dockops-test/busybox", "history --no-trunc nginx:1.27", "history -q app",
              "history --format '{{.CreatedBy}}' app"),
)

EVENTS = Command(
    ("events",), "Get real time events from the engine (live in a thread, or --until for a "
                 "past range)", Role.VIEWER,
    flags=(
        Flag("since", kind="str", help=f"Show events created since a {_TIME_HELP}",
             metavar="TIME"),
        Flag("until", kind="str", help=f"List the events up to this {_TIME_HELP} (0s: now); "
                                       "without it they stream live into a thread, bounded "
                                       "(operator)", metavar="TIME"),
        Flag("filter", "f", KeyValue("type=container", collect="filters"),
             "Filter output (type=, event=, container=, image=, label=, ...); `-f` with no "
             "filter after it means --follow", "KEY=VALUE", alone="follow"),
        Flag("follow", help="Stream events live into a thread, bounded (the default without "
                            "--until)"),
        Flag("format", kind="str", help="Format output with a Go template, e.g. "
                                        "'{{.Action}} {{.Actor.Attributes.name}}' or 'json'",
             metavar="TEMPLATE"),
        HOST_FLAG,
    ),
    aliases=(("system", "events"),),
    examples=("events --since 10m --until 0s", "events -f", "events -f type=container",
              "events --since 1h --until 30m -f event=die",
              "events --since 10m --until 0s --format json"),
    role_for=_events_role,
)

UPDATE = Command(
    ("update",), "Update configuration of one or more containers", Role.OPERATOR,
    args=(Arg("CONTAINER", many=True),),
    flags=(
        Flag("restart", kind=RestartPolicy(), help="Restart policy to apply when a container "
             "exits (no, always, on-failure[:N], unless-stopped)", metavar="POLICY"),
        Flag("memory", "m", ByteSize(), "Memory limit (e.g. 256m)", "BYTES"),
        Flag("memory-swap", kind=SwapSize(), help="Swap limit equal to memory plus swap: -1 "
             "to enable unlimited swap", metavar="BYTES"),
        Flag("cpus", kind=Cpus(), help="Number of CPUs", metavar="N"),
        HOST_FLAG,
    ),
    aliases=(("container", "update"),),
    examples=("update --restart unless-stopped web", "update -m 256m --memory-swap -1 web",
              "update --cpus 0.5 web worker"),
    destructive=_updates_several,
)

COMMANDS: tuple[Command, ...] = (STATS, PORT, PAUSE, UNPAUSE, RENAME, WAIT, DIFF, HISTORY, EVENTS,
                                 UPDATE)
