"""Who may run what: roles from config, checked before anything reaches the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.commands.spec import Invocation
from bot.config import AccessConfig
from bot.errors import RefusedError
from bot.redact import mask_command
from bot.roles import Role


@dataclass(frozen=True)
class Actor:
    """The person (or console) behind a command, with what Slack told us about them."""

    user_id: str
    channel_id: str = ""
    user_name: str = ""
    team_id: str = ""
    source: Literal["slack", "console", "scheduler"] = "slack"
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def display(self) -> str:
        return f"<@{self.user_id}>" if self.source == "slack" else self.user_name or self.user_id


def role_of(actor: Actor, access: AccessConfig | None) -> Role:
    """The highest role any config entry gives the actor (user, user group or channel)."""
    if actor.source == "scheduler":
        # Jobs come from the config file itself: as trusted as whoever wrote it.
        return Role.ADMIN
    if access is None:
        return Role.ADMIN if actor.source == "console" else Role.NONE
    if actor.source == "console":
        return Role.parse(access.console_role)
    best = Role.parse(access.default_role)
    ids = {actor.user_id, actor.channel_id, *actor.groups} - {""}
    for role_name, entries in access.roles.items():
        if ids.intersection(entries):
            best = max(best, Role.parse(role_name))
    return best


def group_ids(access: AccessConfig | None) -> frozenset[str]:
    """The user group IDs (S...) the access config names: the only groups worth looking up."""
    if access is None:
        return frozenset()
    return frozenset(entry for entries in access.roles.values() for entry in entries
                     if entry.startswith("S"))


def check_channel(actor: Actor, access: AccessConfig | None) -> None:
    """Refuse a Slack command typed outside the channels `[access] channels` lists."""
    if access and access.channels and actor.source == "slack" \
            and actor.channel_id not in access.channels:
        listed = ", ".join(f"<#{channel}>" for channel in access.channels)
        raise RefusedError(
            "dockops does not take commands in this channel.",
            detail=f"Use one of {listed}, or ask an admin to add this channel's ID "
                   f"({actor.channel_id}) to [access] channels in the dockops config.")


def authorize(invocation: Invocation, actor: Actor, access: AccessConfig | None) -> Role:
    """The actor's role when they may run the invocation; RefusedError saying why not."""
    required = invocation.command.required_role(invocation)
    if required == Role.NONE:
        return role_of(actor, access)
    if access is None and actor.source == "slack":
        raise RefusedError(
            "dockops is not set up for Slack users yet: nobody has a role.",
            detail="An admin adds an [access] section to the config (default_role, "
                   "[access.roles] admin/operator/viewer = [\"U...\"]). See "
                   "config/dockops.example.toml.")
    check_channel(actor, access)
    role = role_of(actor, access)
    if role < required:
        has = "no role" if role == Role.NONE else f"the {role.label} role"
        raise RefusedError(
            f"{_what(invocation, required)} needs the {required.label} role; you have {has}.",
            detail=f"Ask an admin to add your user ID ({actor.user_id}) under "
                   f"[access.roles] {required.label} in the dockops config.")
    return role


def _what(invocation: Invocation, required: Role) -> str:
    """The command as a refusal names it: the whole line when its flags raised the role."""
    command = invocation.command
    if required == command.role:
        return f"`{command.name}`"
    # `logs -f`, `cp` into a container: the plain name would not explain the refusal.
    text = mask_command(invocation.text.strip())
    return f"`{text if len(text) <= 80 else text[:79] + '…'}`"
