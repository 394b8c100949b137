"""Recreate a container on a newer image with the same config, and roll back if it won't run.

The new container gets the old one's name, env, ports, mounts, labels, networks and
restart policy. Settings the old *image* supplied (its CMD, ENV, labels...) are left
to the new image, as `docker compose up` does; what the user set is kept. A container Compose
made stays Compose's (bot/engine/compose.py): same labels, name, networks and aliases, and a
config hash that makes `docker-compose up -d` see it as current.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

import docker.errors

from bot.engine import compose
from bot.engine.client import Engine
from bot.engine.translate import engine_call, translate
from bot.errors import DockopsError

# Config keys whose value came from the image unless the user changed it.
_IMAGE_DEFAULTS = ("Cmd", "Entrypoint", "WorkingDir", "User", "Healthcheck", "StopSignal")
_LIST_DEFAULTS = ("Env",)
_DICT_DEFAULTS = ("Labels", "ExposedPorts", "Volumes")
_DEFAULT_NETWORKS = ("default", "bridge", "host", "none", "")


@dataclass(frozen=True)
class RecreateResult:
    """How one container's recreation went."""

    container: str
    old_image_id: str
    new_image_id: str
    ok: bool
    rolled_back: bool = False
    reason: str = ""
    log_tail: str = ""
    started: bool = True
    note: str = ""  # what the user should know although it worked (Compose will recreate it)


def create_config(old: dict[str, Any], old_image: dict[str, Any], ref: str) -> dict[str, Any]:
    """The old container's create config on `ref`, minus what the old image supplied."""
    config = dict(old.get("Config") or {})
    defaults = old_image.get("Config") or {}
    config["Image"] = ref
    for key in _IMAGE_DEFAULTS:
        if key in config and config[key] == defaults.get(key):
            config.pop(key)
    for key in _LIST_DEFAULTS:
        inherited = set(defaults.get(key) or ())
        config[key] = [item for item in config.get(key) or () if item not in inherited]
    for key in _DICT_DEFAULTS:
        given = defaults.get(key) or {}
        config[key] = {k: v for k, v in (config.get(key) or {}).items()
                       if k not in given or given[k] != v}
    if config.get("Hostname") == old["Id"][:12]:
        config.pop("Hostname")  # the engine's generated hostname, not the user's
    config.pop("OnBuild", None)
    config["HostConfig"] = _host_config(old)
    primary = _primary_network(old)
    if primary:
        config["NetworkingConfig"] = {"EndpointsConfig": {primary[0]: _endpoint(primary[1], old)}}
    return config


def _host_config(old: dict[str, Any]) -> dict[str, Any]:
    """The old HostConfig, plus its anonymous volumes so their data moves with it."""
    host = dict(old.get("HostConfig") or {})
    binds = list(host.get("Binds") or [])
    taken = {b.split(":")[1] for b in binds if ":" in b}
    taken |= {m.get("Target") for m in host.get("Mounts") or []}
    for mount in old.get("Mounts") or []:
        if mount.get("Type") == "volume" and mount.get("Destination") not in taken:
            mode = "" if mount.get("RW", True) else ":ro"
            binds.append(f"{mount['Name']}:{mount['Destination']}{mode}")
    host["Binds"] = binds or None
    return host


def _networks(old: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return (old.get("NetworkSettings") or {}).get("Networks") or {}


def _primary_network(old: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The network named by NetworkMode when it is a user network (API 1.41: one at create)."""
    mode = (old.get("HostConfig") or {}).get("NetworkMode") or ""
    if mode in _DEFAULT_NETWORKS or mode.startswith("container:"):
        return None
    return mode, _networks(old).get(mode) or {}


def _endpoint(settings: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    aliases = [a for a in settings.get("Aliases") or () if not old["Id"].startswith(a)]
    endpoint: dict[str, Any] = {"Aliases": aliases or None}
    if settings.get("IPAMConfig"):
        endpoint["IPAMConfig"] = settings["IPAMConfig"]
    if settings.get("Links"):
        endpoint["Links"] = settings["Links"]
    return endpoint


def _connect_others(engine: Engine, new_id: str, old: dict[str, Any]) -> None:
    primary = _primary_network(old)
    mode = (old.get("HostConfig") or {}).get("NetworkMode") or ""
    for name, settings in _networks(old).items():
        if (primary and name == primary[0]) or name == mode or name in ("bridge", "host", "none"):
            continue
        endpoint = _endpoint(settings, old)
        ipam = endpoint.get("IPAMConfig") or {}
        engine.api.connect_container_to_network(
            new_id, name, aliases=endpoint["Aliases"], links=endpoint.get("Links"),
            ipv4_address=ipam.get("IPv4Address"), ipv6_address=ipam.get("IPv6Address"))


def wait_until_up(engine: Engine, container_id: str, *, timeout: float,
                  settle: float = 2.0) -> str:
    """'' once the container has run `settle` seconds (and is healthy, if it has a check).

    Otherwise the reason it is not: exited, restarting, unhealthy, or the deadline.
    """
    deadline = time.monotonic() + timeout
    up_since: float | None = None
    while True:
        state = engine.api.inspect_container(container_id)
        status = state.get("State") or {}
        if status.get("Status") in ("exited", "dead"):
            return f"it exited with code {status.get('ExitCode')}"
        if status.get("Restarting") or (state.get("RestartCount") or 0) > 0:
            return "it keeps restarting"
        health = (status.get("Health") or {}).get("Status")
        if health == "unhealthy":
            return "its healthcheck reports unhealthy"
        now = time.monotonic()
        if status.get("Running"):
            up_since = up_since or now
            if now - up_since >= settle and health in (None, "healthy"):
                return ""
        if now > deadline:
            waiting = "healthy" if health == "starting" else "running"
            return f"it was not {waiting} within {timeout:g}s"
        time.sleep(0.2)


def _tail(engine: Engine, container_id: str) -> str:
    try:
        return engine.api.logs(container_id, tail=20).decode("utf-8", "replace")
    except docker.errors.DockerException:
        return ""


def _remove_quietly(engine: Engine, container_id: str) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        engine.api.remove_container(container_id, force=True)


@engine_call
def recreate(engine: Engine, container: str, ref: str, *, timeout: float = 60.0,
             settle: float = 2.0, stop_timeout: int | None = None) -> RecreateResult:
    """Replace `container` by one on `ref` (already pulled); roll back when it does not run.

    `stop_timeout` None stops the old container as `docker stop` does: its own StopTimeout.
    """
    old = engine.api.inspect_container(container)
    name = old["Name"].lstrip("/")
    old_image = engine.api.inspect_image(old["Image"])
    new_image_id = engine.api.inspect_image(ref)["Id"]
    config = create_config(old, old_image, ref)
    note = ""
    if compose.is_compose(config.get("Labels") or {}):
        relabelled = compose.relabel(engine, config["Labels"], ref, new_image_id)
        config["Labels"], note = relabelled.labels, relabelled.note
    was_running = bool((old.get("State") or {}).get("Running"))
    parked = f"{name}-dockops-old-{int(time.time())}"
    if was_running:
        engine.api.stop(old["Id"], timeout=stop_timeout)
    engine.api.rename(old["Id"], parked)
    new_id = ""
    try:
        new_id = engine.api.create_container_from_config(config, name=name)["Id"]
        _connect_others(engine, new_id, old)
        if was_running:
            engine.api.start(new_id)
            reason = wait_until_up(engine, new_id, timeout=timeout, settle=settle)
        else:
            reason = ""
    except (docker.errors.DockerException, DockopsError) as exc:
        reason = f"the engine refused it: {translate(engine.display_url, exc).message}"
    if not reason:
        engine.api.remove_container(old["Id"], v=False)
        return RecreateResult(name, old["Image"], new_image_id, ok=True, started=was_running,
                              note=note)
    tail = _tail(engine, new_id) if new_id else ""
    if new_id:
        _remove_quietly(engine, new_id)
    engine.api.rename(old["Id"], name)
    if was_running:
        engine.api.start(old["Id"])
    return RecreateResult(name, old["Image"], new_image_id, ok=False, rolled_back=True,
                          reason=reason, log_tail=tail, started=was_running)


@dataclass(frozen=True)
class CleanupResult:
    """What happened to the image a recreate replaced: removed, or why it stays."""

    image_id: str
    removed: bool
    reason: str = ""  # why it stays: still tagged, still used, or the engine's sentence


@engine_call
def remove_superseded(engine: Engine, image_id: str) -> CleanupResult:
    """Remove an image nothing uses or names any more; never forced."""
    try:
        image = engine.api.inspect_image(image_id)
    except docker.errors.ImageNotFound:
        return CleanupResult(image_id, removed=False, reason="it is already gone")
    tags = [tag for tag in image.get("RepoTags") or () if tag != "<none>:<none>"]
    if tags:
        return CleanupResult(image_id, removed=False,
                             reason=f"it is still tagged {', '.join(sorted(tags)[:3])}")
    users = [(row.get("Names") or ["/?"])[0].lstrip("/")
             for row in engine.api.containers(all=True) if row.get("ImageID") == image["Id"]]
    if users:
        return CleanupResult(image_id, removed=False,
                             reason=f"container {', '.join(sorted(users)[:3])} still uses it")
    try:
        engine.api.remove_image(image["Id"], force=False, noprune=False)
    except docker.errors.ImageNotFound:
        return CleanupResult(image_id, removed=False, reason="it is already gone")
    except docker.errors.APIError as exc:
        return CleanupResult(image_id, removed=False,
                             reason=translate(engine.display_url, exc).message)
    return CleanupResult(image_id, removed=True)
