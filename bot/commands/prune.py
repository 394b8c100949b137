"""`container prune` and `system prune`, and the `--filter` kind every object prune reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from bot.commands.kinds import Kind, shown, split_pair
from bot.commands.spec import Command, Flag
from bot.commands.system import HOST_FLAG
from bot.errors import UsageError
from bot.roles import Role
from bot.timeparse import engine_timestamp


@dataclass(frozen=True)
class ObjectPruneFilter(Kind):
    """`--filter until=..|label=..|label!=..` for a prune, as the engine's filter map.

    `until` is read once here and sent as an absolute time, so the preview and the prune it
    confirms use one cutoff; keys the engine would refuse for this prune are refused first.
    """

    command: str
    keys: tuple[str, ...] = ("until", "label", "label!")

    many: ClassVar[bool] = True

    def convert(self, text: str, flag: str) -> tuple[str, str]:
        key, value = split_pair(text.strip())
        key = key.strip()
        if key not in self.keys or not value or not split_pair(value)[0]:
            allowed = ", ".join(f"{k}=..." for k in self.keys)
            raise UsageError(f"Invalid filter {shown(text)!r} for `{self.command} {flag}`: use "
                             f"{allowed}.",
                             detail=f"Example: {self.command} --filter label=team=api")
        if key == "until":
            return key, engine_timestamp(value)
        return key, value.strip()

    def gather(self, values: tuple[tuple[str, str], ...]) -> Any:
        filters: dict[str, tuple[str, ...]] = {}
        for key, value in values:
            filters[key] = (*filters.get(key, ()), value)
        if len(filters.get("until", ())) > 1:
            raise UsageError(f"`{self.command}` takes one `until` filter.",
                             detail="Keep the one you mean: --filter until=24h")
        return filters


def label_filters(command: str) -> ObjectPruneFilter:
    """The filter kind of a prune that takes labels only (volume prune)."""
    return ObjectPruneFilter(command, ("label", "label!"))


_FORCE = Flag("force", "f", help="Accepted for CLI habit; Slack still asks to confirm")

CONTAINER_PRUNE = Command(
    ("container", "prune"), "Remove all stopped containers", Role.ADMIN,
    flags=(
        Flag("filter", kind=ObjectPruneFilter("container prune"),
             help="until=24h, label=KEY[=VALUE], label!=...", metavar="FILTER"),
        _FORCE,
        HOST_FLAG,
    ),
    examples=("container prune", "container prune --filter until=24h"),
    destructive=True,
)

SYSTEM_PRUNE = Command(
    ("system", "prune"), "Remove unused data: stopped containers, unused networks, dangling "
                         "images, build cache", Role.ADMIN,
    flags=(
        Flag("all", "a", help="Remove all unused images, not just dangling ones"),
        Flag("volumes", help="Prune volumes too"),
        Flag("filter", kind=ObjectPruneFilter("system prune"),
             help="until=24h, label=KEY[=VALUE], label!=...", metavar="FILTER"),
        _FORCE,
        HOST_FLAG,
    ),
    examples=("system prune", "system prune -a --volumes", "system prune --filter until=24h"),
    destructive=True,
)

COMMANDS = (CONTAINER_PRUNE, SYSTEM_PRUNE)
