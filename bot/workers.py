"""The worker pool that runs commands after the ack, and drains them on shutdown."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

log = logging.getLogger("dockops.workers")


class WorkerPool:
    """Runs work off the ack path; refuses new work once closing."""

    def __init__(self, workers: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dockops")
        self._inflight: set[Future[None]] = set()
        self._lock = threading.Lock()
        self.closing = threading.Event()

    def submit(self, work: Callable[[], None]) -> bool:
        """Queue `work`; False when the bot is shutting down."""
        with self._lock:
            if self.closing.is_set():
                return False
            future = self._executor.submit(self._guard, work)
            self._inflight.add(future)
        future.add_done_callback(self._done)
        return True

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
        return not not_done

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._inflight.discard(future)

    @staticmethod
    def _guard(work: Callable[[], None]) -> None:
        try:
            work()
        except Exception:
            log.exception("work failed outside the pipeline")
