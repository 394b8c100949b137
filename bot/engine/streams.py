"""Live container output (logs -f, attach): read in its own thread, buffered into lines."""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import tempfile
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import docker.errors
import requests
from docker.types.daemon import CancellableStream

from bot.engine.client import Engine
from bot.engine.results import SPOOL_PREFIX, LogText, Spool
from bot.engine.translate import engine_call
from bot.redact import mask_output

log = logging.getLogger("dockops.streams")

# What one stream keeps in memory: the tail of its output, never the whole of it.
KEEP_CHARS = 1_000_000
# The longest line kept whole: past it, output without a newline is cut into lines.
MAX_LINE_CHARS = 64 * 1024


class Closable(Protocol):
    """docker-py's CancellableStream: iterate for chunks, close() from another thread."""

    def __iter__(self) -> Iterator[bytes]: ...

    def close(self) -> None: ...


class LineBuffer:
    """Bytes in, text lines out. TTY streams arrive one byte per chunk; lines come out whole.

    Keeps the last `keep_chars` characters of complete lines plus the line still being written.
    A line longer than `max_line` characters is cut into lines of that length, so output that
    never prints a newline (a progress bar, `yes | tr -d '\\n'`) cannot grow memory.
    """

    def __init__(self, keep_chars: int = KEEP_CHARS, max_line: int = MAX_LINE_CHARS) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._lines: deque[str] = deque()
        self._chars = 0
        # The unfinished line as pieces: joining it on every one-byte chunk would be quadratic.
        self._pending: list[str] = []
        self._pending_chars = 0
        self._lock = threading.Lock()
        self.keep_chars = keep_chars
        self.max_line = max_line
        self.total_bytes = 0
        self.total_lines = 0
        self.dropped_lines = 0
        self.cut_lines = 0

    def feed(self, chunk: bytes) -> None:
        text = self._decoder.decode(chunk)
        with self._lock:
            self.total_bytes += len(chunk)
            self._add(text)

    def finish(self) -> None:
        """The stream ended: keep whatever was left without a newline as a last line."""
        with self._lock:
            self._add(self._decoder.decode(b"", final=True))
            if self._pending_chars:
                self._push(self._take_pending())

    def _add(self, text: str) -> None:
        if not text:
            return
        *done, rest = text.split("\n")
        if done:
            done[0] = self._take_pending() + done[0]
            for line in done:
                self._push(self._cut(line))
        if rest:
            self._pending.append(rest)
            self._pending_chars += len(rest)
            if self._pending_chars > self.max_line or len(self._pending) > 1024:
                left = self._cut(self._take_pending())
                self._pending, self._pending_chars = [left], len(left)

    def _take_pending(self) -> str:
        pending = "".join(self._pending)
        self._pending, self._pending_chars = [], 0
        return pending

    def _cut(self, line: str) -> str:
        """Push `line` in pieces of `max_line` while it is longer; return what is left."""
        while len(line) > self.max_line:
            self.cut_lines += 1
            self._push(line[:self.max_line])
            line = line[self.max_line:]
        return line

    def _push(self, line: str) -> None:
        # A carriage return rewrites the line on a terminal (progress bars): keep what shows.
        line = line.rstrip("\r").rsplit("\r", 1)[-1]
        # Masked as it is kept: every reader (follow, exec, attached run) sees only this.
        line = mask_output(line)
        self._lines.append(line)
        self._chars += len(line) + 1
        self.total_lines += 1
        while self._chars > self.keep_chars and len(self._lines) > 1:
            self._chars -= len(self._lines.popleft()) + 1
            self.dropped_lines += 1

    def text(self) -> str:
        """Every kept line, and the unfinished one as it would show on a terminal."""
        with self._lock:
            pending = mask_output("".join(self._pending).rsplit("\r", 1)[-1])
            body = "\n".join(self._lines)
            if pending:
                return f"{body}\n{pending}" if body else pending
            return body + ("\n" if body else "")

    @property
    def truncated(self) -> bool:
        return self.dropped_lines > 0


class StreamReader:
    """Reads a docker output stream into a LineBuffer on a daemon thread until it ends or closes."""

    def __init__(self, stream: Closable, name: str, keep_chars: int = KEEP_CHARS) -> None:
        self.stream = stream
        self.buffer = LineBuffer(keep_chars)
        self.ended = threading.Event()
        self.error: str = ""
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._read, name=f"stream-{name}", daemon=True)

    def start(self) -> StreamReader:
        self._thread.start()
        return self

    def _read(self) -> None:
        try:
            for chunk in self.stream:
                if chunk:
                    self.buffer.feed(chunk if isinstance(chunk, bytes) else bytes(chunk))
        except Exception as exc:  # the socket is shut down under us on close(): not an error
            if not self._closed.is_set():
                log.warning("output stream failed: %s", exc)
                self.error = str(exc)
        finally:
            self.buffer.finish()
            self.ended.set()

    def wait(self, timeout: float | None) -> bool:
        """True when the stream ended within `timeout` seconds."""
        return self.ended.wait(timeout)

    def close(self) -> None:
        """Stop reading (idempotent); the thread ends once the socket is shut."""
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self.stream.close()
        except Exception as exc:
            log.debug("closing an output stream: %s", exc)
        if self._thread.ident is not None:  # closed before start(): no reader thread to wait for
            self._thread.join(timeout=5)


@engine_call
def open_logs(engine: Engine, container: str, *, tail: int | None = 20,
              since: datetime | str | None = None, timestamps: bool = False,
              details: bool = False, until: str | None = None) -> Closable:
    """A following log stream (stdout and stderr) that starts `tail` lines back; `since` as
    the CLI sends it (`SECONDS.NANOS`), or a datetime; `until` ends it at the first line
    after that time, as the engine does for `logs -f --until`."""
    if isinstance(since, datetime):
        since = f"{since.timestamp():.6f}"
    query = LogQuery(tail=tail, since=since, until=until, timestamps=timestamps,
                     details=details)
    response, tty = _log_response(engine, container, query, follow=True)
    return CancellableStream(_payloads(response, tty, live=True), response)


# -- logs without -f: read once, the whole of it spooled to disk when asked ---------------------

# What a bounded read (`--tail N`, `--tail all`) keeps before saying it was cut.
MAX_LOG_BYTES = 8 * 1024 * 1024
# The most a whole log attached as a file may hold: Slack refuses files over 1 GB.
MAX_SPOOL_BYTES = 1_000_000_000
_READ_SIZE = 256 * 1024
_FRAME_HEADER = 8


@dataclass(frozen=True)
class LogQuery:
    """`docker logs` options as the engine takes them (times already `SECONDS.NANOS` text)."""

    tail: int | None = None
    since: str | None = None
    until: str | None = None
    timestamps: bool = False
    details: bool = False


def _log_response(engine: Engine, container: str, query: LogQuery, *,
                  follow: bool = False) -> tuple[Any, bool]:
    """The engine's `GET /containers/NAME/logs` response, streamed, and whether it has a TTY.

    docker-py's `logs()` has no `details` and sends `since` as whole seconds: built here.
    """
    api = engine.api
    tty = bool(api.inspect_container(container)["Config"].get("Tty"))
    params: dict[str, Any] = {"stdout": 1, "stderr": 1, "follow": int(follow),
                              "timestamps": int(query.timestamps), "details": int(query.details),
                              "tail": "all" if query.tail is None else query.tail}
    if query.since is not None:
        params["since"] = query.since
    if query.until is not None:
        params["until"] = query.until
    url = f"{api.base_url}/v{api.api_version}/containers/{quote(container, safe='')}/logs"
    # A follow waits for lines as long as it is open: no read timeout (close() ends it).
    response = api.get(url, params=params, stream=True,
                       timeout=(engine.timeout, None) if follow else engine.timeout)
    try:
        response.raise_for_status()
    except requests.exceptions.HTTPError as exc:
        response.close()
        raise docker.errors.create_api_error_from_http_exception(exc) from None
    return response, tty


def _payloads(response: Any, tty: bool, *, live: bool = False) -> Iterator[bytes]:
    """The log's bytes in big pieces: TTY output as it comes, else the frames' payloads (stdout
    and stderr in the engine's order) demultiplexed a block at a time, not a frame at a time.

    The engine sends each log line as its own HTTP chunk: a bounded read takes them in
    `_READ_SIZE` blocks (a 100 MB log: 1.3 million chunks); a live one as they arrive.
    """
    blocks: Iterator[bytes] = (response.iter_content(_READ_SIZE) if live
                               else iter(lambda: response.raw.read(_READ_SIZE), b""))
    if tty:
        yield from blocks
        return
    buffer = bytearray()
    for block in blocks:
        buffer += block
        out = bytearray()
        at = 0
        while len(buffer) - at >= _FRAME_HEADER:
            length = int.from_bytes(buffer[at + 4:at + 8], "big")
            if len(buffer) - at - _FRAME_HEADER < length:
                break
            out += buffer[at + _FRAME_HEADER:at + _FRAME_HEADER + length]
            at += _FRAME_HEADER + length
        del buffer[:at]
        if out:
            yield bytes(out)


class _LogSpool:
    """Masked log lines into a temporary file, keeping the last `keep` lines in memory."""

    def __init__(self, keep: int) -> None:
        fd, self.path = tempfile.mkstemp(prefix=SPOOL_PREFIX, suffix=".log")
        self.file = os.fdopen(fd, "wb")
        self.last: deque[str] = deque(maxlen=max(keep, 1))
        self.lines = 0
        self.size = 0
        self.unterminated = False  # the log's last line has no newline
        self._pending = b""

    def feed(self, data: bytes) -> None:
        data = self._pending + data
        end = data.rfind(b"\n") + 1
        if end:  # whole lines, masked a block at a time (a newline never splits a character)
            self._lines(data[:end])
        self._pending = data[end:]
        if len(self._pending) > MAX_LINE_CHARS * 4:  # no newline in sight: cut it
            self._lines(self._pending + b"\n")
            self._pending = b""

    def _lines(self, raw: bytes, terminated: bool = True) -> None:
        text = mask_output(raw.decode("utf-8", errors="replace"))
        encoded = text.encode()
        self.file.write(encoded)
        self.size += len(encoded)
        body = text[:-1] if terminated else text
        self.lines += body.count("\n") + 1
        self.last.extend(body.rsplit("\n", self.last.maxlen or 1)[-(self.last.maxlen or 1):])

    def close(self) -> Spool:
        """The file, owned by the Spool returned (deleted once that is dropped)."""
        if self._pending:
            self._lines(self._pending, terminated=False)
            self._pending = b""
            self.unterminated = True
        self.file.close()
        return Spool(self.path, self.size)

    def discard(self) -> None:
        self.file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def _read_bounded(chunks: Iterator[bytes]) -> tuple[str, bool]:
    """At most MAX_LOG_BYTES of the log as text, and whether there was more."""
    kept: list[bytes] = []
    total = 0
    for chunk in chunks:
        kept.append(chunk)
        total += len(chunk)
        if total >= MAX_LOG_BYTES:
            return b"".join(kept).decode("utf-8", errors="replace"), True
    return b"".join(kept).decode("utf-8", errors="replace"), False


@engine_call
def read_logs(engine: Engine, container: str, query: LogQuery) -> LogText:
    """`docker logs` without -f: `query.tail` lines, at most MAX_LOG_BYTES of them, masked."""
    response, tty = _log_response(engine, container, query)
    try:
        text, cut = _read_bounded(_payloads(response, tty))
    finally:
        response.close()
    text = mask_output(text)  # masked here, the one way out of the engine
    return LogText(container, text, text.count("\n"), cut)


@engine_call
def spool_logs(engine: Engine, container: str, query: LogQuery, *, keep: int) -> LogText:
    """The whole log (what `docker logs` prints without --tail) streamed into a file on disk,
    never into memory; `text` is its last `keep` lines. Past MAX_SPOOL_BYTES the file stops and
    the last lines are read apart, so they stay the log's last."""
    response, tty = _log_response(engine, container, replace(query, tail=None))
    spool = _LogSpool(keep)
    cut = False
    try:
        for chunk in _payloads(response, tty):
            spool.feed(chunk)
            if spool.size >= MAX_SPOOL_BYTES:
                cut = True
                break
    except BaseException:
        spool.discard()
        raise
    finally:
        response.close()
    whole = spool.close()
    if cut:
        last = read_logs(engine, container, replace(query, tail=keep))
        return LogText(container, last.text, last.lines, True, spool.lines, whole)
    text = "".join(f"{line}\n" for line in spool.last)
    if spool.unterminated:
        text = text[:-1]
    return LogText(container, text, len(spool.last), False, spool.lines, whole)


@engine_call
def open_attach(engine: Engine, container: str) -> Closable:
    """The container's live stdout and stderr from now on (no backlog)."""
    return engine.api.attach(container, stdout=True, stderr=True, stream=True, logs=False)
