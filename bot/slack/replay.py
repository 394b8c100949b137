"""Signed Slack requests (HTTP mode): verified first, then served once, even across restarts.

Nothing about a request is stored or parsed before its signature checks out: an unsigned
flood costs one HMAC each and leaves no trace. A verified request's signature is then kept
until it could no longer pass, in a `KeyLedger`: decided in memory (the ack path never waits
for a database write) and written to SQLite in batches within a moment, then loaded at start,
so a replay is refused after a restart too. Only a key accepted in the last ~50 ms before a
crash can be forgotten. The same ledger remembers user actions already run (bot/slack/once.py).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
from collections.abc import Callable

from bot import metrics
from bot.store import Store

# Slack signs with a timestamp and we accept it within 5 minutes either way (as Bolt and
# slack_sdk do): a signature stays replayable until its timestamp is 5 minutes past.
WINDOW_SECONDS = 300
FLUSH_SECONDS = 0.05  # how long a new key may wait in memory before it is written

log = logging.getLogger("dockops.slack")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class KeyLedger:
    """Keys seen and when each may be forgotten: decided in memory, written in batches."""

    def __init__(self, load: Callable[[float], dict[str, float]],
                 save: Callable[[list[tuple[str, float]], float], None], *, name: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.save = save
        self.name = name
        self.clock = clock
        self._lock = threading.Lock()
        self._seen = load(clock())
        self._unwritten: list[tuple[str, float]] = []
        self._wake = threading.Event()
        threading.Thread(target=self._write_loop, name=name, daemon=True).start()

    def first(self, key: str, expires_at: float) -> bool:
        """True the first time `key` is offered (it is then kept until `expires_at`)."""
        with self._lock:
            if key in self._seen:
                return False
            if len(self._seen) > 10_000:  # a busy day's keys: drop those past their expiry
                now = self.clock()
                self._seen = {k: e for k, e in self._seen.items() if e >= now}
            self._seen[key] = expires_at
            self._unwritten.append((key, expires_at))
        self._wake.set()
        return True

    def flush(self) -> None:
        """Write the keys accepted since the last write."""
        with self._lock:
            batch, self._unwritten = self._unwritten, []
        if batch:
            try:
                self.save(batch, self.clock())
            except Exception:
                log.exception("could not store %d %s", len(batch), self.name)

    def _write_loop(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(FLUSH_SECONDS)  # gather a burst into one transaction
            self._wake.clear()
            self.flush()


class SignedRequests:
    """Says whether a request is Slack's, fresh, and new; remembers the ones that are."""

    def __init__(self, signing_secret: str, store: Store, *, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self._secret = signing_secret.encode()
        self.store = store
        self.window = window
        self.clock = clock
        self.keys = KeyLedger(store.replay_keys, store.remember_replay_keys,
                              name="replay-keys", clock=clock)

    def refusal(self, body: bytes, timestamp: str, signature: str) -> str:
        """Why the request is refused ("" when it is genuine and first seen), in a few words;
        each refusal is counted by reason in dockops_slack_signature_failures_total."""
        reason, words = self._check(body, timestamp, signature)
        if reason:
            metrics.SIGNATURE_FAILURES.labels(reason).inc()
        return words

    def _check(self, body: bytes, timestamp: str, signature: str) -> tuple[str, str]:
        """(reason from metrics.SIGNATURE_REASONS, the words for the log); ("", "") passes."""
        if not timestamp or not signature:
            return "unsigned", "unsigned (no X-Slack-Signature or X-Slack-Request-Timestamp)"
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return "malformed", "malformed signing headers"
        now = self.clock()
        if abs(now - int(timestamp)) > self.window:
            return "stale", "stale or future timestamp (more than 5 minutes off)"
        expected = "v0=" + hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body,
                                    hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return "bad_signature", "bad signature"
        # Only now, for a request Slack signed, does anything touch the database.
        if not self.keys.first(signature, int(timestamp) + self.window):
            return "replayed", "replayed (same signature served before)"
        return "", ""

    def flush(self) -> None:
        """Write the keys accepted since the last write."""
        self.keys.flush()
