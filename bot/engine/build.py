"""`docker build` through the low-level stream: progress as it comes, the whole log at the end."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from bot import refs
from bot.engine.client import Engine
from bot.engine.results import BuildProgress, BuildResult
from bot.engine.translate import engine_call
from bot.redact import mask_output

_STEP = re.compile(r"^Step \d+/\d+ : ")
PROGRESS_LINES = 8


@dataclass(frozen=True)
class BuildSpec:
    """What to build: an absolute context directory and the CLI's options."""

    context: str
    tags: tuple[str, ...] = ()
    dockerfile: str | None = None
    buildargs: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    nocache: bool = False
    pull: bool = False
    timeout: float = 1800.0


class _Log:
    """The build output, reassembled into whole lines (the stream splits them anywhere)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.partial = ""
        self.step = ""

    def feed(self, text: str) -> None:
        parts = (self.partial + text).split("\n")
        self.partial = parts.pop()
        for line in parts:
            self._add(line)

    def _add(self, line: str) -> None:
        # The classic builder echoes `Step 2/3 : ENV DB_PASS=...`: mask like container output.
        line = mask_output(line.rstrip("\r"))
        if _STEP.match(line):
            self.step = line
        self.lines.append(line)

    def close(self) -> str:
        if self.partial:
            self._add(self.partial)
            self.partial = ""
        return "\n".join(self.lines) + "\n"

    def progress(self) -> BuildProgress:
        recent = [line for line in self.lines[-PROGRESS_LINES:] if line.strip()]
        return BuildProgress(self.step, tuple(recent))


def _consume(stream: Iterable[dict], log: _Log,
             on_progress: Callable[[BuildProgress], None]) -> tuple[str, str]:
    """Read the build stream: the image ID (aux) and the error, if the stream reports one."""
    image_id, error = "", ""
    for chunk in stream:
        if "stream" in chunk:
            log.feed(chunk["stream"])
        elif "status" in chunk:
            # --pull progress: "Pulling from ...", one line per status.
            log.feed(f"{chunk.get('id', '')} {chunk['status']}".strip() + "\n")
        if "aux" in chunk and isinstance(chunk["aux"], dict):
            image_id = chunk["aux"].get("ID", image_id)
        if "error" in chunk or "errorDetail" in chunk:
            error = (chunk.get("errorDetail") or {}).get("message") or chunk.get("error", "")
            log.feed(f"ERROR: {error}\n")
        on_progress(log.progress())
    return image_id, error


@engine_call
def build(engine: Engine, spec: BuildSpec,
          on_progress: Callable[[BuildProgress], None] = lambda _: None) -> BuildResult:
    """Build `spec`, removing intermediate containers on success and failure alike."""
    started = time.monotonic()
    log = _Log()
    stream = engine.api.build(
        path=spec.context, tag=spec.tags[0] if spec.tags else None, dockerfile=spec.dockerfile,
        buildargs=dict(spec.buildargs) or None, labels=dict(spec.labels) or None,
        nocache=spec.nocache, pull=spec.pull, rm=True, forcerm=True, decode=True,
        timeout=int(spec.timeout))
    image_id, error = _consume(stream, log, on_progress)
    if not error and not image_id:
        error = "The engine ended the build without naming an image."
    if not error:
        # The API tags one name per build call here; the other -t names are tagged after.
        for extra in spec.tags[1:]:
            engine.api.tag(image_id, *refs.split(extra))
    return BuildResult(ok=not error, image_id=image_id if not error else "", tags=spec.tags,
                       step=log.step, error=error, log=log.close(),
                       seconds=time.monotonic() - started)
