"""The worker pool that runs commands after the ack, and drains them on shutdown."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from bot.errors import RefusedError

log = logging.getLogger("dockops.workers")


def freeze_startup_heap() -> None:
    """Hide what start-up loaded from the cyclic collector.

    Under a burst of commands a full collection scanned every module, model and table the bot
    loaded: a 145 ms pause of every ack in flight. Frozen, it scans what commands allocate
    (7 ms measured).
    """
    gc.freeze()


# Threads kept for quick reads (ps, images, logs...), on top of `workers`: a viewer's `ps` is
# answered while long commands (attached runs, builds) hold every worker.
QUICK_WORKERS = 2


class TooManyCommands(RefusedError):
    """One user already has as many commands running or queued as [limits] allows."""


class WorkerPool:
    """Runs work off the ack path; refuses new work once closing.

    Two lanes: `workers` threads for any command, and `quick_workers` more for quick reads
    only. Each user may have at most `per_user` pieces of work queued or running (0: no limit).

    Acks come first: work queued during a burst (less than `quiet` seconds after the work
    before it) starts once no new work arrived for `quiet` seconds, or `max_defer` seconds
    after it was queued. With one interpreter lock, work running during a burst of slash
    commands made each ack wait for it (p50 150-260 ms at 50 concurrent, vs 50-90 ms
    deferred). A lone command, or the first of a burst, starts at once.
    """

    def __init__(self, workers: int, *, quick_workers: int = QUICK_WORKERS, per_user: int = 0,
                 quiet: float = 0.02, max_defer: float = 1.0) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dockops")
        self._quick = ThreadPoolExecutor(max_workers=quick_workers,
                                         thread_name_prefix="dockops-quick")
        self._inflight: set[Future[None]] = set()
        self.per_user = per_user
        self._by_user: dict[str, int] = {}
        self._lock = threading.Lock()
        self.closing = threading.Event()
        self.quiet = quiet
        self.max_defer = max_defer
        self._last_queued = float("-inf")  # the first work is no part of a burst
        freeze_startup_heap()  # the pool is built once the bot's modules are loaded

    def submit(self, work: Callable[[], None], *, user: str = "", quick: bool = False) -> bool:
        """Queue `work`; False when the bot is shutting down.

        `quick` work runs in the quick lane. With a `user`, TooManyCommands is raised (and
        nothing queued) when that user is at the per-user limit; "" is never limited.
        """
        with self._lock:
            if self.closing.is_set():
                return False
            held = self._by_user.get(user, 0)
            if user and self.per_user and held >= self.per_user:
                raise TooManyCommands(
                    f"You already have {held} commands running; wait for one to finish "
                    f"(the limit is `per_user_commands` in [limits]).")
            queued = time.monotonic()
            in_burst = queued - self._last_queued < self.quiet
            self._last_queued = queued
            executor = self._quick if quick else self._executor
            future = executor.submit(self._guard, work, queued if in_burst else None)
            self._inflight.add(future)
            if user:
                self._by_user[user] = held + 1
        future.add_done_callback(lambda done: self._done(done, user))
        return True

    def running_for(self, user: str) -> int:
        """How many pieces of work `user` has queued or running."""
        with self._lock:
            return self._by_user.get(user, 0)

    @property
    def busy(self) -> int:
        with self._lock:
            return len(self._inflight)

    def shutdown(self, grace: float) -> bool:
        """Stop taking work, wait up to `grace` seconds; True when everything finished."""
        self.closing.set()
        with self._lock:
            pending = set(self._inflight)
        _, not_done = wait(pending, timeout=grace)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._quick.shutdown(wait=False, cancel_futures=True)
        return not not_done

    def _done(self, future: Future[None], user: str) -> None:
        with self._lock:
            self._inflight.discard(future)
            if user:
                left = self._by_user.get(user, 1) - 1
                if left > 0:
                    self._by_user[user] = left
                else:
                    self._by_user.pop(user, None)  # the map holds only users with work

    def _wait_for_quiet(self, queued: float) -> None:
        """Sleep (off the interpreter lock) while acks are still arriving, up to max_defer."""
        while True:
            now = time.monotonic()
            quiet_left = self.quiet - (now - self._last_queued)
            defer_left = queued + self.max_defer - now
            if quiet_left <= 0 or defer_left <= 0:
                return
            time.sleep(min(quiet_left, defer_left))

    def _guard(self, work: Callable[[], None], queued_in_burst: float | None) -> None:
        if queued_in_burst is not None:
            self._wait_for_quiet(queued_in_burst)
        try:
            work()
        except Exception:
            log.exception("work failed outside the pipeline")
