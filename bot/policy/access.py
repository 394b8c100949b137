"""Who may run what: roles from config, checked before anything reaches the engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.config import AccessConfig
from bot.errors import RefusedError
from bot.mrkdwn import Mrkdwn, channel_mention, escape, md, user_mention
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
    def display(self) -> Mrkdwn:
        """A mention in Slack, the name elsewhere: mrkdwn either way."""
        return user_mention(self.user_id) if self.source == "slack" \
            else escape(self.user_name or self.user_id)


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
        listed = Mrkdwn(", ").join(channel_mention(channel) for channel in access.channels)
        raise RefusedError(
            "dockops does not take commands in this channel.",
            detail=md("Use one of {}, or ask an admin to add this channel's ID ({}) to [access] "
                      "channels in the dockops config.", listed, actor.channel_id))
