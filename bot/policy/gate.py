"""The one gate: may this actor run this command on the hosts it touches?

Every action enters here: typed commands, console lines, button clicks (which carry a
stored command) and confirmations. The role is the one the actor holds on the host the
command acts on: `[access.roles]` with that host's `[hosts.NAME.roles]` lists in place of
the global ones (see bot/policy/hosts.py); on several hosts, the lowest of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.commands.spec import Invocation
from bot.config import AccessConfig, HostConfig
from bot.errors import RefusedError
from bot.policy.access import Actor, check_channel, role_of
from bot.policy.hosts import role_for_host
from bot.redact import mask_command
from bot.roles import Role

HostRoles = Sequence[tuple[str, HostConfig | None]]


def role_on(actor: Actor, access: AccessConfig | None, hosts: HostRoles) -> tuple[Role, str]:
    """The actor's lowest role over `hosts` (global roles when none), and the host that set it.

    The host is named only when its own role lists decided, so a refusal can point there.
    """
    if not hosts:
        return role_of(actor, access), ""
    return min(((role_for_host(actor, config, access), name if config and config.roles else "")
                for name, config in hosts), key=lambda found: found[0])


def authorize(invocation: Invocation, actor: Actor, access: AccessConfig | None,
              hosts: Callable[[], HostRoles] = lambda: ()) -> Role:
    """The actor's role when they may run the invocation; RefusedError saying why not.

    `hosts` resolves the hosts the command touches; it is called only once the actor has
    passed the checks that need no host (set-up, channel), so nobody without any role
    learns host names from the answer.
    """
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
    role, where = role_on(actor, access, hosts())
    if role >= required:
        return role
    has = "no role" if role == Role.NONE else f"the {role.label} role"
    if where:
        raise RefusedError(
            f"{_what(invocation, required)} on host `{where}` needs the {required.label} role; "
            f"you have {has} there. Nothing was changed.",
            detail=f"Host `{where}` has its own role lists ([hosts.{where}.roles] in the dockops "
                   f"config): ask an admin to add your user ID ({actor.user_id}) under "
                   f"{required.label} there, or use another host.")
    raise RefusedError(
        f"{_what(invocation, required)} needs the {required.label} role; you have {has}.",
        detail=f"Ask an admin to add your user ID ({actor.user_id}) under "
               f"[access.roles] {required.label} in the dockops config.")


def _what(invocation: Invocation, required: Role) -> str:
    """The command as a refusal names it: the whole line when its flags raised the role."""
    command = invocation.command
    if required == command.role:
        return f"`{command.name}`"
    # `logs -f`, `cp` into a container: the plain name would not explain the refusal.
    text = mask_command(invocation.text.strip())
    return f"`{text if len(text) <= 80 else text[:79] + '…'}`"
