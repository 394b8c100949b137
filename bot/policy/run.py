"""What `run` may ask of the host: every risky option refused unless `[run]` allows it."""

from __future__ import annotations

import os
import posixpath

from bot.commands.spec import Invocation
from bot.config import RunPolicyConfig
from bot.errors import RefusedError


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
