"""Swarm mode through docker-py: services, tasks, nodes, stacks and rolling updates.

What `docker service ...`, `docker node ...` and `docker stack ...` do, as the CLI does it:
an update sends the whole current spec back with one field changed (and the image pinned by
digest when the registry answers), a rollback asks Swarm for `rollback=previous`. Convergence
is read from the service's UpdateStatus and its tasks, never guessed.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import docker.auth
import docker.errors
from docker.types.daemon import CancellableStream

from bot.engine.client import Engine
from bot.engine.events import FailedTask
from bot.engine.results import LogText
from bot.engine.streams import Closable
from bot.engine.swarm_results import (
    STACK_LABEL,
    NodeRow,
    Rollout,
    ServiceChange,
    ServiceRow,
    StackRow,
    SwarmState,
    TaskRow,
)
from bot.engine.translate import engine_call
from bot.errors import EngineError
from bot.redact import mask_document, mask_output
from bot.timeparse import from_docker

P = ParamSpec("P")
T = TypeVar("T")

_NOT_MANAGER = re.compile(r"not a swarm manager|not part of a swarm|swarm is not initialized|"
                          r"Swarm mode is not active", re.I)
_NOT_FOUND = re.compile(r"(service|node|task) (\S+) not found", re.I)
MAX_LOG_BYTES = 8 * 1024 * 1024
# What `service logs` asks the engine to add to each line: which task and node wrote it.
_DETAILS = re.compile(rb"^((?:[\w.-]+=[^,\s]*,?)+) ")


class NotSwarmManager(EngineError):
    """The host is not a Swarm manager: it has no services, nodes or stacks to show."""


class NoSuchSwarmObject(EngineError):
    """No service (or node) of that name or ID."""


def not_a_manager(engine: Engine, local_state: str = "") -> NotSwarmManager:
    what = ("is a Swarm worker, not a manager" if local_state == "worker"
            else "is not a Swarm manager")
    return NotSwarmManager(
        f"Host `{engine.name}` {what}: services, nodes and stacks are run from a manager.",
        detail=f"Use `--host NAME` with a manager host, or on `{engine.name}` run "
               "`docker swarm init` (or `docker node promote` it from a manager); then mark it "
               "`swarm = true` under its [hosts.NAME] in the dockops config.")


def swarm_call(func: Callable[P, T]) -> Callable[P, T]:
    """engine_call, with Swarm's own refusals (not a manager, no such service) as sentences."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except docker.errors.APIError as exc:
            message = (exc.explanation or str(exc)).strip()
            engine = args[0]
            if isinstance(engine, Engine) and _NOT_MANAGER.search(message):
                worker = "Worker nodes" in message
                raise not_a_manager(engine, "worker" if worker else "") from exc
            if (found := _NOT_FOUND.search(message)) and exc.status_code == 404:
                what, name = found.groups()
                listing = "node ls" if what.lower() == "node" else "service ls"
                raise NoSuchSwarmObject(f"No such {what.lower()}: {name}.",
                                        detail=f"`/docker {listing}` lists them.") from exc
            raise

    return engine_call(wrapper)


# -- reading ----------------------------------------------------------------------------------

@engine_call
def swarm_state(engine: Engine) -> SwarmState:
    """This engine's Swarm membership, from `info` (Swarm.ControlAvailable, Cluster.ID)."""
    swarm = engine.api.info().get("Swarm") or {}
    return SwarmState(local_state=swarm.get("LocalNodeState", "inactive"),
                      manager=bool(swarm.get("ControlAvailable")),
                      node_id=swarm.get("NodeID", ""),
                      cluster_id=(swarm.get("Cluster") or {}).get("ID", ""))


def _mode(spec: dict[str, Any]) -> str:
    mode = spec.get("Mode") or {}
    for key, word in (("Replicated", "replicated"), ("Global", "global"),
                      ("ReplicatedJob", "replicated job"), ("GlobalJob", "global job")):
        if key in mode:
            return word
    return ""


def _ports(endpoint: dict[str, Any]) -> tuple[str, ...]:
    """Published ports as `service ls` prints them: `*:8080->80/tcp`."""
    shown = []
    for port in endpoint.get("Ports") or ():
        if port.get("PublishMode", "ingress") != "ingress" or not port.get("PublishedPort"):
            continue
        shown.append(f"*:{port['PublishedPort']}->{port.get('TargetPort')}/"
                     f"{port.get('Protocol', 'tcp')}")
    return tuple(shown)


def _service_row(raw: dict[str, Any]) -> ServiceRow:
    spec = raw.get("Spec") or {}
    status = raw.get("ServiceStatus") or {}
    mode = _mode(spec)
    template = spec.get("TaskTemplate") or {}
    placement = template.get("Placement") or {}
    return ServiceRow(
        id=raw["ID"], name=(spec.get("Name") or raw["ID"]), mode=mode,
        running=int(status.get("RunningTasks", 0)), desired=int(status.get("DesiredTasks", 0)),
        completed=int(status.get("CompletedTasks", 0)),
        image=((template.get("ContainerSpec") or {}).get("Image") or ""),
        ports=_ports(raw.get("Endpoint") or {}),
        max_per_node=int(placement.get("MaxReplicas") or 0),
        labels=tuple(sorted((spec.get("Labels") or {}).items())))


def _list_services(engine: Engine, filters: dict[str, list[str]] | None) -> list[ServiceRow]:
    raw = engine.api.services(filters=filters or None, status=True)
    return sorted((_service_row(item) for item in raw), key=lambda row: row.name)


@swarm_call
def service_ls(engine: Engine, *, filters: dict[str, list[str]] | None = None) -> list[ServiceRow]:
    """`docker service ls`: one list call with the task counts (API 1.41 `status=true`)."""
    return _list_services(engine, filters)


@swarm_call
def service_inspect(engine: Engine, name: str) -> dict[str, Any]:
    """The service's document as `docker service inspect` prints it (secret values masked)."""
    document: dict[str, Any] = mask_document(engine.api.inspect_service(name))
    return document


def _node_names(engine: Engine) -> dict[str, str]:
    return {node["ID"]: (node.get("Description") or {}).get("Hostname", "")
            for node in engine.api.nodes()}


def _task_rows(engine: Engine, tasks: list[dict[str, Any]],
               service_names: dict[str, str]) -> list[TaskRow]:
    nodes = _node_names(engine) if tasks else {}
    rows = []
    for task in tasks:
        status = task.get("Status") or {}
        service = service_names.get(task.get("ServiceID", ""), task.get("ServiceID", ""))
        slot = int(task.get("Slot") or 0)
        name = f"{service}.{slot}" if slot else f"{service}.{task.get('NodeID', '')}"
        container = ((task.get("Spec") or {}).get("ContainerSpec") or {})
        ports = tuple(f"*:{p['PublishedPort']}->{p.get('TargetPort')}/{p.get('Protocol', 'tcp')}"
                      for p in (status.get("PortStatus") or {}).get("Ports") or ()
                      if p.get("PublishedPort"))
        rows.append(TaskRow(
            id=task["ID"], name=name, image=container.get("Image", ""),
            node=nodes.get(task.get("NodeID", ""), task.get("NodeID", "")),
            desired_state=task.get("DesiredState", ""), state=status.get("State", ""),
            timestamp=from_docker(status.get("Timestamp")),
            created=from_docker(task.get("CreatedAt")),
            error=mask_output(status.get("Err", "")), ports=ports, service=service, slot=slot))
    return sort_tasks(rows)


def _natural(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def sort_tasks(rows: list[TaskRow]) -> list[TaskRow]:
    """As the CLI: by name (naturally: web.2 before web.10), then the newest first."""
    newest = sorted(rows, key=lambda r: r.created.timestamp() if r.created else 0.0, reverse=True)
    return sorted(newest, key=lambda r: _natural(r.name))


@swarm_call
def service_ps(engine: Engine, names: list[str], *,
               filters: dict[str, list[str]] | None = None) -> list[TaskRow]:
    """`docker service ps NAME...`: every task of the services, the old ones included."""
    services = [engine.api.inspect_service(name) for name in names]
    return _tasks_of(engine, services, filters)


def _tasks_of(engine: Engine, services: list[dict[str, Any]],
              filters: dict[str, list[str]] | None) -> list[TaskRow]:
    if not services:
        return []
    ids = {service["ID"]: service["Spec"]["Name"] for service in services}
    tasks = engine.api.tasks(filters={**(filters or {}), "service": list(ids)})
    return _task_rows(engine, tasks, ids)


@swarm_call
def stack_ls(engine: Engine) -> list[StackRow]:
    """`docker stack ls`: the stack labels of every service, counted."""
    counts: dict[str, int] = {}
    for service in engine.api.services(filters={"label": [STACK_LABEL]}):
        name = (service["Spec"].get("Labels") or {}).get(STACK_LABEL, "")
        counts[name] = counts.get(name, 0) + 1
    return [StackRow(name, counts[name]) for name in sorted(counts)]


def _stack_filter(stack: str) -> dict[str, list[str]]:
    return {"label": [f"{STACK_LABEL}={stack}"]}


def _no_stack(stack: str) -> NoSuchSwarmObject:
    return NoSuchSwarmObject(f"Nothing found in stack: {stack}.",
                             detail="`/docker stack ls` lists the stacks.")


@swarm_call
def stack_services(engine: Engine, stack: str) -> list[ServiceRow]:
    rows = _list_services(engine, _stack_filter(stack))
    if not rows:
        raise _no_stack(stack)
    return rows


@swarm_call
def stack_ps(engine: Engine, stack: str) -> list[TaskRow]:
    services = engine.api.services(filters=_stack_filter(stack))
    if not services:
        raise _no_stack(stack)
    return _tasks_of(engine, services, None)


# -- logs -------------------------------------------------------------------------------------

class _TaskNames:
    """`service.slot.taskid@node` for each task ID a log line names, looked up once per task."""

    def __init__(self, engine: Engine, service: dict[str, Any]) -> None:
        self.engine = engine
        self.service = service["Spec"]["Name"]
        self.names: dict[str, str] = {}
        self.nodes: dict[str, str] | None = None

    def prefix(self, details: dict[str, str]) -> str:
        task_id = details.get("com.docker.swarm.task.id", "")
        if task_id not in self.names:
            self.names[task_id] = self._lookup(task_id, details.get("com.docker.swarm.node.id", ""))
        return self.names[task_id]

    def _lookup(self, task_id: str, node_id: str) -> str:
        if self.nodes is None:
            self.nodes = _node_names(self.engine)
        slot = ""
        try:
            task = self.engine.api.inspect_task(task_id)
            slot = str(task.get("Slot") or task.get("NodeID", ""))
        except docker.errors.DockerException:
            pass
        node = self.nodes.get(node_id, node_id)
        return f"{self.service}.{slot}.{task_id[:12]}@{node}"


def _details(line: bytes) -> tuple[dict[str, str], bytes]:
    found = _DETAILS.match(line)
    if not found:
        return {}, line
    pairs = dict(part.split("=", 1) for part in found.group(1).decode(errors="replace").split(",")
                 if "=" in part)
    return pairs, line[found.end():]


def _prefixed(lines: Iterator[bytes], names: _TaskNames) -> Iterator[bytes]:
    """Each line as the CLI prints it: `web.1.abcdef123456@node1    | message`."""
    pending = b""
    for chunk in lines:
        pending += chunk
        *whole, pending = pending.split(b"\n")
        for line in whole:
            details, message = _details(line)
            yield f"{names.prefix(details)}    | ".encode() + message + b"\n"
    if pending:
        details, message = _details(pending)
        yield f"{names.prefix(details)}    | ".encode() + message


class _PrefixedStream:
    """A closable service log stream whose lines carry the task that wrote them."""

    def __init__(self, stream: CancellableStream, names: _TaskNames) -> None:
        self._stream = stream
        self._names = names

    def __iter__(self) -> Iterator[bytes]:
        return _prefixed(iter(self._stream), self._names)

    def close(self) -> None:
        self._stream.close()


def _open_service_logs(engine: Engine, service: dict[str, Any], *, follow: bool,
                       tail: int | None, timestamps: bool) -> CancellableStream:
    api: Any = engine.api  # private helpers docker-py's stubs do not declare
    params = {"details": True, "follow": follow, "stdout": True, "stderr": True,
              "timestamps": timestamps, "tail": "all" if tail is None else tail}
    # docker-py's service_logs hands back a bare generator: keep the response to close it.
    response = api._get(api._url("/services/{0}/logs", service["ID"]), params=params,
                        stream=True)
    api._raise_for_status(response)
    return CancellableStream(api._multiplexed_response_stream_helper(response), response)


@swarm_call
def service_logs(engine: Engine, name: str, *, tail: int | None,
                 timestamps: bool = False) -> LogText:
    """The end of a service's log, every task's lines prefixed as the CLI does."""
    service = engine.api.inspect_service(name)
    stream = _open_service_logs(engine, service, follow=False, tail=tail, timestamps=timestamps)
    chunks: list[bytes] = []
    size = 0
    truncated = False
    try:
        for chunk in _prefixed(iter(stream), _TaskNames(engine, service)):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_LOG_BYTES:
                truncated = True
                break
    finally:
        stream.close()
    text = mask_output(b"".join(chunks).decode(errors="replace"))
    return LogText(container=service["Spec"]["Name"], text=text,
                   lines=text.count("\n"), truncated=truncated)


@swarm_call
def open_service_logs(engine: Engine, name: str, *, tail: int | None,
                      timestamps: bool = False) -> tuple[str, Closable]:
    """`service logs -f`: the service's name and a following, closable, prefixed stream."""
    service = engine.api.inspect_service(name)
    stream = _open_service_logs(engine, service, follow=True, tail=tail, timestamps=timestamps)
    return service["Spec"]["Name"], _PrefixedStream(stream, _TaskNames(engine, service))


# -- changing services ------------------------------------------------------------------------

def _send_update(engine: Engine, service: dict[str, Any], spec: dict[str, Any],
                 auth: dict[str, Any] | None = None, **params: str) -> list[str]:
    """POST the whole spec back at the service's version, as the CLI does; Swarm's warnings.

    With `auth` (dockops' credentials for the image's registry) the nodes get them, as
    `--with-registry-auth` gives them; without, Swarm keeps the ones the service has.
    """
    api: Any = engine.api  # private helpers docker-py's stubs do not declare
    query = {"version": service["Version"]["Index"], **params}
    headers = {"X-Registry-Auth": docker.auth.encode_header(auth)} if auth else {}
    if auth:
        query.pop("registryAuthFrom", None)
    response = api._post_json(api._url("/services/{0}/update", service["ID"]), data=spec,
                              params=query, headers=headers)
    answer = api._result(response, json=True) or {}
    return [str(w) for w in answer.get("Warnings") or ()]


def _replicas(spec: dict[str, Any]) -> int | None:
    replicated = (spec.get("Mode") or {}).get("Replicated")
    return None if replicated is None else int(replicated.get("Replicas", 1))


def _image(spec: dict[str, Any]) -> str:
    return str(((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image", ""))


def _failure_action(spec: dict[str, Any]) -> str:
    return str((spec.get("UpdateConfig") or {}).get("FailureAction") or "pause")


@swarm_call
def find_service(engine: Engine, name: str) -> ServiceRow:
    """One service by name or ID, as `service ls` would show it."""
    rows = engine.api.services(filters={"id": [name]}, status=True) if name else []
    exact = [row for row in rows if row["ID"] == name or row["ID"].startswith(name)]
    if not exact:
        exact = [row for row in engine.api.services(filters={"name": [name]}, status=True)
                 if row["Spec"]["Name"] == name]
    if not exact:
        raise NoSuchSwarmObject(f"No such service: {name}.",
                                detail="`/docker service ls` lists them.")
    return _service_row(exact[0])


@swarm_call
def scale(engine: Engine, name: str, replicas: int) -> ServiceChange:
    """`service scale NAME=N` on a replicated service."""
    service = engine.api.inspect_service(name)
    spec = service["Spec"]
    if _replicas(spec) is None:
        raise EngineError(f"{spec['Name']}: scale can only be used with replicated mode.",
                          detail=f"`{spec['Name']}` is a {_mode(spec)} service: it runs one "
                                 "task per node.")
    spec["Mode"]["Replicated"]["Replicas"] = replicas
    warnings = _send_update(engine, service, spec)
    return ServiceChange(service["ID"], spec["Name"], _image(spec), _image(spec), replicas,
                         warning=" ".join(warnings), failure_action=_failure_action(spec))


def pin_image(engine: Engine, image: str,
              auth: dict[str, Any] | None = None) -> tuple[str, str]:
    """`image` pinned by the digest its registry reports (as the CLI does); else the CLI's
    warning."""
    if "@" in image:
        return image, ""
    try:
        digest = engine.api.inspect_distribution(image, auth_config=auth)["Descriptor"]["digest"]
    except (docker.errors.DockerException, KeyError):
        return image, (f"image {image} could not be accessed on a registry to record its "
                       f"digest. Each node will access {image} independently, possibly leading "
                       "to different nodes running different versions of the image.")
    return f"{image}@{digest}", ""


@swarm_call
def update_image(engine: Engine, name: str, image: str, *, force: bool = False,
                 auth: dict[str, Any] | None = None) -> ServiceChange:
    """`service update --image REF [--force] NAME`: Swarm rolls it out with the service's own
    update_config (and rolls back when its failure_action says so)."""
    service = engine.api.inspect_service(name)
    spec = service["Spec"]
    before = _image(spec)
    pinned, warning = pin_image(engine, image, auth)
    spec["TaskTemplate"]["ContainerSpec"]["Image"] = pinned
    if force:
        spec["TaskTemplate"]["ForceUpdate"] = int(spec["TaskTemplate"].get("ForceUpdate", 0)) + 1
    # The same image and no --force: nothing for Swarm to roll out (it would start none).
    warnings = (_send_update(engine, service, spec, auth, registryAuthFrom="spec")
                if force or pinned != before else [])
    return ServiceChange(service["ID"], spec["Name"], before, pinned, _replicas(spec),
                         warning=" ".join([warning, *warnings]).strip(),
                         failure_action=_failure_action(spec), forced=force)


@swarm_call
def rollback(engine: Engine, name: str) -> ServiceChange:
    """`service rollback NAME`: Swarm goes back to the service's previous spec."""
    service = engine.api.inspect_service(name)
    previous = service.get("PreviousSpec")
    if not previous:
        raise EngineError(f"service {service['Spec']['Name']} does not have a previous spec "
                          "to roll back to.",
                          detail="Only a service that was updated at least once can roll back.")
    warnings = _send_update(engine, service, service["Spec"], rollback="previous",
                            registryAuthFrom="previous-spec")
    return ServiceChange(service["ID"], service["Spec"]["Name"], _image(service["Spec"]),
                         _image(previous), _replicas(previous), warning=" ".join(warnings),
                         failure_action=_failure_action(previous))


@swarm_call
def service_rm(engine: Engine, name: str) -> str:
    """`service rm NAME`: the service's name, once Swarm removed it."""
    service = engine.api.inspect_service(name)
    engine.api.remove_service(service["ID"])
    return str(service["Spec"]["Name"])


# -- watching a rollout -----------------------------------------------------------------------

_ROLLBACK_DONE = "rollback_completed"
_FAILED_STATES = frozenset({"failed", "rejected"})


def _rollout(engine: Engine, change: ServiceChange, before_status: str, *,
             rolling_back: bool, started: float) -> Rollout:
    service = engine.api.inspect_service(change.id)
    status = service.get("UpdateStatus") or {}
    ours = status.get("StartedAt", "") != before_status
    state = str(status.get("State", "")) if ours else ""
    tasks = engine.api.tasks(filters={"service": [change.id]})
    current = [t for t in tasks if t.get("DesiredState") == "running"]
    total = change.replicas if change.replicas is not None else len(current)
    target = change.before_image if state == _ROLLBACK_DONE and not rolling_back else change.image
    running = [t for t in current if (t.get("Status") or {}).get("State") == "running"]
    replaced = sum(1 for t in running if _image(
        {"TaskTemplate": (t.get("Spec") or {})}) == target)
    since = time.time() - (time.monotonic() - started) - 1
    failed = tuple(dict.fromkeys(
        mask_output(str((t.get("Status") or {}).get("Err") or (t.get("Status") or {}).get("State")))
        for t in tasks if (t.get("Status") or {}).get("State") in _FAILED_STATES
        and (from_docker((t.get("Status") or {}).get("Timestamp")) or _epoch()).timestamp() > since))
    stopping = any((t.get("Status") or {}).get("State") == "running"
                   and t.get("DesiredState") != "running" for t in tasks)
    settled = replaced >= total and len(running) == total and not stopping
    message = str(status.get("Message", "")) if ours else ""
    seconds = time.monotonic() - started
    base = Rollout(change.name, target, replaced, total, state, message, seconds=seconds,
                   failed_tasks=failed)
    if state == _ROLLBACK_DONE:
        return _done(base, ok=rolling_back, rolled_back=not rolling_back)
    if state in ("paused", "rollback_paused"):
        return _done(base, ok=False, rolled_back=False)
    if (state == "completed" or (state == "" and not change.forced)) and settled:
        return _done(base, ok=True, rolled_back=False)
    return base


def _epoch() -> datetime:
    return datetime.fromtimestamp(0, UTC)


def _done(rollout: Rollout, *, ok: bool, rolled_back: bool) -> Rollout:
    return replace(rollout, done=True, ok=ok, rolled_back=rolled_back)


def update_status_mark(engine: Engine, name: str) -> str:
    """The UpdateStatus.StartedAt before a change: a later one is the change's own."""
    try:
        return str((engine.api.inspect_service(name).get("UpdateStatus") or {})
                   .get("StartedAt", ""))
    except docker.errors.DockerException:
        return ""


@swarm_call
def watch(engine: Engine, change: ServiceChange, before_status: str, *, deadline: float,
          on_progress: Callable[[Rollout], None], rolling_back: bool = False,
          interval: float = 0.25) -> Rollout:
    """Poll the service until it converged, paused, rolled back or `deadline` seconds passed."""
    started = time.monotonic()
    while True:
        rollout = _rollout(engine, change, before_status, rolling_back=rolling_back,
                           started=started)
        if rollout.done:
            return rollout
        if time.monotonic() - started >= deadline:
            return replace(rollout, done=True, timed_out=True)
        on_progress(rollout)
        time.sleep(interval)


# -- nodes ------------------------------------------------------------------------------------

def _node_row(raw: dict[str, Any], self_id: str) -> NodeRow:
    manager = raw.get("ManagerStatus") or {}
    manager_status = ("Leader" if manager.get("Leader")
                      else str(manager.get("Reachability", "")).title())
    return NodeRow(
        id=raw["ID"], hostname=(raw.get("Description") or {}).get("Hostname", ""),
        status=str((raw.get("Status") or {}).get("State", "")).title(),
        availability=str((raw.get("Spec") or {}).get("Availability", "")).title(),
        manager_status=manager_status,
        engine_version=((raw.get("Description") or {}).get("Engine") or {}).get(
            "EngineVersion", ""),
        self=raw["ID"] == self_id)


@swarm_call
def node_ls(engine: Engine) -> list[NodeRow]:
    """`docker node ls`, by host name; the node this engine is marked as self."""
    self_id = ((engine.api.info().get("Swarm") or {}).get("NodeID", ""))
    rows = [_node_row(raw, self_id) for raw in engine.api.nodes()]
    return sorted(rows, key=lambda row: _natural(row.hostname))


@swarm_call
def node_inspect(engine: Engine, name: str) -> dict[str, Any]:
    document: dict[str, Any] = mask_document(engine.api.inspect_node(name))
    return document


@swarm_call
def find_node(engine: Engine, name: str) -> NodeRow:
    self_id = ((engine.api.info().get("Swarm") or {}).get("NodeID", ""))
    return _node_row(engine.api.inspect_node(name), self_id)


@swarm_call
def node_update(engine: Engine, name: str, *, availability: str) -> NodeRow:
    """`node update --availability A NAME`; the node as it is afterwards."""
    node = engine.api.inspect_node(name)
    spec = dict(node.get("Spec") or {})
    spec["Availability"] = availability
    engine.api.update_node(node["ID"], node["Version"]["Index"], spec)  # type: ignore[arg-type]
    self_id = ((engine.api.info().get("Swarm") or {}).get("NodeID", ""))
    return _node_row(engine.api.inspect_node(node["ID"]), self_id)


@swarm_call
def tasks_on_node(engine: Engine, node_id: str) -> int:
    """How many tasks are meant to run on the node (what a drain moves elsewhere)."""
    return len(engine.api.tasks(filters={"node": [node_id], "desired-state": ["running"]}))


@swarm_call
def failed_tasks(engine: Engine, since: datetime) -> list[TaskRow]:
    """Tasks that failed or were rejected since `since` (for a `task_failed` alert: a rejected
    task never had a container, so no container event tells of it)."""
    tasks = [task for task in engine.api.tasks()
             if (task.get("Status") or {}).get("State") in _FAILED_STATES
             and (from_docker((task.get("Status") or {}).get("Timestamp")) or _epoch()) > since]
    if not tasks:
        return []
    names = {service["ID"]: service["Spec"]["Name"] for service in engine.api.services()}
    return _task_rows(engine, tasks, names)


_FRACTION = re.compile(r"\.(\d{1,9})")
COMPOSE_PROJECT = "com.docker.compose.project"


def _time_ns(text: str) -> int:
    """A task's RFC 3339 timestamp to unix ns, its nanoseconds kept (keys must not collide)."""
    moment = from_docker(text)
    if moment is None:
        return 0
    fraction = _FRACTION.search(text)
    nanos = int(fraction.group(1).ljust(9, "0")) if fraction else 0
    return int(moment.replace(microsecond=0).timestamp()) * 1_000_000_000 + nanos


@swarm_call
def failed_service_tasks(engine: Engine, since_ns: int) -> list[FailedTask]:
    """Tasks that failed or were rejected after `since_ns`, oldest first, each with its service's
    labels, name and image (a stack's namespace also as the compose project) for the selectors.
    One task list, then one service and one node list when there is something to tell."""
    tasks = [(task, _time_ns(str((task.get("Status") or {}).get("Timestamp") or "")))
             for task in engine.api.tasks()
             if (task.get("Status") or {}).get("State") in _FAILED_STATES]
    tasks = [(task, at) for task, at in tasks if at > since_ns]
    if not tasks:
        return []
    services = {service["ID"]: service for service in engine.api.services()}
    nodes = _node_names(engine)
    found = []
    for task, at in sorted(tasks, key=lambda item: item[1]):
        service = services.get(task.get("ServiceID", ""))
        if service is None:  # removed meanwhile: nothing left to alert about
            continue
        spec = service.get("Spec") or {}
        name = str(spec.get("Name") or "")
        status = task.get("Status") or {}
        image = str(((task.get("Spec") or {}).get("ContainerSpec") or {}).get("Image") or "")
        attributes = {str(k): str(v) for k, v in (spec.get("Labels") or {}).items()}
        attributes.update(name=name, image=image.split("@", 1)[0])
        if STACK_LABEL in attributes:
            attributes.setdefault(COMPOSE_PROJECT, attributes[STACK_LABEL])
        slot = int(task.get("Slot") or 0)
        node_id = str(task.get("NodeID") or "")
        found.append(FailedTask(
            time_ns=at, task_id=str(task["ID"]),
            task=f"{name}.{slot}" if slot else f"{name}.{node_id}",
            service_id=str(service["ID"]), service=name, node=nodes.get(node_id, node_id),
            image=image, state=str(status.get("State") or ""),
            error=mask_output(str(status.get("Err") or "")),
            exit_code=int(((status.get("ContainerStatus") or {}).get("ExitCode")) or 0),
            attributes=attributes))
    return found


@swarm_call
def service_running(engine: Engine, service_id: str) -> bool:
    """Whether every task the service wants running runs (and at least one does): what a
    task_failed incident waits for before it recovers. False when the service is gone."""
    wanted = engine.api.tasks(filters={"service": [service_id], "desired-state": ["running"]})
    return bool(wanted) and all((task.get("Status") or {}).get("State") == "running"
                                for task in wanted)
