"""Who may run what: roles from config, checked before anything reaches the engine."""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from typing import Literal

from bot.commands.spec import Invocation
from bot.config import AccessConfig, RunPolicyConfig
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


# -- run policy ----------------------------------------------------------------------------

def _run_refused(what: str, why: str, setting: str) -> RefusedError:
    return RefusedError(f"{what} is refused by the run policy: {why}.",
                        detail=f"An admin can allow it with `{setting}` under [run] in the "
                               "dockops config.")


def _capability(name: str) -> str:
    return name.strip().upper().removeprefix("CAP_")


def _check_bind(source: str, typed: str, run: RunPolicyConfig) -> None:
    """A host path may be bind-mounted only under a `bind_mounts` entry (after `..` and links)."""
    example = f'bind_mounts = ["{source}"]'
    if not source.startswith("/"):
        raise _run_refused(f"`{typed}`", "only absolute host paths can be bind-mounted, and only "
                                         "under the allowed directories", example)
    roots = [posixpath.normpath(root) for root in run.bind_mounts]
    candidates = {posixpath.normpath(source), os.path.realpath(posixpath.normpath(source))}

    def inside(path: str) -> bool:
        return any(path == root or path.startswith(root.rstrip("/") + "/")
                   for root in roots + [os.path.realpath(r) for r in roots])

    if not all(inside(path) for path in candidates):
        raise _run_refused(f"`{typed}`", "bind mounts of host paths are limited to the directories "
                                         "listed in bind_mounts", example)


def check_run(invocation: Invocation, run: RunPolicyConfig) -> None:
    """Refuse `run` options the `[run]` config does not allow, naming the rule and the key.

    Called before anything reaches the engine: a refused run creates nothing.
    """
    # The option parsers live with the engine code that uses them; policy needs only these two.
    from bot.engine.lifecycle import parse_mount, parse_volume

    opt = invocation.opt
    if opt("privileged") and not run.allow_privileged:
        raise _run_refused("`--privileged`", "a privileged container has full access to the host",
                           "allow_privileged = true")
    allowed_caps = {_capability(cap) for cap in run.allow_cap_add}
    for cap in opt("cap_add") or ():
        if _capability(cap) not in allowed_caps and "ALL" not in allowed_caps:
            raise _run_refused(f"`--cap-add {cap}`", "adding Linux capabilities widens what the "
                               "container may do to the host",
                               f'allow_cap_add = ["{_capability(cap)}"]')
    if opt("device") and not run.allow_devices:
        raise _run_refused(f"`--device {opt('device')[0]}`", "host devices are not shared with "
                           "containers", "allow_devices = true")
    for flag in ("pid", "ipc", "network"):
        if (opt(flag) or "").strip().lower() == "host" and not run.allow_host_namespaces:
            raise _run_refused(f"`--{flag} host`", "containers do not join the host's "
                               f"{flag} namespace", "allow_host_namespaces = true")
    if opt("security_opt") and not run.allow_security_opt:
        raise _run_refused(f"`--security-opt {opt('security_opt')[0]}`", "security options "
                           "(seccomp, AppArmor, SELinux) stay at the engine's defaults",
                           "allow_security_opt = true")
    for spec in opt("volume") or ():
        volume = parse_volume(spec)
        if volume.is_bind and volume.source is not None:
            _check_bind(volume.source, f"-v {spec}", run)
    for spec in opt("mount") or ():
        mount = parse_mount(spec)
        if mount.type == "bind":
            _check_bind(mount.source, f"--mount {spec}", run)
        if {"volume-driver", "volume-opt"} & set(mount.options):
            raise RefusedError(
                f"`--mount {spec}` is refused by the run policy: volume drivers and options can "
                "bind host paths.",
                detail="Create the volume on the host (docker volume create) and mount it by "
                       "name: --mount type=volume,source=NAME,target=/path")
    user = (opt("user") or "").strip()
    if user.split(":", 1)[0] in ("root", "0") and not run.allow_root_user:
        raise _run_refused(f"`--user {user}`", "overriding the image's user with root",
                           "allow_root_user = true")
