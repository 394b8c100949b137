"""Container lifecycle: run, start, stop, restart, kill, rm, exec. Each named after its CLI verb.

`run` receives a RunRequest already read and checked (its options were converted when the
command was parsed, bot/commands/kinds.py); here it only becomes create + start calls.
"""

from __future__ import annotations

import contextlib
import dataclasses
import posixpath
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker.errors
import requests

from bot.commands.values import MountSpec, Pair, PortSpec, RestartSpec, RunRequest
from bot.engine.client import Engine
from bot.engine.containers import format_ports
from bot.engine.results import Attached, Done, ExecResult, Started, Target
from bot.engine.streams import StreamReader, open_attach
from bot.engine.translate import engine_call, running_rm_message
from bot.errors import DockopsError, EngineError, NoSuchContainer

# Output kept from an attached run or exec: the tail, the rest is said to be cut.
KEEP_OUTPUT_CHARS = 1_000_000


# -- run: a ready RunRequest into create + start ---------------------------------------------

def _binding(port: PortSpec) -> Any:
    """docker-py's port_bindings value for one `-p`."""
    if port.host_ip:
        return (port.host_ip, port.host_port) if port.host_port else (port.host_ip,)
    return port.host_port


def _mount(mount: MountSpec) -> dict[str, Any]:
    """One `--mount` as the engine's HostConfig.Mounts entry."""
    api: dict[str, Any] = {"Type": mount.type, "Source": mount.source or None,
                           "Target": mount.target, "ReadOnly": mount.read_only}
    if mount.type == "bind" and "bind-propagation" in mount.options:
        api["BindOptions"] = {"Propagation": mount.options["bind-propagation"]}
    if mount.type == "volume" and mount.options.get("volume-nocopy", "false") != "false":
        api["VolumeOptions"] = {"NoCopy": True}
    if mount.type == "tmpfs" and mount.tmpfs_size is not None:
        api["TmpfsOptions"] = {"SizeBytes": mount.tmpfs_size}
    return api


def _restart(policy: RestartSpec) -> dict[str, Any]:
    return {"Name": "" if policy.name == "no" else policy.name,
            "MaximumRetryCount": policy.max_retries}


def _host_config(engine: Engine, req: RunRequest) -> dict[str, Any]:
    bindings: dict[str, list[Any]] = {}
    for port in req.ports:
        bindings.setdefault(port.key, []).append(_binding(port))
    config: dict[str, Any] = {
        "port_bindings": {k: v if len(v) > 1 else v[0] for k, v in bindings.items()} or None,
        "binds": [v.bind_string for v in req.volumes if v.source is not None] or None,
        "mounts": [_mount(m) for m in req.mounts] or None,
        "auto_remove": req.remove,
        "restart_policy": _restart(req.restart) if req.restart else None,
        "network_mode": req.network,
        "mem_limit": req.memory,
        "nano_cpus": req.nano_cpus,
        "privileged": req.privileged,
        "cap_add": list(req.cap_add) or None,
        "devices": list(req.devices) or None,
        "pid_mode": req.pid,
        "ipc_mode": req.ipc,
        "uts_mode": req.uts,
        "volumes_from": list(req.volumes_from) or None,
        "security_opt": list(req.security_opt) or None,
    }
    return engine.api.create_host_config(**{k: v for k, v in config.items() if v is not None})


def _create(engine: Engine, req: RunRequest) -> str:
    """Create the container (never pulls); its ID."""
    anonymous = [v.target for v in req.volumes if v.source is None]
    created = engine.api.create_container(
        req.image, list(req.command) or None, name=req.name, hostname=req.hostname,
        user=req.user, environment=[str(pair) for pair in req.env] or None,
        labels=dict(req.labels) or None,
        ports=[(p.container_port, p.protocol) for p in req.ports] or None,
        volumes=anonymous or None, working_dir=req.workdir,
        entrypoint=[req.entrypoint] if req.entrypoint is not None else None,
        detach=req.detach, host_config=_host_config(engine, req),
    )
    return created["Id"]


def _discard(engine: Engine, container_id: str) -> None:
    """Remove a container that never started, so a failed run leaves nothing behind."""
    with contextlib.suppress(docker.errors.NotFound):  # auto-removed already
        engine.api.remove_container(container_id, force=True, v=True)


def _name_of(engine: Engine, container_id: str) -> str:
    return engine.api.inspect_container(container_id)["Name"].lstrip("/")


@engine_call
def image_present(engine: Engine, image: str) -> bool:
    """Whether the engine has `image` locally (a run of one it lacks pulls it first)."""
    try:
        engine.api.inspect_image(image)
    except docker.errors.NotFound:
        return False
    return True


@engine_call
def run_detached(engine: Engine, req: RunRequest) -> Started:
    """`docker run -d`: create, start (removing the container if start fails), read back ports."""
    container_id = _create(engine, req)
    try:
        name = _name_of(engine, container_id)
        engine.api.start(container_id)
    except BaseException:
        _discard(engine, container_id)
        raise
    listed = engine.api.containers(all=True, filters={"id": container_id})
    ports = format_ports(listed[0].get("Ports") or ()) if listed else ()
    return Started(container_id, name, ports, req.remove)


class _ExitWaiter:
    """`POST /containers/ID/wait?condition=next-exit`, registered before the container starts.

    The engine answers the headers once the waiter is registered and the body when the
    container exits, so even a container that exits at once (and is auto-removed) reports
    its exit code.
    """

    def __init__(self, engine: Engine, container_id: str, seconds: float,
                 condition: str = "next-exit") -> None:
        api = engine.api
        url = f"{api.base_url}/v{api.api_version}/containers/{container_id}/wait"
        self.seconds = seconds
        self.response = api.post(url, params={"condition": condition}, stream=True,
                                 timeout=(engine.timeout, max(seconds, 0.1)))
        try:
            self.response.raise_for_status()
        except requests.exceptions.HTTPError as exc:
            self.response.close()
            raise docker.errors.create_api_error_from_http_exception(exc) from None

    def exit_code(self, started: float) -> int | None:
        """The exit code, or None when the container is still running after `seconds`."""
        try:
            body = self.response.json()
        except requests.exceptions.RequestException:
            if time.monotonic() - started < self.seconds - 0.5:
                raise  # the engine went away: not a timeout
            return None
        finally:
            self.response.close()
        return int(body.get("StatusCode", -1))


def _attach_and_wait(engine: Engine, container_id: str, name: str, seconds: float, *,
                     start: bool, removed_on_exit: bool) -> Attached:
    started = time.monotonic()
    # Attach and register the wait before starting: no output and no exit can be missed.
    reader = StreamReader(open_attach(engine, container_id), name, KEEP_OUTPUT_CHARS).start()
    try:
        # Like the CLI: with --rm, answer once the engine has removed it, not just at exit.
        waiter = _ExitWaiter(engine, container_id, seconds,
                             "removed" if removed_on_exit else "next-exit")
    except BaseException:
        reader.close()
        raise
    try:
        if start:
            engine.api.start(container_id)
        code = waiter.exit_code(started)
    except BaseException:
        waiter.response.close()
        reader.close()
        raise
    if code is not None:
        reader.wait(5)  # the last output can trail the exit by a moment
    reader.close()
    return Attached(container_id, name, code, reader.buffer.text(), reader.buffer.truncated,
                    time.monotonic() - started, removed_on_exit)


@engine_call
def run_attached(engine: Engine, req: RunRequest, *, wait_seconds: float) -> Attached:
    """`docker run` without -d: output and exit code, or still running after `wait_seconds`."""
    container_id = _create(engine, req)
    try:
        name = _name_of(engine, container_id)
        return _attach_and_wait(engine, container_id, name, wait_seconds, start=True,
                                removed_on_exit=req.remove)
    except BaseException:
        if not _is_running(engine, container_id):
            _discard(engine, container_id)
        raise


def _is_running(engine: Engine, container_id: str) -> bool:
    try:
        return bool(engine.api.inspect_container(container_id)["State"]["Running"])
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return False


@engine_call
def start_attached(engine: Engine, container: str, *, wait_seconds: float) -> Attached:
    """`docker start -a`: start and report like an attached run."""
    details = engine.api.inspect_container(container)
    auto_remove = bool((details.get("HostConfig") or {}).get("AutoRemove"))
    return _attach_and_wait(engine, details["Id"], details["Name"].lstrip("/"), wait_seconds,
                            start=True, removed_on_exit=auto_remove)


# -- one verb on several containers ---------------------------------------------------------

def each(names: Iterable[str], action: Callable[[str], str | None], *, parallel: int = 8
         ) -> list[Done]:
    """Apply `action` to every name (in parallel, as the CLI does), one Done per name, in order.

    `action` returns an optional detail line; an error stops only its own name.
    """
    def one(name: str) -> Done:
        try:
            return Done(name, True, detail=action(name) or "")
        except DockopsError as exc:
            return Done(name, False, exc.message)

    names = list(names)
    if len(names) == 1:
        return [one(names[0])]
    with ThreadPoolExecutor(max_workers=min(parallel, len(names))) as pool:
        return list(pool.map(one, names))


@engine_call
def start(engine: Engine, container: str) -> None:
    engine.api.start(container)


@engine_call
def stop(engine: Engine, container: str, *, timeout: int | None = None) -> None:
    engine.api.stop(container, timeout=timeout)


@engine_call
def restart(engine: Engine, container: str, *, timeout: int | None = None) -> None:
    engine.api.restart(container, timeout=10 if timeout is None else timeout)


@engine_call
def kill(engine: Engine, container: str, *, signal: str | None = None) -> None:
    engine.api.kill(container, signal=signal)


@engine_call
def remove(engine: Engine, container: str, *, force: bool = False, volumes: bool = False) -> None:
    """`docker rm`: the seed's sentence (stop it first or -f) names the container typed."""
    try:
        engine.api.remove_container(container, force=force, v=volumes)
    except docker.errors.APIError as exc:
        if exc.status_code == 409 and "running container" in (exc.explanation or ""):
            raise EngineError(running_rm_message(container)) from None
        raise


# -- finding containers by name (previews) -----------------------------------------------------

@engine_call
def find_for_signal(engine: Engine, names: Iterable[str]) -> list[Target]:
    """`find`, plus what decides a stop/kill's outcome: `--rm` and `--stop-timeout` (one
    inspect each, for a preview)."""
    targets = []
    for target in find(engine, names):
        try:
            raw = engine.api.inspect_container(target.id)
        except docker.errors.NotFound:
            continue  # gone since the list: the verb itself will say so
        timeout = (raw.get("Config") or {}).get("StopTimeout")
        targets.append(dataclasses.replace(
            target, auto_remove=bool((raw.get("HostConfig") or {}).get("AutoRemove")),
            stop_timeout=int(timeout) if timeout is not None else None))
    return targets


@engine_call
def find(engine: Engine, names: Iterable[str]) -> list[Target]:
    """Resolve names (or ID prefixes) with ONE list call; EngineError names any that is missing."""
    rows = engine.api.containers(all=True)
    found: list[Target] = []
    missing: list[str] = []
    for typed in names:
        bare = typed.lstrip("/")
        match = next((r for r in rows if bare in (n.lstrip("/") for n in r.get("Names") or ())),
                     None)
        if match is None and re.fullmatch(r"[0-9a-f]{1,64}", bare):
            by_id = [r for r in rows if r["Id"].startswith(bare)]
            match = by_id[0] if len(by_id) == 1 else None
        if match is None:
            missing.append(typed)
            continue
        names_of = match.get("Names") or ["/" + match["Id"][:12]]
        found.append(Target(typed, match["Id"], names_of[0].lstrip("/"), match.get("Image", ""),
                            match.get("State", ""), match.get("Status", "")))
    if missing:
        listed = ", ".join(f"`{m}`" for m in missing)
        raise NoSuchContainer(f"No such container: {listed}. Nothing was done.",
                              detail="`/docker ps -a` lists the containers.")
    return found


# -- exec ---------------------------------------------------------------------------------

@engine_call
def exec_run(engine: Engine, container: str, command: Iterable[str], *,
             env: Iterable[Pair] = (), workdir: str | None = None, user: str | None = None,
             detach: bool = False, wait_seconds: float = 60) -> ExecResult:
    """`docker exec` without a terminal: output and exit code, bounded by `wait_seconds`."""
    cmd = list(command)
    created = engine.api.exec_create(container, cmd, stdout=True, stderr=True,
                                     environment=[str(pair) for pair in env] or None,
                                     workdir=workdir,
                                     user=user or "")
    exec_id = created["Id"]
    if detach:
        engine.api.exec_start(exec_id, detach=True)
        return ExecResult(container, tuple(cmd), None, detached=True)
    stream = engine.api.exec_start(exec_id, stream=True)
    reader = StreamReader(stream, f"exec-{container}", KEEP_OUTPUT_CHARS).start()
    finished = reader.wait(wait_seconds)
    reader.close()
    code = _exec_exit_code(engine, exec_id) if finished else None
    return ExecResult(container, tuple(cmd), code, reader.buffer.text(), reader.buffer.truncated)


def _exec_exit_code(engine: Engine, exec_id: str) -> int | None:
    """The exit code once the engine marks the exec finished (a moment after its output ends)."""
    deadline = time.monotonic() + 3
    while True:
        info = engine.api.exec_inspect(exec_id)
        if not info.get("Running") or time.monotonic() > deadline:
            code = info.get("ExitCode")
            return None if info.get("Running") else int(code if code is not None else -1)
        time.sleep(0.02)


def normalize_path(path: str) -> str:
    """A container path with `..` and `//` collapsed."""
    return posixpath.normpath(path) if path else path
