"""What a handler gets: the parsed command, who asked, where to answer, what to use."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.spec import Invocation
from bot.engine.client import Engine
from bot.engine.hosts import ALL
from bot.errors import UsageError
from bot.policy import Actor
from bot.reply import Responder
from bot.roles import Role
from bot.services import Services
from bot.store import Buttons

# Reads that run on several hosts at once (--host all, --host a,b), answered grouped by host.
MULTI_HOST_COMMANDS = frozenset({"ps", "images", "system df", "version", "info", "hosts",
                                 "service ls", "node ls", "stack ls", "network ls",
                                 "volume ls"})


def host_spec(invocation: Invocation, actor: Actor, services: Services) -> str | None:
    """What names the hosts: --host, else the channel's default host, else None."""
    typed = invocation.host
    late = invocation.opt("host")  # `ps --host all`: the reads take it after the name
    if typed and late and typed != late:
        raise UsageError(f"Two different hosts: `--host {typed}` and `--host {late}`.",
                         detail="Give --host once.")
    if typed or late:
        return str(typed or late)
    if invocation.command.name == "hosts":
        return ALL
    return services.settings.slack.channel_hosts.get(actor.channel_id)


def target_hosts(invocation: Invocation, actor: Actor, services: Services) -> tuple[str, ...]:
    """The hosts the command acts on: one, several for MULTI_HOST_COMMANDS, none for the bot's
    own commands (help, audit, jobs, follows) unless a host was typed (then it is checked)."""
    spec = host_spec(invocation, actor, services)
    command = invocation.command
    if not command.on_host and not (invocation.host or invocation.opt("host")):
        return ()
    names = services.hosts.resolve(spec)
    if command.on_host and len(names) > 1 and command.name not in MULTI_HOST_COMMANDS:
        raise one_host_needed(command.name, spec, names, services.settings.slack.command)
    return tuple(names)


def one_host_needed(command: str, spec: str | None, names: list[str],
                    slash: str) -> UsageError:
    listing = ", ".join(f"`{name}`" for name in names)
    several = ", ".join(f"`{name}`" for name in sorted(MULTI_HOST_COMMANDS))
    if spec is None:
        return UsageError(
            f"Several Docker hosts are configured and none is this channel's default: say "
            f"which one `{command}` is for.",
            detail=f"Add `--host NAME` (one of {listing}). An admin can give this channel a "
                   "default host with [slack] channel_hosts in the dockops config.")
    return UsageError(
        f"`{command}` acts on exactly one host; `--host {spec}` names {len(names)}: {listing}.",
        detail=f"Pick one, e.g. `{slash} --host {names[0]} {command} ...`. Only {several} "
               "run on several hosts at once.")


@dataclass(frozen=True)
class Context:
    """A command that passed the gate: `role` is the actor's role on `hosts`."""

    invocation: Invocation
    actor: Actor
    role: Role
    services: Services
    responder: Responder
    # What the preview the user confirmed showed (e.g. image IDs); None when not confirmed.
    pinned: tuple[str, ...] | None = None
    # The hosts the gate authorized, from target_hosts(); handlers reach no other.
    hosts: tuple[str, ...] = ()
    # This command's own audit row, written before it ran (0 outside the pipeline).
    audit_id: int = 0

    @property
    def engine(self) -> Engine:
        """The one engine this command acts on."""
        if len(self.hosts) != 1:
            raise one_host_needed(self.invocation.command.name, None, list(self.hosts),
                                  self.services.settings.slack.command)
        return self.services.hosts.get(self.hosts[0])

    @property
    def engines(self) -> list[Engine]:
        """Every engine this command acts on, in the order named (fan-out reads)."""
        return [self.services.hosts.get(name) for name in self.hosts]

    @property
    def fans_out(self) -> bool:
        return len(self.hosts) > 1

    @property
    def host_label(self) -> str:
        """The host name to show, only when more than one is configured."""
        return self.engine.name if len(self.services.hosts.engines) > 1 else ""

    def button(self, action_id: str, command: str, *, ttl_seconds: float) -> str:
        """A token for a button whose click runs `command` (on this command's host) later."""
        on_host = f"--host {self.hosts[0]} " if len(self.hosts) == 1 else ""
        return Buttons(self.services.store).issue(
            action_id, on_host + command, ttl_seconds=ttl_seconds,
            channel=self.actor.channel_id, issued_by=self.actor.user_id)
