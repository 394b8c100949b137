"""Container commands, flags named as in the docker CLI reference."""

from __future__ import annotations

from bot.commands.kinds import (
    ByteSize,
    Cpus,
    KeyValue,
    Mount,
    Publish,
    RestartPolicy,
    Volume,
)
from bot.commands.spec import Arg, Command, Flag, Invocation
from bot.commands.system import HOST_FLAG
from bot.roles import Role

_FILTER = Flag("filter", "f", KeyValue("status=exited", collect="filters"),
               "Filter output (name=, label=, status=, ancestor=, ...)", "KEY=VALUE")
# `-e NAME` would read the typist's environment in the CLI; Slack has none to read.
_ENV = Flag("env", "e", KeyValue("MODE=prod", bare="shell", collect="pairs"),
            "Set an environment variable", "K=V")
_TIME_HELP = "duration (10m, 2h), RFC 3339 time or unix timestamp"


def _logs_role(invocation: Invocation) -> Role:
    return Role.OPERATOR if invocation.opt("follow") else Role.VIEWER


def _cp_role(invocation: Invocation) -> Role:
    """Copying into a container changes it: admin. Copying out reads: operator."""
    destination = invocation.args[1] if len(invocation.args) > 1 else ""
    return Role.ADMIN if ":" in destination and not destination.startswith("/") else Role.OPERATOR


def _stops_several(invocation: Invocation) -> bool:
    return len(invocation.args) > 1


PS = Command(
    ("ps",), "List containers", Role.VIEWER,
    flags=(
        Flag("all", "a", help="Show all containers (default shows just running)"),
        _FILTER,
        Flag("last", "n", "int", "Show n last created containers (includes all states)", "N"),
        Flag("latest", "l", help="Show the latest created container (includes all states)"),
        Flag("quiet", "q", help="Only display container IDs"),
        Flag("no-trunc", help="Don't truncate output"),
        Flag("size", "s", help="Display total file sizes"),
        Flag("format", kind="str", metavar="TEMPLATE",
             help="Format with a Go template: 'table {{.Names}}\\t{{.Status}}', '{{json .}}'"),
        HOST_FLAG,
    ),
    aliases=(("container", "ls"), ("container", "ps"), ("container", "list")),
    examples=("ps", "ps -a", "ps -a --filter status=exited", "ps --filter label=team=api -q",
              "ps -s", "ps --format '{{.Names}}: {{.Status}}'", "ps --host all"),
)

LOGS = Command(
    ("logs",), "Fetch the logs of a container", Role.VIEWER,
    args=(Arg("CONTAINER"),),
    flags=(
        Flag("follow", "f", help="Follow log output into a thread (bounded in time)"),
        Flag("tail", "n", "str", "Number of lines to show from the end (default all: the "
                                 "last [limits] log_tail inline, the whole log as a file)", "N"),
        Flag("since", kind="str", help=f"Show logs since a {_TIME_HELP}", metavar="TIME"),
        Flag("until", kind="str", help=f"Show logs before a {_TIME_HELP}", metavar="TIME"),
        Flag("timestamps", "t", help="Show timestamps"),
        Flag("details", help="Show extra details provided to logs"),
    ),
    aliases=(("container", "logs"),),
    examples=("logs api", "logs --tail 20 api", "logs --since 10m -t api", "logs -f api"),
    role_for=_logs_role,
)

INSPECT = Command(
    ("inspect",), "Show a summary of a container (or image); several: their JSON",
    Role.VIEWER,
    args=(Arg("NAME", many=True),),
    flags=(
        Flag("format", "f", "str", "Format with a Go template, e.g. '{{json .State}}'", "TEMPLATE"),
        Flag("raw", help="Attach the full JSON as a file"),
    ),
    aliases=(("container", "inspect"),),
    examples=("inspect api", "inspect --format '{{json .State}}' api", "inspect --raw api",
              "inspect --format '{{.Name}} {{.State.Status}}' api db"),
)

RUN = Command(
    ("run",), "Create and run a new container from an image", Role.OPERATOR,
    args=(Arg("IMAGE"), Arg("COMMAND", required=False, many=True)),
    flags=(
        Flag("detach", "d", help="Run in the background and print the container ID"),
        Flag("publish", "p", Publish(), "Publish a port: [IP:]HOST:CONTAINER[/udp]", "PORTS"),
        Flag("rm", help="Remove the container when it exits"),
        Flag("pull", kind="str", help='Pull image before running ("always", "missing", '
                                      '"never"; default "missing")', metavar="POLICY"),
        Flag("name", kind="str", help="Assign a name to the container", metavar="NAME"),
        _ENV,
        Flag("env-file", kind="list", help="Not available from Slack", metavar="FILE"),
        # `--label NAME` is an empty label, as in the CLI.
        Flag("label", "l", KeyValue("team=api", bare="empty"), "Set a label", "K=V"),
        Flag("restart", kind=RestartPolicy(), help="Restart policy (no, always, on-failure[:N], "
                                                   "unless-stopped)", metavar="POLICY"),
        Flag("workdir", "w", "str", "Working directory inside the container", "DIR"),
        Flag("entrypoint", kind="str", help="Overwrite the image's ENTRYPOINT", metavar="CMD"),
        Flag("volume", "v", Volume(), "Mount a named volume (VOLUME:/path[:ro])", "VOL:PATH"),
        Flag("network", kind="str", help="Connect to a network", metavar="NETWORK"),
        Flag("interactive", "i", help="Not available from Slack: no terminal"),
        Flag("tty", "t", help="Not available from Slack: no terminal"),
        Flag("user", "u", "str", "User name or UID", "USER"),
        Flag("hostname", kind="str", help="Container host name", metavar="NAME"),
        Flag("privileged", help="Give extended privileges (refused unless allowed in config)"),
        Flag("cap-add", kind="list", help="Add Linux capabilities (policy)", metavar="CAP"),
        Flag("device", kind="list", help="Add a host device (policy)", metavar="DEVICE"),
        Flag("pid", kind="str", help="PID namespace (policy for host, container:NAME)",
             metavar="MODE"),
        Flag("ipc", kind="str", help="IPC namespace (policy for host, container:NAME)",
             metavar="MODE"),
        Flag("uts", kind="str", help="UTS namespace (policy for host)", metavar="MODE"),
        Flag("volumes-from", kind="list", help="Mount volumes from the specified container(s) "
                                               "(policy)", metavar="CONTAINER"),
        Flag("security-opt", kind="list", help="Security options (policy)", metavar="OPT"),
        Flag("mount", kind=Mount(), help="Attach a mount (type=volume or allowed bind)",
             metavar="SPEC"),
        Flag("memory", "m", ByteSize(), "Memory limit (e.g. 256m)", "BYTES"),
        Flag("cpus", kind=Cpus(), help="Number of CPUs", metavar="N"),
    ),
    aliases=(("container", "run"),),
    examples=("run dockops-test/busybox echo hello",
              "run -d -p 3000:80 --name web nginx",
              "run -d --rm -p 3000:80 nginx",
              "run --name job -e MODE=once busybox sh -c 'date; echo done'"),
    interspersed=False,
)

START = Command(
    ("start",), "Start one or more stopped containers", Role.OPERATOR,
    args=(Arg("CONTAINER", many=True),),
    flags=(Flag("attach", "a", help="Attach and post the container's output"),),
    aliases=(("container", "start"),),
    examples=("start web", "start -a job"),
)

STOP = Command(
    ("stop",), "Stop one or more running containers", Role.OPERATOR,
    args=(Arg("CONTAINER", many=True),),
    flags=(Flag("time", "t", "int", "Seconds to wait before killing it (default 10)", "N"),),
    aliases=(("container", "stop"),),
    examples=("stop web", "stop -t 2 web worker"),
    destructive=_stops_several,
)

RESTART = Command(
    ("restart",), "Restart one or more containers", Role.OPERATOR,
    args=(Arg("CONTAINER", many=True),),
    flags=(Flag("time", "t", "int", "Seconds to wait before killing it (default 10)", "N"),),
    aliases=(("container", "restart"),),
    examples=("restart web",),
)

KILL = Command(
    ("kill",), "Kill one or more running containers", Role.OPERATOR,
    args=(Arg("CONTAINER", many=True),),
    flags=(Flag("signal", "s", "str", "Signal to send (default KILL)", "SIGNAL"),),
    aliases=(("container", "kill"),),
    examples=("kill web", "kill -s HUP web"),
    destructive=True,
)

ATTACH = Command(
    ("attach",), "Follow a running container's output into a thread (bounded)", Role.OPERATOR,
    args=(Arg("CONTAINER"),),
    aliases=(("container", "attach"),),
    examples=("attach web",),
)

EXEC = Command(
    ("exec",), "Run a command in a running container (no terminal)", Role.OPERATOR,
    args=(Arg("CONTAINER"), Arg("COMMAND", many=True)),
    flags=(
        _ENV,
        Flag("workdir", "w", "str", "Working directory inside the container", "DIR"),
        Flag("user", "u", "str", "User name or UID", "USER"),
        Flag("interactive", "i", help="Not available from Slack: no terminal"),
        Flag("tty", "t", help="Not available from Slack: no terminal"),
        Flag("detach", "d", help="Run the command in the background"),
    ),
    aliases=(("container", "exec"),),
    examples=("exec web ls /", "exec -w /tmp web sh -c 'df -h'"),
    interspersed=False,
)

RM = Command(
    ("rm",), "Remove one or more containers", Role.ADMIN,
    args=(Arg("CONTAINER", many=True),),
    flags=(
        Flag("force", "f", help="Force the removal of a running container"),
        Flag("volumes", "v", help="Remove anonymous volumes associated with the container"),
    ),
    aliases=(("container", "rm"), ("container", "remove")),
    examples=("rm old-web", "rm -f web"),
    destructive=True,
)

CP = Command(
    ("cp",), "Copy files between a container and Slack (or an allowed host path)",
    Role.OPERATOR,
    args=(Arg("SRC"), Arg("DEST"), Arg("SLACK_FILE_LINK", required=False)),
    flags=(Flag("archive", "a", help="Archive mode (copy all uid/gid information)"),),
    aliases=(("container", "cp"),),
    examples=("cp web:/etc/hostname -", "cp web:/test -", "cp - web:/test <Slack file link>",
              "cp ./dummy/. web:/test"),
    role_for=_cp_role,
)

RECREATE = Command(
    ("recreate",), "Replace containers with new ones on the image's newest local copy, same config",
    Role.OPERATOR,
    args=(Arg("CONTAINER", many=True),),
    flags=(
        Flag("image", kind="str", help="Image to recreate on (default: the one each was created "
                                       "from); the same repository only", metavar="IMAGE"),
        Flag("pull", help="Pull the image first"),
        Flag("cleanup", help="Then remove each image the recreated containers ran, unless "
                             "another container or tag still uses it (never forced)"),
    ),
    examples=("recreate web", "recreate --pull web worker",
              "recreate --pull --image registry.example/team/app:1.4 web",
              "recreate --pull --cleanup web"),
    destructive=True,
)

TOP = Command(
    ("top",), "Display the running processes of a container", Role.VIEWER,
    args=(Arg("CONTAINER"), Arg("PS_OPTIONS", required=False, many=True)),
    aliases=(("container", "top"),),
    examples=("top web", "top web -o pid,user,args"),
    interspersed=False,  # what follows the container is ps's own options, as in the CLI
)

COMMANDS = (PS, LOGS, INSPECT, RUN, START, STOP, RESTART, KILL, ATTACH, EXEC, RM, CP, RECREATE,
            TOP)
