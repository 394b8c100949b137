"""What run, exec and start may do to the host: risky options refused unless [run] allows them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.commands.spec import Invocation
from bot.config import RunPolicyConfig
from bot.errors import RefusedError, UsageError
from bot.policy.binds import NOT_ABSOLUTE, OUTSIDE_ROOTS, bind_problem
from bot.policy.users import resolves_to_root
from bot.roles import Role

if TYPE_CHECKING:  # the facts only: policy never talks to the engine itself
    from bot.engine.privileges import ContainerPrivileges

NAMESPACE_FLAGS = ("pid", "ipc", "network", "uts")


def _run_refused(what: str, why: str, setting: str) -> RefusedError:
    return RefusedError(f"{what} is refused by the run policy: {why}.",
                        detail=f"An admin can allow it with `{setting}` under [run] in the "
                               "dockops config.")


def _capability(name: str) -> str:
    return name.strip().upper().removeprefix("CAP_")


def _check_bind(source: str, typed: str, run: RunPolicyConfig) -> None:
    """A host path may be bind-mounted only under a `bind_mounts` entry, through no symlink."""
    why = bind_problem(source, run.bind_mounts)
    if why in (NOT_ABSOLUTE, OUTSIDE_ROOTS):
        raise _run_refused(f"`{typed}`", why, f'bind_mounts = ["{source}"]'
                           if source.startswith("/") else "bind_mounts")
    if why:  # a symlink or a missing path: listing it in bind_mounts would not help
        raise RefusedError(f"`{typed}` is refused by the run policy: {why}.",
                           detail="Bind the real, existing directory under one of `bind_mounts` "
                                  "under [run] in the dockops config.")


def check_run(invocation: Invocation, run: RunPolicyConfig) -> None:
    """Refuse `run` options the `[run]` config does not allow, naming the rule and the key.

    Called before anything reaches the engine: a refused run creates nothing. The volumes
    and mounts arrive parsed (VolumeSpec, MountSpec), as the engine will receive them.
    """
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
    for flag in NAMESPACE_FLAGS:
        if (opt(flag) or "").strip().lower() == "host" and not run.allow_host_namespaces:
            raise _run_refused(f"`--{flag} host`", "containers do not join the host's "
                               f"{flag} namespace", "allow_host_namespaces = true")
    joins = join_targets(invocation)
    if joins and not run.allow_join_containers:
        raise _run_refused(f"`{joins[0].typed}`", "a container does not join another "
                           "container's namespaces or volumes", "allow_join_containers = true")
    if opt("security_opt") and not run.allow_security_opt:
        raise _run_refused(f"`--security-opt {opt('security_opt')[0]}`", "security options "
                           "(seccomp, AppArmor, SELinux) stay at the engine's defaults",
                           "allow_security_opt = true")
    for volume in opt("volume") or ():
        if volume.is_bind and volume.source is not None:
            _check_bind(volume.source, f"-v {volume.text}", run)
    for mount in opt("mount") or ():
        if mount.type == "bind":
            _check_bind(mount.source, f"--mount {mount.text}", run)
        if {"volume-driver", "volume-opt"} & set(mount.options):
            raise RefusedError(
                f"`--mount {mount.text}` is refused by the run policy: volume drivers and options can "
                "bind host paths.",
                detail="Create the volume on the host (docker volume create) and mount it by "
                       "name: --mount type=volume,source=NAME,target=/path")
    check_user(opt("user"), run)


def check_user(user: str | None, run: RunPolicyConfig, flag: str = "--user") -> None:
    """Refuse a `run --user` / `exec -u` that resolves to uid 0 or gid 0, however spelt."""
    if user and resolves_to_root(user) and not run.allow_root_user:
        raise _run_refused(f"`{flag} {user.strip()}`", "overriding the image's user with root "
                           "(uid 0 or gid 0)", "allow_root_user = true")


# -- joining other containers, exec, start: decided on facts the engine read ------------------

@dataclass(frozen=True)
class Join:
    """A `run` option that shares another container's namespace or volumes."""

    flag: str  # pid, ipc, network, uts or volumes_from
    container: str
    typed: str  # as the user wrote it, for the refusal

    @property
    def reaches_files(self) -> bool:
        """A shared PID namespace shows /proc/PID/root; --volumes-from mounts its binds."""
        return self.flag in ("pid", "volumes_from")


def join_targets(invocation: Invocation) -> list[Join]:
    """Every `--pid/--ipc/--network/--uts container:NAME` and `--volumes-from NAME[:MODE]`."""
    joins: list[Join] = []
    for flag in NAMESPACE_FLAGS:
        value = (invocation.opt(flag) or "").strip()
        # The engine reads only `container:`; any case is caught so no spelling slips past.
        if value.lower().startswith("container:"):
            joins.append(Join(flag, value.split(":", 1)[1].strip(),
                              f"--{flag} {value}"))
    for value in invocation.opt("volumes_from") or ():
        joins.append(Join("volumes_from", value.split(":", 1)[0].strip(),
                          f"--volumes-from {value}"))
    for join in joins:
        if not join.container:
            raise UsageError(f"`{join.typed}` names no container.",
                             detail="Example: --network container:web")
    return joins


_NEVER_JOINED = ("`allow_join_containers = true` under [run] allows joining ordinary containers "
                 "only: never one that is privileged, shares a host namespace, mounts the "
                 "Docker socket (or /run, /var/run) or is dockops itself.")


def _dangers(target: ContainerPrivileges) -> list[str]:
    """What makes a container a way to the host, each as a clause ('it is privileged')."""
    found = []
    if target.is_self:
        found.append("it is dockops's own container, which holds the Docker socket")
    if target.privileged:
        found.append("it is privileged")
    if target.host_namespaces:
        found.append(f"it shares the host's {', '.join(target.host_namespaces)} namespace"
                     f"{'s' if len(target.host_namespaces) > 1 else ''}")
    if target.mounts_docker_socket:
        found.append("it mounts the Docker socket or a host path under /run or /var/run")
    return found


def check_join(join: Join, target: ContainerPrivileges, run: RunPolicyConfig) -> None:
    """Refuse joining a container that would hand the host over (after allow_join_containers)."""
    dangers = _dangers(target)
    if dangers:
        raise RefusedError(f"`{join.typed}` is refused by the run policy: {dangers[0]}.",
                           detail=_NEVER_JOINED)
    if join.reaches_files:
        for source in target.bind_sources:
            why = bind_problem(source, run.bind_mounts)
            if why:
                raise _run_refused(f"`{join.typed}`", f"`{target.name}` binds `{source}` and {why}",
                                   "bind_mounts")


_ADMIN_ONLY = ("Ask an admin (listed under [access.roles] admin in the dockops config) to run "
               "it.")


def check_exec(target: ContainerPrivileges, role: Role, run: RunPolicyConfig,
               verb: str = "exec") -> None:
    """`exec` into (or `recreate` of) a container that reaches the host (or outside
    bind_mounts) is admin-only."""
    if role >= Role.ADMIN:
        return
    reasons = _dangers(target)
    if target.devices and not run.allow_devices:
        reasons.append("it has host devices")
    allowed = {_capability(cap) for cap in run.allow_cap_add}
    extra = [cap for cap in target.cap_add if _capability(cap) not in allowed]
    if extra and "ALL" not in allowed:
        reasons.append(f"it has added capabilities ({', '.join(extra)})")
    for source in target.bind_sources:
        why = bind_problem(source, run.bind_mounts)
        if why:
            reasons.append(f"its bind mount `{source}` fails the bind rule: {why}")
            break
    if reasons:
        raise RefusedError(f"`{verb} {target.name}` is admin-only: {reasons[0]}.",
                           detail=_ADMIN_ONLY)


def check_start(target: ContainerPrivileges, role: Role, run: RunPolicyConfig,
                verb: str = "start") -> None:
    """Re-check an existing container's bind sources before the engine resolves them again.

    A source that has become a symlink, or that was never under bind_mounts (a container
    made outside dockops), would let the container reach the rest of the host: admin-only.
    """
    if role >= Role.ADMIN:
        return
    for source in target.bind_sources:
        why = bind_problem(source, run.bind_mounts)
        if why:
            raise RefusedError(
                f"`{verb} {target.name}` is refused by the run policy: its bind mount "
                f"`{source}` is checked again at every start, and {why}.",
                detail="Nothing was started. An admin can start it, or list the real directory "
                       "in `bind_mounts` under [run] in the dockops config.")


def check_auto_restart(invocation: Invocation, role: Role) -> None:
    """Operators: no restart policy on a container with bind mounts.

    The engine restarts such a container by itself (and at every daemon start), resolving
    the bind sources again where dockops cannot re-check them.
    """
    if role >= Role.ADMIN:
        return
    restart = invocation.opt("restart")
    policy = str(restart) if restart is not None else "no"
    binds = [f"-v {v.text}" for v in invocation.opt("volume") or () if v.is_bind]
    binds += [f"--mount {m.text}" for m in invocation.opt("mount") or () if m.type == "bind"]
    binds += [f"--volumes-from {name}" for name in invocation.opt("volumes_from") or ()]
    if policy != "no" and binds:
        raise RefusedError(
            f"`--restart {policy}` with `{binds[0]}` is refused by the run policy for operators: "
            "the engine would restart it by itself, re-reading the bind source without dockops "
            "checking it again.",
            detail="Use `--restart no` and `/docker start` (which re-checks `bind_mounts` under "
                   "[run]), or ask an admin.")
