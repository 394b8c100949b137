"""What a container does and small changes to it: stats, port, pause, rename, wait, diff,
history, events, update. Each named after its CLI verb; one low-level call where one will do."""

from __future__ import annotations

import contextlib
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import docker.errors
import requests
from docker.types import CancellableStream

from bot.commands.values import RestartSpec
from bot.engine.client import Engine
from bot.engine.containers import filters_dict
from bot.engine.results import (
    ContainerStats,
    EngineEvent,
    FileChange,
    HistoryRow,
    WaitResult,
)
from bot.engine.streams import Closable, LineBuffer, StreamReader
from bot.engine.translate import engine_call, translate
from bot.redact import mask_output
from bot.timeparse import from_docker

# Stats of several containers are read side by side, as the CLI does, but not without bound:
# each read holds a connection for the engine's ~2 s sampling, at most the client's pool.
STATS_PARALLEL = 32
_CHANGE_KINDS = {0: "C", 1: "A", 2: "D"}


# -- stats (docker/cli cli/command/container/stats_helpers.go) ----------------------------------

def _cpu_percent(sample: Mapping[str, Any]) -> float:
    cpu = sample.get("cpu_stats") or {}
    pre = sample.get("precpu_stats") or {}
    cpu_delta = float((cpu.get("cpu_usage") or {}).get("total_usage") or 0) \
        - float((pre.get("cpu_usage") or {}).get("total_usage") or 0)
    system_delta = float(cpu.get("system_cpu_usage") or 0) - float(pre.get("system_cpu_usage") or 0)
    online = float(cpu.get("online_cpus") or 0) \
        or float(len((cpu.get("cpu_usage") or {}).get("percpu_usage") or ()))
    if system_delta > 0 and cpu_delta > 0:
        return cpu_delta / system_delta * online * 100.0
    return 0.0


def _memory_without_cache(memory: Mapping[str, Any]) -> float:
    """Usage minus inactive file pages (cgroup v1 `total_inactive_file`, v2 `inactive_file`)."""
    usage = int(memory.get("usage") or 0)
    stats = memory.get("stats") or {}
    if "total_inactive_file" in stats and stats["total_inactive_file"] < usage:
        return float(usage - stats["total_inactive_file"])
    inactive = int(stats.get("inactive_file") or 0)
    if inactive < usage:
        return float(usage - inactive)
    return float(usage)


def _block_io(blkio: Mapping[str, Any]) -> tuple[float, float]:
    read = write = 0.0
    for entry in blkio.get("io_service_bytes_recursive") or ():
        op = (entry.get("op") or "")[:1].lower()
        if op == "r":
            read += float(entry.get("value") or 0)
        elif op == "w":
            write += float(entry.get("value") or 0)
    return read, write


def stats_row(sample: Mapping[str, Any], fallback_id: str = "", fallback_name: str = ""
              ) -> ContainerStats:
    """One stats sample (the engine's JSON) as the CLI computes its columns."""
    memory = sample.get("memory_stats") or {}
    used = _memory_without_cache(memory)
    limit = float(memory.get("limit") or 0)
    networks = (sample.get("networks") or {}).values()
    read, write = _block_io(sample.get("blkio_stats") or {})
    name = (sample.get("name") or "").lstrip("/") or fallback_name
    return ContainerStats(
        id=sample.get("id") or fallback_id, name=name or "--",
        cpu_percent=_cpu_percent(sample), memory=used, memory_limit=limit,
        memory_percent=used / limit * 100.0 if limit else 0.0,
        net_rx=float(sum(n.get("rx_bytes") or 0 for n in networks)),
        net_tx=float(sum(n.get("tx_bytes") or 0 for n in networks)),
        block_read=read, block_write=write,
        pids=int((sample.get("pids_stats") or {}).get("current") or 0),
    )


def _one_stats(engine: Engine, container: str) -> ContainerStats:
    return stats_row(engine.api.stats(container, stream=False), fallback_id=container)


@engine_call
def stats_targets(engine: Engine, names: Sequence[str], *, all: bool = False
                  ) -> list[tuple[str, bool]]:
    """(ID, running) of the containers `stats` reads: the names typed (each must exist), else
    every running container (every container with -a), newest first as the engine lists them."""
    if not names:
        return [(row["Id"], row.get("State") == "running")
                for row in engine.api.containers(all=all)]
    found = []
    for name in names:
        details = engine.api.inspect_container(name)
        found.append((details["Id"], bool((details.get("State") or {}).get("Running"))))
    return found


@engine_call
def stats(engine: Engine, container_ids: Sequence[str]) -> list[ContainerStats]:
    """`docker stats --no-stream`: one sample per container (the engine measures the CPU over
    its own interval), read in parallel; a container that vanished shows `--`."""
    def one(container_id: str) -> ContainerStats:
        try:
            return _one_stats(engine, container_id)
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            return ContainerStats(container_id, "--", valid=False)

    if not container_ids:
        return []
    workers = min(STATS_PARALLEL, engine.pool_size, len(container_ids))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, container_ids))


class SnapshotBuffer(LineBuffer):
    """A follow's buffer that holds one whole text, replaced by every chunk (a live table)."""

    def __init__(self) -> None:
        super().__init__()
        self._snapshot = ""
        self._snapshot_lock = threading.Lock()

    def feed(self, chunk: bytes) -> None:
        with self._snapshot_lock:
            self.total_bytes += len(chunk)
            self._snapshot = mask_output(chunk.decode("utf-8", errors="replace"))

    def finish(self) -> None:
        return None

    def text(self) -> str:
        with self._snapshot_lock:
            return self._snapshot


class SnapshotReader(StreamReader):
    """A StreamReader whose stream yields whole snapshots: the follow shows the latest one."""

    def __init__(self, stream: Closable, name: str) -> None:
        super().__init__(stream, name)
        self.buffer = SnapshotBuffer()


def _stats_stream(engine: Engine, container_id: str) -> CancellableStream[dict[str, Any]]:
    """A container's stats stream, closable from another thread (docker-py's stats(stream=True)
    is a bare generator: closing it would not stop a thread blocked reading it)."""
    api = engine.api
    response = api.get(f"{api.base_url}/v{api.api_version}/containers/"
                       f"{quote(container_id, safe='')}/stats", params={"stream": "1"},
                       stream=True, timeout=(engine.timeout, None))
    try:
        response.raise_for_status()
    except requests.exceptions.HTTPError as exc:
        response.close()
        raise docker.errors.create_api_error_from_http_exception(exc) from None
    samples = (json.loads(line) for line in response.iter_lines() if line.strip())
    return CancellableStream(samples, response)


class LiveStats:
    """Stats streams of several containers merged into one stream of rendered tables.

    One reader thread per container; each new sample re-renders the table (ordered as the
    containers were named). Iteration ends when every stream has ended or on close().
    """

    def __init__(self, engine: Engine, container_ids: Sequence[str],
                 render: Callable[[list[ContainerStats]], str]) -> None:
        self._render = render
        self._order = list(container_ids)
        self._latest: dict[str, ContainerStats] = {}
        self._queue: queue.Queue[bool] = queue.Queue()
        self._streams: list[Any] = []
        self._closed = threading.Event()
        self._lock = threading.Lock()
        try:
            for container_id in self._order:
                self._streams.append(_stats_stream(engine, container_id))
        except BaseException:
            self.close()
            raise
        self._left = len(self._streams)
        for container_id, stream in zip(self._order, self._streams, strict=True):
            threading.Thread(target=self._pump, args=(container_id, stream), daemon=True,
                             name=f"stats-{container_id[:12]}").start()

    def _pump(self, container_id: str, stream: Iterable[dict[str, Any]]) -> None:
        try:
            for sample in stream:
                if self._closed.is_set():
                    break
                with self._lock:
                    self._latest[container_id] = stats_row(sample, fallback_id=container_id)
                self._queue.put(True)
        except Exception:  # closed under us, or the engine went away: the stream just ends
            pass
        finally:
            with self._lock:
                self._left -= 1
                last = self._left == 0
            if last:
                self._queue.put(False)

    def __iter__(self) -> Iterator[bytes]:
        while not self._closed.is_set():
            more = self._queue.get()
            if not more or self._closed.is_set():
                return
            with self._lock:
                rows = [self._latest[c] for c in self._order if c in self._latest]
            yield self._render(rows).encode()

    def close(self) -> None:
        self._closed.set()
        for stream in self._streams:
            with contextlib.suppress(Exception):  # a dead socket: nothing to say
                stream.close()
        self._queue.put(False)


@engine_call
def open_stats(engine: Engine, container_ids: Sequence[str],
               render: Callable[[list[ContainerStats]], str]) -> SnapshotReader:
    """Live stats of the containers as a follow's reader (not started)."""
    return SnapshotReader(LiveStats(engine, container_ids, render), "stats")


# -- port, pause, unpause, rename, update ---------------------------------------------------

@engine_call
def port_bindings(engine: Engine, container: str) -> tuple[str, dict[str, list[tuple[str, str]]]]:
    """The container's name and `NetworkSettings.Ports`: "80/tcp" -> [(host ip, host port)]."""
    details = engine.api.inspect_container(container)
    ports = (details.get("NetworkSettings") or {}).get("Ports") or {}
    bound = {key: [(b.get("HostIp", ""), b.get("HostPort", "")) for b in bindings or ()]
             for key, bindings in ports.items()}
    return details["Name"].lstrip("/"), bound


@engine_call
def pause(engine: Engine, container: str) -> None:
    engine.api.pause(container)


@engine_call
def unpause(engine: Engine, container: str) -> None:
    engine.api.unpause(container)


@engine_call
def rename(engine: Engine, container: str, new_name: str) -> None:
    engine.api.rename(container, new_name)


@engine_call
def update(engine: Engine, container: str, *, restart: RestartSpec | None = None,
           memory: int | None = None, memory_swap: int | None = None,
           nano_cpus: int | None = None) -> tuple[str, ...]:
    """`docker update`: only the settings given change; the engine's warnings, if any.

    docker-py's update_container has no NanoCpus, so the body is posted as the CLI posts it.
    """
    body: dict[str, Any] = {}
    if restart is not None:
        body["RestartPolicy"] = {"Name": "" if restart.name == "no" else restart.name,
                                 "MaximumRetryCount": restart.max_retries}
    if memory is not None:
        body["Memory"] = memory
    if memory_swap is not None:
        body["MemorySwap"] = memory_swap
    if nano_cpus is not None:
        body["NanoCpus"] = nano_cpus
    answer = _post(engine, f"/containers/{quote(container, safe='')}/update", json=body)
    return tuple(answer.get("Warnings") or ())


@engine_call
def update_settings(engine: Engine, container: str) -> dict[str, Any]:
    """The HostConfig values `update` changes, as the engine holds them now."""
    host = engine.api.inspect_container(container).get("HostConfig") or {}
    return {"RestartPolicy": host.get("RestartPolicy"), "Memory": host.get("Memory"),
            "MemorySwap": host.get("MemorySwap"), "NanoCpus": host.get("NanoCpus")}


# -- wait ----------------------------------------------------------------------------------

def _post(engine: Engine, path: str, *, json: Any = None, params: Any = None,
          timeout: float | tuple[float, float] | None = None) -> dict[str, Any]:
    """POST to the Engine API (what docker-py does not offer) and read its JSON answer."""
    api = engine.api
    response = api.post(f"{api.base_url}/v{api.api_version}{path}", json=json, params=params,
                        timeout=timeout or engine.timeout)
    try:
        response.raise_for_status()
    except requests.exceptions.HTTPError as exc:
        raise docker.errors.create_api_error_from_http_exception(exc) from None
    finally:
        response.close()
    return response.json() if response.content else {}


def _wait_one(engine: Engine, container: str, seconds: float) -> WaitResult:
    try:
        answer = _post(engine, f"/containers/{quote(container, safe='')}/wait",
                       params={"condition": "not-running"},
                       timeout=(engine.timeout, max(seconds, 0.1)))
    except requests.exceptions.ReadTimeout:
        return WaitResult(container, None)
    except requests.exceptions.ConnectionError as exc:
        if "read timed out" in str(exc).lower():
            return WaitResult(container, None)
        return WaitResult(container, None, translate(engine.display_url, exc).message)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        return WaitResult(container, None, translate(engine.display_url, exc).message)
    error = (answer.get("Error") or {}).get("Message") or ""
    return WaitResult(container, int(answer.get("StatusCode", -1)), error)


def wait(engine: Engine, containers: Sequence[str], *, seconds: float) -> list[WaitResult]:
    """`docker wait`: each container's exit code once it stops, in the order named; None for
    those still running when `seconds` have passed (they keep running)."""
    if len(containers) == 1:
        return [_wait_one(engine, containers[0], seconds)]
    with ThreadPoolExecutor(max_workers=min(STATS_PARALLEL, len(containers))) as pool:
        return list(pool.map(lambda name: _wait_one(engine, name, seconds), containers))


# -- diff, history ----------------------------------------------------------------------------

@engine_call
def diff(engine: Engine, container: str) -> tuple[str, list[FileChange]]:
    """`docker diff`: the container's name and its changes, in the engine's order."""
    name = engine.api.inspect_container(container)["Name"].lstrip("/")
    changes = engine.api.diff(container) or []
    return name, [FileChange(_CHANGE_KINDS.get(int(c.get("Kind", 0)), "?"), c.get("Path", ""))
                  for c in changes]


@engine_call
def history(engine: Engine, image: str) -> list[HistoryRow]:
    """`docker history`: the image's layers, newest first, as the engine returns them."""
    rows = engine.api.history(image) or []
    return [HistoryRow(id=row.get("Id") or "<missing>",
                       created=from_docker(row.get("Created")) if row.get("Created") else None,
                       created_by=mask_output(row.get("CreatedBy") or ""),
                       size=int(row.get("Size") or 0), comment=row.get("Comment") or "")
            for row in rows]


# -- events ---------------------------------------------------------------------------------

def _as_sent(stamp: str | None) -> Any:
    """A `SECONDS[.NANOS]` string goes to the engine as is (docker-py types it as a datetime
    or int, and would cut a datetime to whole seconds)."""
    return stamp


def event_of(raw: Mapping[str, Any]) -> EngineEvent:
    actor = raw.get("Actor") or {}
    nano = int(raw.get("timeNano") or 0) or int(raw.get("time") or 0) * 1_000_000_000
    attributes = tuple(sorted((str(k), str(v)) for k, v in (actor.get("Attributes") or {}).items()))
    return EngineEvent(nano, raw.get("Type") or "", raw.get("Action") or raw.get("status") or "",
                       actor.get("ID") or raw.get("id") or "", attributes, dict(raw))


@engine_call
def events(engine: Engine, *, since: str | None, until: str,
           filters: Mapping[str, Sequence[str]] | None = None, limit: int = 10_000
           ) -> tuple[list[EngineEvent], bool]:
    """`docker events --since --until` (until is not in the future; both as the CLI sends them,
    bot/timeparse.engine_timestamp): the events, and whether more than `limit` came (only the
    first `limit` are kept)."""
    stream = engine.api.events(since=_as_sent(since), until=_as_sent(until),
                               filters=filters_dict(filters) or None, decode=True)
    found: list[EngineEvent] = []
    more = False
    try:
        for raw in stream:
            if len(found) >= limit:
                more = True
                break
            found.append(event_of(raw))
    finally:
        stream.close()
    return found, more


class EventLines:
    """A live events stream as text lines (bytes), closable from another thread."""

    def __init__(self, stream: Any, line: Callable[[EngineEvent], str]) -> None:
        self._stream = stream
        self._line = line

    def __iter__(self) -> Iterator[bytes]:
        for raw in self._stream:
            yield (self._line(event_of(raw)) + "\n").encode()

    def close(self) -> None:
        self._stream.close()


@engine_call
def open_events(engine: Engine, *, since: str | None,
                filters: Mapping[str, Sequence[str]] | None,
                line: Callable[[EngineEvent], str]) -> EventLines:
    """A following events stream (from `since` when given, else from now)."""
    stream = engine.api.events(since=_as_sent(since), filters=filters_dict(filters) or None,
                               decode=True)
    return EventLines(stream, line)
