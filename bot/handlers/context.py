"""What a handler gets: the parsed command, who asked, where to answer, what to use."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from bot.commands.spec import Invocation
from bot.engine.client import Engine
from bot.engine.hosts import ALL
from bot.errors import UsageError
from bot.policy import Actor, check_hosts
from bot.reply import Responder
from bot.roles import Role
from bot.services import Services

# Reads that run on several hosts at once (--host all, --host a,b), answered grouped by host.
MULTI_HOST_COMMANDS = frozenset({"ps", "images", "system df", "version", "info", "hosts"})


@dataclass(frozen=True)
class Context:
    invocation: Invocation
    actor: Actor
    role: Role
    services: Services
    responder: Responder
    # What the preview the user confirmed showed (e.g. image IDs); None when not confirmed.
    pinned: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        """A typed --host is checked before anything runs (the preview and confirmation too)."""
        if self.invocation.host or self.invocation.opt("host"):
            _ = self.checked_host_names

    @cached_property
    def checked_host_names(self) -> list[str]:
        """The hosts once checked: one unless a multi-host read; each host's roles allow it.

        Checked on first use, so host-less commands (help, audit, jobs) ignore the default host.
        """
        names = self.host_names
        command = self.invocation.command.name
        if len(names) > 1 and command not in MULTI_HOST_COMMANDS:
            raise self._one_host_needed(names)
        hosts = self.services.hosts
        check_hosts(self.actor, self.invocation.command.required_role(self.invocation), command,
                    [(name, hosts.config(name)) for name in names],
                    self.services.settings.access)
        return names

    @property
    def host_spec(self) -> str | None:
        """What names the hosts: --host, else the channel's default host, else None."""
        typed = self.invocation.host
        late = self.invocation.opt("host")  # `ps --host all`: the reads take it after the name
        if typed and late and typed != late:
            raise UsageError(f"Two different hosts: `--host {typed}` and `--host {late}`.",
                             detail="Give --host once.")
        if typed or late:
            return typed or late
        if self.invocation.command.name == "hosts":
            return ALL
        return self.services.settings.slack.channel_hosts.get(self.actor.channel_id)

    @cached_property
    def host_names(self) -> list[str]:
        """The hosts this command acts on (several only for MULTI_HOST_COMMANDS)."""
        return self.services.hosts.resolve(self.host_spec)

    @property
    def engine(self) -> Engine:
        """The one engine this command acts on."""
        names = self.checked_host_names
        if len(names) != 1:
            raise self._one_host_needed(names)
        return self.services.hosts.get(names[0])

    @property
    def engines(self) -> list[Engine]:
        """Every engine this command acts on, in the order named (fan-out reads)."""
        return [self.services.hosts.get(name) for name in self.checked_host_names]

    @property
    def fans_out(self) -> bool:
        return len(self.host_names) > 1

    @property
    def host_label(self) -> str:
        """The host name to show, only when more than one is configured."""
        return self.engine.name if len(self.services.hosts.engines) > 1 else ""

    def _one_host_needed(self, names: list[str]) -> UsageError:
        command = self.invocation.command.name
        listing = ", ".join(f"`{name}`" for name in names)
        several = ", ".join(f"`{name}`" for name in sorted(MULTI_HOST_COMMANDS))
        if self.host_spec is None:
            return UsageError(
                f"Several Docker hosts are configured and none is this channel's default: say "
                f"which one `{command}` is for.",
                detail=f"Add `--host NAME` (one of {listing}). An admin can give this channel a "
                       "default host with [slack] channel_hosts in the dockops config.")
        return UsageError(
            f"`{command}` acts on exactly one host; `--host {self.host_spec}` names "
            f"{len(names)}: {listing}.",
            detail=f"Pick one, e.g. `{self.services.settings.slack.command} --host {names[0]} "
                   f"{command} ...`. Only {several} "
                   "run on several hosts at once.")
