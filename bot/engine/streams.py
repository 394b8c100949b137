"""Live container output (logs -f, attach): read in its own thread, buffered into lines."""

from __future__ import annotations

import codecs
import logging
import threading
from collections import deque
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol

from bot.engine.client import Engine
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
              since: datetime | None = None, timestamps: bool = False) -> Closable:
    """A following log stream (stdout and stderr) that starts `tail` lines back."""
    kwargs: dict[str, Any] = {"stdout": True, "stderr": True, "stream": True, "follow": True,
                              "timestamps": timestamps, "tail": "all" if tail is None else tail}
    if since is not None:
        kwargs["since"] = since
    return engine.api.logs(container, **kwargs)


@engine_call
def open_attach(engine: Engine, container: str) -> Closable:
    """The container's live stdout and stderr from now on (no backlog)."""
    return engine.api.attach(container, stdout=True, stderr=True, stream=True, logs=False)
