"""One message updated in place while work runs: at most one update per interval."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bot.pacing import Skipped, skippable
from bot.reply import Thread
from bot.views.message import Message

log = logging.getLogger("dockops.progress")

UPDATE_INTERVAL = 1.0  # chat.update is rate limited; a second is fast enough to read


class ThrottledThread:
    """Progress goes to `thread` at most once per `interval` (skipped when the Slack budget is
    short); the final message always does.

    The latest progress is kept and sent when the interval ends (a quiet build step still
    shows), and nothing is sent after `finish`. Slack failures never stop the work.
    """

    def __init__(self, thread: Thread, interval: float = UPDATE_INTERVAL) -> None:
        self.thread = thread
        self.interval = interval
        self.updates = 0
        self._lock = threading.Lock()
        self._pending: Callable[[], Message] | None = None
        self._last = time.monotonic()  # the thread's first message was just posted
        self._timer: threading.Timer | None = None
        self._closed = False

    def progress(self, make: Callable[[], Message]) -> None:
        """Show `make()` soon; only the latest of several quick calls is ever built."""
        with self._lock:
            if self._closed:
                return
            self._pending = make
            wait = self._last + self.interval - time.monotonic()
            if wait <= 0:
                self._flush()
            else:
                self._schedule(wait)

    def _schedule(self, wait: float) -> None:
        if self._timer is None:
            self._timer = threading.Timer(wait, self._on_timer)
            self._timer.daemon = True
            self._timer.start()

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
            if not self._closed and self._pending is not None:
                self._flush()

    def _flush(self) -> None:
        make, self._pending = self._pending, None
        self._last = time.monotonic()
        if make is None:
            return
        try:
            with skippable():  # progress gives way to answers when Slack's budget is short
                self._send(make())
        except Skipped:  # show the latest progress a little later
            self._pending = self._pending or make
            self._schedule(self.interval)

    def _send(self, message: Message) -> bool:
        try:
            self.thread.update(message)
        except Skipped:
            raise
        except Exception:
            log.warning("could not update the progress message", exc_info=True)
            return False
        self.updates += 1
        return True

    def finish(self, message: Message) -> bool:
        """Show the final message (and its attachment); False when it could not be delivered."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            return self._send(message)
