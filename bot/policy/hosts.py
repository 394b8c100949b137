"""Roles per host: `[hosts.NAME.roles]` entries replace `[access.roles]` ones on that host.

Semantics: for a command on host H, the role lists are `[access.roles]` with every role
that `[hosts.H.roles]` names replaced by H's list; `default_role`, `console_role` and
`channels` stay global. So `[hosts.prod.roles] operator = []` makes prod admin-only for
writes (operators fall back to a viewer entry, or to default_role), and `admin = ["U1"]`
makes U1 prod's only admin. The console and scheduled jobs are not affected (their roles
come from the config file itself).
"""

from __future__ import annotations

from bot.config import AccessConfig, HostConfig
from bot.policy.access import Actor, role_of
from bot.roles import Role


def host_access(host_config: HostConfig | None, access: AccessConfig | None) -> AccessConfig | None:
    """The access section as it applies on one host (itself when the host has no override)."""
    if host_config is None or not host_config.roles or access is None:
        return access
    return access.model_copy(update={"roles": {**access.roles, **host_config.roles}})


def role_for_host(actor: Actor, host_config: HostConfig | None,
                  access: AccessConfig | None) -> Role:
    """The actor's role for commands on the host `host_config` describes."""
    return role_of(actor, host_access(host_config, access))
