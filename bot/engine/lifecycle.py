"""Container lifecycle: run, start, stop, restart, kill, rm, exec. Each named after its CLI verb.

`docker run` options are read here from CLI syntax (`-p 127.0.0.1:8080:80/udp`,
`-v data:/srv:ro`, `--restart on-failure:3`) into a RunRequest, so a mistake is a
UsageError before anything reaches the engine.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import docker.errors
import requests

from bot.engine.client import Engine
from bot.engine.containers import format_ports
from bot.engine.streams import StreamReader, open_attach
from bot.engine.translate import engine_call, running_rm_message
from bot.errors import DockopsError, EngineError, UsageError

# Output kept from an attached run or exec: the tail, the rest is said to be cut.
KEEP_OUTPUT_CHARS = 1_000_000
_VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_RESTART = re.compile(r"^(no|always|unless-stopped|on-failure)(?::(\d+))?$")
_MEMORY = re.compile(r"^\d+(\.\d+)?[bkmg]?$", re.I)


# -- reading run options -------------------------------------------------------------------

@dataclass(frozen=True)
class PortSpec:
    """One `-p [IP:][HOST:]CONTAINER[/PROTO]`; host_port None = any free port."""

    container_port: int
    protocol: str = "tcp"
    host_ip: str | None = None
    host_port: int | None = None

    @property
    def key(self) -> str:
        return f"{self.container_port}/{self.protocol}"

    @property
    def binding(self) -> Any:
        if self.host_ip:
            return (self.host_ip, self.host_port) if self.host_port else (self.host_ip,)
        return self.host_port


def _port_number(text: str, spec: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UsageError(f"Invalid port {text!r} in `-p {spec}`: ports are numbers from 1 to 65535.",
                         detail="Examples: -p 8080:80, -p 127.0.0.1:8080:80, -p 53:53/udp")
    return int(text)


def parse_publish(spec: str) -> PortSpec:
    """`-p` as the CLI reads it: `80`, `8080:80`, `127.0.0.1:8080:80`, `127.0.0.1::80`, `/udp`."""
    body, _, protocol = spec.partition("/")
    protocol = protocol.lower() or "tcp"
    if protocol not in ("tcp", "udp", "sctp"):
        raise UsageError(f"Invalid protocol {protocol!r} in `-p {spec}`: use tcp, udp or sctp.")
    if "-" in body:
        raise UsageError(f"Port ranges (`-p {spec}`) are not supported from Slack.",
                         detail="Publish each port with its own -p.")
    ip: str | None = None
    if body.startswith("["):  # [::1]:8080:80
        ip, sep, body = body[1:].partition("]")
        if not sep or not body.startswith(":"):
            raise UsageError(f"Invalid address in `-p {spec}`.", detail="Example: -p [::1]:8080:80")
        body = body[1:]
        parts = body.split(":")
    else:
        parts = body.split(":")
        if len(parts) == 3:
            ip = parts.pop(0)
    if len(parts) == 1:
        return PortSpec(_port_number(parts[0], spec), protocol, ip or None, None)
    if len(parts) == 2:
        host = _port_number(parts[0], spec) if parts[0] else None
        return PortSpec(_port_number(parts[1], spec), protocol, ip or None, host)
    raise UsageError(f"Cannot read `-p {spec}`.",
                     detail="Use [IP:]HOST_PORT:CONTAINER_PORT[/udp], e.g. -p 127.0.0.1:8080:80")


@dataclass(frozen=True)
class VolumeSpec:
    """One `-v`: a named volume, an anonymous volume (no source) or a host path (a bind)."""

    source: str | None
    target: str
    mode: str = ""

    @property
    def is_bind(self) -> bool:
        return self.source is not None and not _VOLUME_NAME.match(self.source)

    @property
    def bind_string(self) -> str:
        return f"{self.source}:{self.target}" + (f":{self.mode}" if self.mode else "")


def parse_volume(spec: str) -> VolumeSpec:
    """`-v [SOURCE:]/container/path[:ro|rw|...]`."""
    parts = spec.split(":")
    if len(parts) == 1:
        source, target, mode = None, parts[0], ""
    elif len(parts) == 2:
        if parts[1].startswith("/"):
            source, target, mode = parts[0], parts[1], ""
        else:
            source, target, mode = None, parts[0], parts[1]
    elif len(parts) == 3:
        source, target, mode = parts
    else:
        raise UsageError(f"Cannot read `-v {spec}`.",
                         detail="Use -v VOLUME:/path[:ro], e.g. -v data:/srv/data")
    if not target.startswith("/"):
        raise UsageError(f"`-v {spec}`: the path inside the container must be absolute.",
                         detail="Example: -v data:/srv/data")
    if source == "":
        raise UsageError(f"`-v {spec}`: the volume name is empty.")
    return VolumeSpec(source, target, mode)


@dataclass(frozen=True)
class MountSpec:
    """One `--mount type=...,source=...,target=...[,readonly]`."""

    type: str
    target: str
    source: str = ""
    read_only: bool = False
    options: Mapping[str, str] = field(default_factory=dict)

    def as_api(self) -> dict[str, Any]:
        mount: dict[str, Any] = {"Type": self.type, "Source": self.source or None,
                                 "Target": self.target, "ReadOnly": self.read_only}
        if self.type == "bind" and "bind-propagation" in self.options:
            mount["BindOptions"] = {"Propagation": self.options["bind-propagation"]}
        if self.type == "volume" and self.options.get("volume-nocopy", "false") != "false":
            mount["VolumeOptions"] = {"NoCopy": True}
        if self.type == "tmpfs" and "tmpfs-size" in self.options:
            mount["TmpfsOptions"] = {"SizeBytes": parse_memory(self.options["tmpfs-size"])}
        return mount


_MOUNT_KEYS = {"type", "source", "src", "target", "destination", "dst", "readonly", "ro",
               "bind-propagation", "volume-nocopy", "volume-driver", "volume-opt", "tmpfs-size",
               "consistency"}


def parse_mount(spec: str) -> MountSpec:
    """`--mount` as the CLI reads it (comma-separated key=value)."""
    values: dict[str, str] = {}
    for item in spec.split(","):
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if key not in _MOUNT_KEYS:
            raise UsageError(f"Unknown `--mount` key {key!r} in `{spec}`.",
                             detail="Keys: type, source, target, readonly, bind-propagation, "
                                    "volume-nocopy, tmpfs-size.")
        values[key] = value if eq else "true"
    kind = values.pop("type", "volume")
    if kind not in ("volume", "bind", "tmpfs"):
        raise UsageError(f"`--mount type={kind}` is not supported: use volume, bind or tmpfs.")
    target = values.pop("target", "") or values.pop("destination", "") or values.pop("dst", "")
    if not target.startswith("/"):
        raise UsageError(f"`--mount {spec}` needs an absolute target=/path inside the container.")
    source = values.pop("source", "") or values.pop("src", "")
    read_only = values.pop("readonly", values.pop("ro", "false")).lower() in ("true", "1", "")
    if kind == "bind" and not source:
        raise UsageError(f"`--mount {spec}`: a bind mount needs source=/host/path.")
    return MountSpec(kind, target, source, read_only, values)


def parse_restart(value: str) -> dict[str, Any]:
    match = _RESTART.match(value)
    if not match or (match.group(2) and match.group(1) != "on-failure"):
        raise UsageError(f"Invalid restart policy {value!r}.",
                         detail="Use no, always, unless-stopped or on-failure[:MAX_RETRIES].")
    return {"Name": "" if match.group(1) == "no" else match.group(1),
            "MaximumRetryCount": int(match.group(2) or 0)}


def parse_memory(value: str) -> int:
    """`256m`, `1g`, `1048576` as bytes (the CLI's units are powers of 1024)."""
    if not _MEMORY.match(value.strip()):
        raise UsageError(f"Invalid memory size {value!r}.", detail="Examples: 256m, 1g, 512k.")
    number, unit = re.match(r"^([\d.]+)([a-z]?)$", value.strip().lower()).groups()  # type: ignore[union-attr]
    factor = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit]
    return int(float(number) * factor)


def parse_cpus(value: str) -> int:
    """`--cpus 1.5` as nano-CPUs."""
    try:
        cpus = float(value)
    except ValueError:
        cpus = -1
    if cpus <= 0:
        raise UsageError(f"Invalid --cpus {value!r}: use a positive number such as 0.5 or 2.")
    return int(cpus * 1e9)


def parse_env(items: Iterable[str]) -> list[str]:
    env = []
    for item in items:
        if "=" not in item:
            raise UsageError(f"`-e {item}` would read your shell's environment, which Slack "
                             "does not have.", detail=f"Give the value: -e {item}=VALUE")
        env.append(item)
    return env


def parse_labels(items: Iterable[str]) -> dict[str, str]:
    labels = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key:
            raise UsageError(f"Invalid label {item!r}: use KEY=VALUE.")
        labels[key] = value
    return labels


@dataclass(frozen=True)
class RunRequest:
    """A `docker run`, validated: what create + start will be asked to do."""

    image: str
    command: tuple[str, ...] = ()
    name: str | None = None
    detach: bool = False
    remove: bool = False
    env: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    ports: tuple[PortSpec, ...] = ()
    restart: Mapping[str, Any] | None = None
    workdir: str | None = None
    entrypoint: str | None = None
    volumes: tuple[VolumeSpec, ...] = ()
    mounts: tuple[MountSpec, ...] = ()
    network: str | None = None
    user: str | None = None
    hostname: str | None = None
    memory: int | None = None
    nano_cpus: int | None = None
    privileged: bool = False
    cap_add: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    pid: str | None = None
    ipc: str | None = None
    security_opt: tuple[str, ...] = ()
    uts: str | None = None
    volumes_from: tuple[str, ...] = ()


def _host_config(engine: Engine, req: RunRequest) -> dict[str, Any]:
    bindings: dict[str, list[Any]] = {}
    for port in req.ports:
        bindings.setdefault(port.key, []).append(port.binding)
    config: dict[str, Any] = {
        "port_bindings": {k: v if len(v) > 1 else v[0] for k, v in bindings.items()} or None,
        "binds": [v.bind_string for v in req.volumes if v.source is not None] or None,
        "mounts": [m.as_api() for m in req.mounts] or None,
        "auto_remove": req.remove,
        "restart_policy": dict(req.restart) if req.restart else None,
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
        user=req.user, environment=list(req.env) or None, labels=dict(req.labels) or None,
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


@dataclass(frozen=True)
class Started:
    """A detached run: what the CLI prints, plus where its ports landed."""

    id: str
    name: str
    ports: tuple[str, ...]
    removed_on_exit: bool


@dataclass(frozen=True)
class Attached:
    """An attached run (or `start -a`): its exit code, or None when it outlived the wait."""

    id: str
    name: str
    exit_code: int | None
    output: str
    output_cut: bool
    waited: float
    removed_on_exit: bool = False

    @property
    def finished(self) -> bool:
        return self.exit_code is not None


def _name_of(engine: Engine, container_id: str) -> str:
    return engine.api.inspect_container(container_id)["Name"].lstrip("/")


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

@dataclass(frozen=True)
class Done:
    """What happened to one container (or image) of a multi-name command."""

    name: str
    ok: bool
    error: str = ""
    detail: str = ""


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

@dataclass(frozen=True)
class Target:
    """A container a command names, as one list call shows it."""

    typed: str
    id: str
    name: str
    image: str
    state: str
    status: str


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
        raise EngineError(f"No such container: {listed}. Nothing was done.",
                          detail="`/docker ps -a` lists the containers.")
    return found


# -- exec ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExecResult:
    """A command run in a container: its exit code (None: still running) and output."""

    container: str
    command: tuple[str, ...]
    exit_code: int | None
    output: str = ""
    output_cut: bool = False
    detached: bool = False


@engine_call
def exec_run(engine: Engine, container: str, command: Iterable[str], *,
             env: Iterable[str] = (), workdir: str | None = None, user: str | None = None,
             detach: bool = False, wait_seconds: float = 60) -> ExecResult:
    """`docker exec` without a terminal: output and exit code, bounded by `wait_seconds`."""
    cmd = list(command)
    created = engine.api.exec_create(container, cmd, stdout=True, stderr=True,
                                     environment=list(env) or None, workdir=workdir,
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
