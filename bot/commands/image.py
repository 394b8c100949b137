"""Image and registry commands, flags named as in the docker CLI reference."""

from __future__ import annotations

from bot.commands.kinds import KeyValue, PruneFilter
from bot.commands.spec import Arg, Command, Flag
from bot.commands.system import HOST_FLAG
from bot.roles import Role

# `docker build --build-arg NAME` reads the bot's environment: never from Slack.
_OWN_ENV = "dockops does not read values from its own environment."

IMAGES = Command(
    ("images",), "List images", Role.VIEWER,
    args=(Arg("REPOSITORY", required=False),),
    flags=(
        Flag("all", "a", help="Show all images (default hides intermediate images)"),
        Flag("filter", "f", KeyValue("dangling=true", collect="filters"),
             "Filter output (dangling=true, label=, reference=, ...)", "KEY=VALUE"),
        Flag("quiet", "q", help="Only show image IDs"),
        Flag("no-trunc", help="Don't truncate output"),
        Flag("digests", help="Show digests"),
        Flag("format", kind="str", metavar="TEMPLATE",
             help="Format with a Go template: 'table {{.Repository}}\\t{{.Size}}', '{{json .}}'"),
        HOST_FLAG,
    ),
    aliases=(("image", "ls"), ("image", "list")),
    examples=("images", "images -a", "images --filter dangling=true", "image ls busybox",
              "images --digests", "images --format '{{.Repository}}:{{.Tag}} {{.Size}}'"),
)

IMAGE_INSPECT = Command(
    ("image", "inspect"), "Show a summary of an image (several: the JSON array)", Role.VIEWER,
    args=(Arg("IMAGE", many=True),),
    flags=(
        Flag("format", "f", "str", "Format with a Go template, e.g. '{{json .Config}}'",
             "TEMPLATE"),
        Flag("raw", help="Attach the full JSON as a file"),
    ),
    examples=("image inspect nginx", "image inspect --format '{{.Os}}' nginx",
              "image inspect --format '{{.Id}}' nginx redis"),
)

RMI = Command(
    ("rmi",), "Remove one or more images", Role.ADMIN,
    args=(Arg("IMAGE", many=True),),
    flags=(
        Flag("force", "f", help="Force removal of the image (untags it when in use)"),
        Flag("no-prune", help="Do not delete untagged parents"),
    ),
    aliases=(("image", "rm"), ("image", "remove")),
    examples=("rmi old-app:1.0", "rmi -f old-app:1.0"),
    destructive=True,
)

IMAGE_PRUNE = Command(
    ("image", "prune"), "Remove unused images (dangling only, or all unused with -a)", Role.ADMIN,
    flags=(
        Flag("all", "a", help="Remove all unused images, not just dangling ones"),
        Flag("filter", kind=PruneFilter(), help="until=24h, label=KEY[=VALUE], label!=...",
             metavar="FILTER"),
        Flag("force", "f", help="Accepted for CLI habit; Slack still asks to confirm"),
    ),
    examples=("image prune", "image prune -a", "image prune -a --filter until=24h"),
    destructive=True,
)

BUILD = Command(
    ("build",), "Build an image from a configured build context", Role.ADMIN,
    args=(Arg("CONTEXT"),),
    flags=(
        Flag("tag", "t", "list", "Name and optionally a tag (name:tag)", "NAME:TAG"),
        Flag("build-arg", kind=KeyValue("MODE=prod", note=_OWN_ENV),
             help="Set build-time variables", metavar="K=V"),
        Flag("file", "f", "str", "Name of the Dockerfile inside the context", "PATH"),
        Flag("no-cache", help="Do not use cache when building the image"),
        Flag("pull", help="Always attempt to pull a newer version of the base image"),
        Flag("label", kind=KeyValue("team=goals", note=_OWN_ENV), help="Set metadata for an image",
             metavar="K=V"),
    ),
    aliases=(("image", "build"),),
    examples=("build -t goals:latest goals", "build -t goals:1.1 --build-arg MODE=prod goals"),
)

TAG = Command(
    ("tag",), "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", Role.OPERATOR,
    args=(Arg("SOURCE_IMAGE"), Arg("TARGET_IMAGE")),
    aliases=(("image", "tag"),),
    examples=("tag goals:latest 127.0.0.1:5000/team/goals:1.0",),
)

PUSH = Command(
    ("push",), "Upload an image to a registry", Role.ADMIN,
    args=(Arg("NAME[:TAG]"),),
    flags=(Flag("all-tags", "a", help="Not available from Slack: push one tag at a time"),),
    aliases=(("image", "push"),),
    examples=("push 127.0.0.1:5000/team/goals:1.0",),
)

PULL = Command(
    ("pull",), "Download an image from a registry", Role.OPERATOR,
    args=(Arg("NAME[:TAG]"),),
    flags=(
        Flag("all-tags", "a", help="Not available from Slack: pull one tag at a time"),
        Flag("platform", kind="str", help="Set platform (e.g. linux/amd64)", metavar="PLATFORM"),
    ),
    aliases=(("image", "pull"),),
    examples=("pull 127.0.0.1:5000/team/goals:1.0", "pull --platform linux/amd64 redis:7"),
)

LOGIN = Command(
    ("login",), "Check the configured credentials of a registry", Role.ADMIN,
    args=(Arg("SERVER", required=False),),
    flags=(
        Flag("username", "u", "str", "Not typed in Slack: credentials come from config",
             "USER"),
        Flag("password", "p", "str", "Refused: never type a password in Slack", "PASSWORD"),
        Flag("password-stdin", help="Refused: credentials come from config"),
    ),
    examples=("login 127.0.0.1:5000",),
)

LOGOUT = Command(
    ("logout",), "Forget a registry's credentials held in memory", Role.ADMIN,
    args=(Arg("SERVER", required=False),),
    examples=("logout 127.0.0.1:5000",),
)

COMMANDS = (IMAGES, IMAGE_INSPECT, RMI, IMAGE_PRUNE, BUILD, TAG, PUSH, PULL, LOGIN, LOGOUT)
