"""What network and volume commands may do to the host, under the same [run] rules as `run`.

A local volume with `-o type=none -o o=bind -o device=/etc` is a bind mount made in advance:
every container that mounts it by name gets /etc. Other mount types reach host block devices
(`type=ext4,device=/dev/sda1`), remote shares (nfs, cifs) or host directories through
overlay's `lowerdir=`. Only tmpfs and binds under `[run] bind_mounts` pass. Networks with
the host, macvlan or ipvlan drivers put containers on the host's own network: they follow
`allow_host_namespaces`, as `run --network host` does.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.config import RunPolicyConfig
from bot.errors import RefusedError
from bot.policy.binds import NOT_ABSOLUTE, OUTSIDE_ROOTS, bind_problem

HOST_DRIVERS = frozenset({"host", "macvlan", "ipvlan"})
# Networks whose members share the host's (or no) network stack: `host` and `none`.
HOST_NETWORK_DRIVERS = frozenset({"host", "null"})
_BIND_FLAGS = frozenset({"bind", "rbind"})
_ADMIN_SETTING = "An admin can allow it with `{}` under [run] in the dockops config."


def _mount_flags(options: Mapping[str, str]) -> set[str]:
    return {word.strip().lower() for word in options.get("o", "").split(",")}


def check_volume_create(driver: str | None, options: Mapping[str, str],
                        run: RunPolicyConfig) -> None:
    """Refuse a `volume create` whose options would mount host paths or devices."""
    if driver not in (None, "", "local"):
        raise RefusedError(f"`volume create --driver {driver}` is refused: only the `local` "
                           "driver is allowed, as other drivers decide for themselves what they "
                           "mount. Nothing was created.",
                           detail="Create the volume without --driver, or on the host.")
    unknown = sorted(set(options) - {"type", "o", "device"})
    if unknown:
        raise RefusedError(f"`volume create -o {unknown[0]}=...` is not a local driver option "
                           "(type, o, device). Nothing was created.")
    if not options:
        return
    mount_type = options.get("type", "").strip().lower()
    device = options.get("device", "")
    if _mount_flags(options) & _BIND_FLAGS:
        typed = f"volume create -o o={options.get('o', '')} -o device={device}"
        why = bind_problem(device, run.bind_mounts)
        if why in (NOT_ABSOLUTE, OUTSIDE_ROOTS):
            raise RefusedError(
                f"`{typed}` is a bind mount of the host path `{device}` and is refused by the run "
                f"policy: {why}. Nothing was created.",
                detail=_ADMIN_SETTING.format(f'bind_mounts = ["{device}"]' if device.startswith("/")
                                             else "bind_mounts"))
        if why:
            raise RefusedError(f"`{typed}` is refused by the run policy: {why}. Nothing was "
                               "created.",
                               detail="Bind the real, existing directory under one of "
                                      "`bind_mounts` under [run] in the dockops config.")
        return
    if mount_type == "tmpfs" and device.strip() in ("", "tmpfs"):
        return
    raise RefusedError(
        f"`volume create -o type={options.get('type', '')}` is refused by the run policy: a local "
        "volume other than tmpfs or an allowed bind would mount a host device, share or "
        "directory. Nothing was created.",
        detail="Use a plain volume (no -o), `-o type=tmpfs -o device=tmpfs`, or a bind under "
               "[run] bind_mounts (`-o type=none -o o=bind -o device=/allowed/dir`).")


def check_network_driver(driver: str | None, run: RunPolicyConfig) -> None:
    """`network create --driver host|macvlan|ipvlan` joins the host's network: as `--network host`."""
    if (driver or "").strip().lower() in HOST_DRIVERS and not run.allow_host_namespaces:
        raise RefusedError(
            f"`network create --driver {driver}` is refused by the run policy: its containers "
            "would sit on the host's own network. Nothing was created.",
            detail=_ADMIN_SETTING.format("allow_host_namespaces = true"))


def check_network_join(network: str, driver: str, run: RunPolicyConfig) -> None:
    """`network connect` into the `host` or `none` network follows `allow_host_namespaces`."""
    if driver in HOST_NETWORK_DRIVERS and not run.allow_host_namespaces:
        raise RefusedError(
            f"`network connect {network}` is refused by the run policy: containers do not join "
            "the host's network namespace (or none). Nothing was changed.",
            detail=_ADMIN_SETTING.format("allow_host_namespaces = true"))


def check_own_container(verb: str, container: str, is_self: bool) -> None:
    """dockops's own container holds the Docker socket: its networks are not changed from Slack."""
    if is_self:
        raise RefusedError(f"`network {verb}` of `{container}` is refused: it is dockops's own "
                           "container, which holds the Docker socket. Nothing was changed.",
                           detail="Change its networks on the host.")


def check_named_volumes(options: Mapping[str, Mapping[str, str]], run: RunPolicyConfig) -> None:
    """A named volume mounted by `run -v NAME:/path` (or started again) whose local-driver
    options bind a host path: the same rule as creating it (`volume_options` reads them)."""
    for name, opts in options.items():
        if _mount_flags(opts) & _BIND_FLAGS or opts.get("type", "").lower() not in ("", "tmpfs"):
            try:
                check_volume_create("local", opts, run)
            except RefusedError as exc:
                raise RefusedError(f"Volume `{name}` mounts a host path or device: "
                                   f"{exc.message}".replace(" Nothing was created.", "")
                                   + " Nothing was started.", detail=exc.detail) from None
