"""The engine's container events (`docker events`), and what an incident reads about a container
at the moment of an event: its state, health-check output, digest and the log lines before it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import docker

from bot.engine.client import Engine
from bot.engine.translate import engine_call
from bot.redact import mask_output
from bot.timeparse import from_docker

# Engine actions an incident follower acts on (everything else is not asked for).
ACTIONS = ("die", "oom", "start", "health_status", "rename", "kill", "stop")


@dataclass(frozen=True)
class EngineEvent:
    """One container event: when (ns), what, which container, and its attributes (labels,
    name, image, exitCode...) as the engine sent them."""

    time_ns: int
    action: str
    container_id: str
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Unique per event: two events of one container at the same ns differ by action."""
        return f"{self.time_ns}:{self.container_id[:12]}:{self.action}"

    @property
    def name(self) -> str:
        return self.attributes.get("name", "")

    @property
    def image(self) -> str:
        return self.attributes.get("image", "")


@dataclass(frozen=True)
class FailedTask:
    """A Swarm task that failed or was rejected (no container event tells of a rejected one):
    its service, as a `task_failed` rule's selectors see it, and what the task reported."""

    time_ns: int  # the task's status timestamp
    task_id: str
    task: str  # service.slot, or service.nodeID for a global service
    service_id: str
    service: str
    node: str
    image: str
    state: str  # failed | rejected
    error: str  # "task: non-zero exit (1)", "No such image: ...", masked
    exit_code: int
    attributes: dict[str, str] = field(default_factory=dict)  # service labels, name, image

    @property
    def key(self) -> str:
        """Unique per task (a retry is a new task), led by its time like an event's key."""
        return f"{self.time_ns}:{self.task_id}"


@dataclass(frozen=True)
class ContainerFacts:
    """What an incident says about a container, read right after the event."""

    name: str
    image: str
    image_id: str
    digest: str
    status: str
    running: bool
    exit_code: int
    oom_killed: bool
    restart_count: int
    started_at: float  # unix seconds, 0 when never started
    finished_at: float
    health_status: str  # "" without a health check
    health_output: str  # the last probe's output, masked
    log_tail: str  # the last lines before the event, masked
    gone: bool = False  # removed before it could be read


def since_text(time_ns: int) -> str:
    """A cursor as the engine's `since` takes it: seconds.nanoseconds."""
    return f"{time_ns // 1_000_000_000}.{time_ns % 1_000_000_000:09d}"


def _event(raw: dict[str, Any]) -> EngineEvent | None:
    if raw.get("Type") != "container":
        return None
    actor = raw.get("Actor") or {}
    action = str(raw.get("Action") or raw.get("status") or "")
    time_ns = int(raw.get("timeNano") or int(raw.get("time") or 0) * 1_000_000_000)
    return EngineEvent(time_ns, action, str(actor.get("ID") or raw.get("id") or ""),
                       {str(k): str(v) for k, v in (actor.get("Attributes") or {}).items()})


class EventStream:
    """`docker events --since CURSOR --until UNTIL` for containers, closable from another thread."""

    def __init__(self, engine: Engine, since_ns: int, until: float) -> None:
        self.engine = engine
        self.since_ns = since_ns
        self.until = until
        self._stream: Any = None

    @engine_call
    def open(self) -> Iterator[EngineEvent]:
        """Open the stream (raises EngineError when the engine cannot be reached)."""
        # Strings: the engine reads seconds.nanoseconds; docker-py's hints say int only.
        events: Any = self.engine.api.events
        self._stream = events(since=since_text(self.since_ns), until=f"{self.until:.9f}",
                              filters={"type": "container", "event": list(ACTIONS)}, decode=True)
        return self._events()

    def _events(self) -> Iterator[EngineEvent]:
        for raw in self._stream:
            event = _event(raw)
            if event is not None:
                yield event

    def close(self) -> None:
        stream = self._stream
        if stream is not None:
            with contextlib.suppress(Exception):  # a stream the engine already dropped
                stream.close()


@engine_call
def engine_now(engine: Engine) -> float:
    """The engine's clock (unix seconds): replays end at the engine's now, not ours."""
    text = str(engine.api.info().get("SystemTime") or "")
    moment = from_docker(text) if text else None
    return moment.timestamp() if moment else time.time()


@engine_call
def stopped_since(engine: Engine, since: float, wanted: Callable[[dict[str, str]], bool]
                  ) -> list[tuple[str, dict[str, str], int, bool, float]]:
    """Containers `wanted` (by labels, name, image) that stopped after `since`:
    (id, attributes, exit code, OOMKilled, finished at). One list call, then one inspect
    per stopped container that is wanted: for a gap the engine could not replay."""
    found = []
    for item in engine.api.containers(all=True, filters={"status": ["exited", "dead"]}):
        attributes = {str(k): str(v) for k, v in (item.get("Labels") or {}).items()}
        attributes["name"] = str((item.get("Names") or ["/"])[0]).lstrip("/")
        attributes["image"] = str(item.get("Image") or "")
        if not wanted(attributes):
            continue
        try:
            state = engine.api.inspect_container(item["Id"])["State"]
        except docker.errors.NotFound:
            continue
        finished = _seconds(state.get("FinishedAt"))
        if finished <= since:
            continue
        found.append((str(item["Id"]), attributes, int(state.get("ExitCode") or 0),
                      bool(state.get("OOMKilled")), finished))
    return found


@engine_call
def container_facts(engine: Engine, container_id: str, *, log_lines: int,
                    before_ns: int = 0) -> ContainerFacts:
    """The container's state, digest, last probe output and last `log_lines` lines."""
    try:
        raw = engine.api.inspect_container(container_id)
    except docker.errors.NotFound:
        return ContainerFacts("", "", "", "", "removed", False, 0, False, 0, 0.0, 0.0, "", "", "",
                              gone=True)
    state = raw.get("State") or {}
    health = state.get("Health") or {}
    probes = health.get("Log") or []
    image_id = str(raw.get("Image") or "")
    return ContainerFacts(
        name=str(raw.get("Name", "")).lstrip("/"),
        image=str((raw.get("Config") or {}).get("Image") or ""),
        image_id=image_id,
        digest=_digest(engine, image_id),
        status=str(state.get("Status") or ""),
        running=bool(state.get("Running")),
        exit_code=int(state.get("ExitCode") or 0),
        oom_killed=bool(state.get("OOMKilled")),
        restart_count=int(raw.get("RestartCount") or 0),
        started_at=_seconds(state.get("StartedAt")),
        finished_at=_seconds(state.get("FinishedAt")),
        health_status=str(health.get("Status") or ""),
        health_output=mask_output(str(probes[-1].get("Output") or "").strip()[-1500:])
        if probes else "",
        log_tail=_log_tail(engine, container_id, log_lines, before_ns) if log_lines else "",
    )


@engine_call
def image_of(engine: Engine, container: str) -> tuple[str, str] | None:
    """(image ID, configured image) of a container; None when it is gone."""
    try:
        raw = engine.api.inspect_container(container)
    except docker.errors.NotFound:
        return None
    return str(raw.get("Image") or ""), str((raw.get("Config") or {}).get("Image") or "")


def _digest(engine: Engine, image_id: str) -> str:
    try:
        digests = engine.api.inspect_image(image_id).get("RepoDigests") or []
    except docker.errors.DockerException:
        return ""
    return str(digests[0]) if digests else ""


def _log_tail(engine: Engine, container_id: str, lines: int, before_ns: int) -> str:
    kwargs: dict[str, Any] = {"stdout": True, "stderr": True, "tail": lines}
    if before_ns:
        kwargs["until"] = before_ns / 1e9 + 0.05  # the event's own second included
    try:
        data = engine.api.logs(container_id, stream=False, follow=False, **kwargs)
    except docker.errors.DockerException:
        return ""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else str(data)
    return mask_output(text[-4000:])


def _seconds(value: Any) -> float:
    moment = from_docker(str(value or ""))
    if moment is None or moment.year < 2000:  # 0001-01-01: never
        return 0.0
    return moment.timestamp()


@engine_call
def container_counts(engine: Engine) -> tuple[int, int]:
    """(running, total) containers, from one `info` call (no list)."""
    info = engine.api.info()
    return int(info.get("ContainersRunning") or 0), int(info.get("Containers") or 0)
