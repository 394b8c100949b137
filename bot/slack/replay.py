"""Refuse a signed request seen before: Slack signs each request once, an attacker replays it."""

from __future__ import annotations

import threading
import time

# Bolt refuses timestamps older than 5 minutes, so a signature older than that cannot pass
# anyway: remembering 5 minutes of signatures closes the replay window completely.
WINDOW_SECONDS = 300


class ReplayGuard:
    """Remembers the signatures of the last five minutes."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, signature: str) -> bool:
        """True the first time a signature is seen; False for a replay."""
        if not signature:
            return True  # unsigned requests are Bolt's to refuse
        now = time.monotonic()
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen = {s: t for s, t in self._seen.items() if now - t < self.window}
            if signature in self._seen and now - self._seen[signature] < self.window:
                return False
            self._seen[signature] = now
            return True
