"""Fan-out: one read on several hosts at once, each answering by its own deadline."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from bot import metrics
from bot.engine.client import Engine
from bot.engine.hosts import HostEngine, unreachable_reason
from bot.errors import DockopsError
from bot.handlers.context import Context
from bot.redact import mask_text
from bot.views.hosts import HostAnswer, grouped
from bot.views.message import Message

T = TypeVar("T")
log = logging.getLogger("dockops.fanout")


@dataclass(frozen=True)
class HostOutcome(Generic[T]):
    """One host's part of a fan-out: its value, or the sentence saying why there is none."""

    host: str
    url: str
    value: T | None = None
    error: str = ""
    unreachable: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error


class _Slot(Generic[T]):
    """One host's call on its own thread; the first of answer and deadline wins."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._outcome: HostOutcome[T] | None = None

    def settle(self, outcome: HostOutcome[T]) -> bool:
        """Keep `outcome` unless the slot is settled already (a late answer after the deadline)."""
        with self._lock:
            if self._outcome is not None:
                return False
            self._outcome = outcome
        self.done.set()
        return True

    def run(self, call: Callable[[Engine], T], started: float) -> None:
        engine = self.engine
        try:
            value = call(engine)
        except DockopsError as exc:
            if metrics.error_kind(exc) == "engine":  # the pipeline never sees this failure
                metrics.ENGINE_ERRORS.labels(engine.name).inc()
            reason = unreachable_reason(exc, engine.timeout, engine.url or "")
            if reason and self.settle(self.failure(f"unreachable ({reason})", started, True)):
                _mark_down(engine, reason)
            elif not reason:
                self.settle(self.failure(mask_text(exc.message), started, False))
            return
        except Exception:
            log.exception("fan-out call on host %s failed", engine.name)
            self.settle(self.failure("internal error (the bot's log has the details)", started,
                                     False))
            return
        if self.settle(HostOutcome(engine.name, engine.display_url, value,
                                   seconds=time.monotonic() - started)) \
                and isinstance(engine, HostEngine):
            engine.mark_reachable()

    def outcome(self, started: float) -> HostOutcome[T]:
        """The answer, or `unreachable` when the deadline passed first (the host is marked down)."""
        reason = f"no answer within {self.engine.timeout:g} s"
        if self.settle(self.failure(f"unreachable ({reason})", started, True)):
            _mark_down(self.engine, reason)
        assert self._outcome is not None
        return self._outcome

    def failure(self, error: str, started: float, unreachable: bool) -> HostOutcome[T]:
        return HostOutcome(self.engine.name, self.engine.display_url, error=error,
                           unreachable=unreachable, seconds=time.monotonic() - started)


def _mark_down(engine: Engine, reason: str) -> None:
    if isinstance(engine, HostEngine):
        engine.mark_unreachable(reason)


def fan_out(engines: list[Engine], call: Callable[[Engine], T]) -> list[HostOutcome[T]]:
    """`call` on every engine at once; a host past its deadline (its timeout) is `unreachable`.

    A host that failed recently is not tried until its cooldown ends. Threads of hosts that
    miss the deadline are left to end on their own (daemon threads: they never block exit).
    """
    started = time.monotonic()
    slots: list[_Slot[T]] = [_Slot(engine) for engine in engines]
    for slot in slots:
        down = slot.engine.down_reason() if isinstance(slot.engine, HostEngine) else ""
        if down:
            slot.settle(slot.failure(f"unreachable ({down})", started, True))
            continue
        threading.Thread(target=slot.run, args=(call, started), daemon=True,
                         name=f"fanout-{slot.engine.name}").start()
    for slot in slots:
        slot.done.wait(max(0.0, started + slot.engine.timeout - time.monotonic()))
    return [slot.outcome(started) for slot in slots]


def per_host(ctx: Context, title: str, call: Callable[[Engine], T],
             view: Callable[[T, str], Message], *, filename: str) -> Message:
    """A read on the command's host, or on each of its hosts grouped when it names several.

    `view(value, host_label)` is the one-host rendering; grouped parts get an empty label
    because their header line names the host.
    """
    if not ctx.fans_out:
        return view(call(ctx.engine), ctx.host_label)
    answers = [HostAnswer(o.host, o.url, view(cast(T, o.value), "") if o.ok else None, o.error,
                          o.unreachable, o.seconds)
               for o in fan_out(ctx.engines, call)]
    return grouped(title, answers, filename=filename)
