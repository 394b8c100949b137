"""One budget for every Slack Web API call the process makes.

Slack limits each method per app per workspace (its tiers) and answers 429 with Retry-After
when a method is over. The governor keeps a token bucket per method (per channel for
chat.postMessage), pauses a method for every caller when one call got a 429, and lets
final answers and notices go before live updates: a skippable update (bot/pacing.py) is
declined when the bucket is down to its reserve, or when an answer is waiting for a token.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot import metrics
from bot.pacing import Skipped, is_skippable


@dataclass(frozen=True)
class Budget:
    """At most `per_minute` calls in any 60 s, `burst` of them at once; a skippable update
    leaves `reserve` calls for answers."""

    per_minute: int
    burst: int
    reserve: int = 1
    per_channel: bool = False

    @property
    def rate(self) -> float:
        """Tokens a second: the burst plus a minute of refill never exceeds `per_minute`."""
        return (self.per_minute - self.burst) / 60.0


# Slack's tiers (https://docs.slack.dev/apis/web-api/rate-limits): Tier 2 20+/min, Tier 3
# 50+/min, Tier 4 100+/min, per method per app per workspace; chat.postMessage (special)
# about 1 a second per channel with short bursts. Each method's tier is on its reference
# page (https://docs.slack.dev/reference/methods/<method>). We stay at the floor of each.
# Methods not listed (auth.test, apps.connections.open) have no budget; a 429 still pauses them.
BUDGETS: Mapping[str, Budget] = {
    "chat.postMessage": Budget(60, 3, per_channel=True),  # special: 1/s per channel
    "chat.update": Budget(50, 5, reserve=2),  # Tier 3, app-wide: follows share it
    "chat.delete": Budget(50, 5),  # Tier 3
    "chat.postEphemeral": Budget(100, 10),  # Tier 4
    "files.getUploadURLExternal": Budget(100, 10),  # Tier 4
    "files.completeUploadExternal": Budget(100, 10),  # Tier 4
    "files.upload": Budget(20, 3),  # Tier 2 (the v1 upload)
    "files.info": Budget(100, 10),  # Tier 4
    "usergroups.users.list": Budget(20, 3),  # Tier 2
    "users.info": Budget(100, 10),  # Tier 4
    "conversations.info": Budget(50, 5),  # Tier 3
    "views.publish": Budget(100, 10),  # Tier 4: the App Home tab
}

POLL_SECONDS = 0.25  # how often a waiting answer looks again (a pause can be lengthened)
RECENT_SECONDS = 3.0  # a live message that asked this recently is still in line (follows: 1 s)


@dataclass
class _Bucket:
    budget: Budget
    tokens: float
    stamp: float
    waiting: int = 0  # answers waiting for a token: skippable updates give way to them
    # Live messages (by ts) that asked lately, and when each last got a token: the one
    # served longest ago goes first, so follows take turns instead of the quickest winning.
    asked: dict[str, float] = field(default_factory=dict)
    served: dict[str, float] = field(default_factory=dict)

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(float(self.budget.burst), self.tokens + elapsed * self.budget.rate)
        self.stamp = now

    def first_in_line(self, target: str, now: float) -> bool:
        """Note that `target` asked; True when no other recent asker was served longer ago."""
        if not target:
            return True
        self.asked[target] = now
        for stale in [t for t, at in self.asked.items() if now - at > RECENT_SECONDS]:
            del self.asked[stale]
            self.served.pop(stale, None)
        mine = self.served.get(target, float("-inf"))
        return all(self.served.get(other, float("-inf")) >= mine for other in self.asked)

    def wait_for_token(self) -> float:
        """Seconds until a whole token is there (0 within float rounding: never a 1e-17 wait)."""
        missing = 1.0 - self.tokens
        return missing / self.budget.rate if missing > 1e-9 else 0.0


class Governor:
    """Decides when each Web API call may go. Thread-safe; `clock`/`sleep` are for tests."""

    def __init__(self, budgets: Mapping[str, Budget] = BUDGETS, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.budgets = budgets
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._paused: dict[str, float] = {}

    def admit(self, method: str, channel: str = "", target: str = "") -> None:
        """Return when the call may go; Skipped for a skippable update that may not go now."""
        if is_skippable():
            if not self.try_acquire(method, channel, target):
                raise Skipped(method)
        else:
            self.acquire(method, channel)

    def try_acquire(self, method: str, channel: str = "", target: str = "") -> bool:
        """A live update's question: may it go now? (True took its token.) `target` names the
        message it updates, so messages sharing the budget take turns."""
        with self._lock:
            now = self.clock()
            if self._pause_left(method, now) > 0:
                return False
            bucket = self._bucket(method, channel, now)
            if bucket is None:
                return True
            in_line = bucket.first_in_line(target, now)
            if bucket.waiting or bucket.tokens < 1 + bucket.budget.reserve or not in_line:
                return False
            bucket.tokens -= 1
            if target:
                bucket.served[target] = now
            return True

    def acquire(self, method: str, channel: str = "") -> float:
        """Wait for a pause to end and a token (an answer is never dropped); seconds waited."""
        started = self.clock()
        queued: _Bucket | None = None
        try:
            while True:
                with self._lock:
                    now = self.clock()
                    wait = self._pause_left(method, now)
                    bucket = self._bucket(method, channel, now)
                    if bucket is not None and wait <= 0:
                        wait = bucket.wait_for_token()
                        if wait <= 0:
                            bucket.tokens -= 1
                            return now - started
                    if wait <= 0:
                        return now - started
                    if bucket is not None and queued is None:
                        queued = bucket
                        bucket.waiting += 1
                self.sleep(min(wait, POLL_SECONDS))
        finally:
            if queued is not None:
                with self._lock:
                    queued.waiting -= 1

    def pause(self, method: str, seconds: float) -> None:
        """Slack said 429: no call of `method` goes, from anyone, for `seconds`."""
        with self._lock:
            until = self.clock() + seconds
            self._paused[method] = max(self._paused.get(method, 0.0), until)

    def paused_for(self, method: str) -> float:
        with self._lock:
            return self._pause_left(method, self.clock())

    def wait_out_pause(self, method: str) -> None:
        while (left := self.paused_for(method)) > 0:
            self.sleep(min(left, POLL_SECONDS))

    def _pause_left(self, method: str, now: float) -> float:
        return max(0.0, self._paused.get(method, 0.0) - now)

    def _bucket(self, method: str, channel: str, now: float) -> _Bucket | None:
        budget = self.budgets.get(method)
        if budget is None:
            return None
        key = (method, channel if budget.per_channel else "")
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(budget, float(budget.burst), now)
        bucket.refill(now)
        return bucket


def retry_after(headers: Mapping[str, Any] | None) -> float:
    """Seconds from a Retry-After header (str or list of str); 1 when missing or unreadable."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


def method_of(url: str) -> str:
    """`chat.update` from `https://slack.com/api/chat.update?x=1`."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


class RetryAfterHandler(RetryHandler):
    """On 429 the method pauses for every caller; an answer retries once the pause ends,
    a skippable update does not (the next one carries the latest content)."""

    def __init__(self, governor: Governor, max_retry_count: int = 5) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.governor = governor

    def _can_retry(self, *, state: RetryState, request: HttpRequest,
                   response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        if response is None or response.status_code != 429:
            return False
        self.governor.pause(method_of(request.url), retry_after(response.headers))
        return not is_skippable()

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None,
                                 error: Exception | None = None) -> None:
        state.next_attempt_requested = True
        self.governor.wait_out_pause(method_of(request.url))
        state.increment_current_attempt()


# dockops_slack_api_errors_total's labels: the methods dockops calls (else `other`), and error
# words (Slack's snake_case codes, http_NNN, connection) up to MAX_ERROR_CODES distinct ones.
API_METHODS = frozenset(BUDGETS) | {"auth.test", "apps.connections.open"}
MAX_ERROR_CODES = 50
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_codes: set[str] = set()
_codes_lock = threading.Lock()


def api_error(status: int, data: Any) -> str:
    """A failed answer's error word: `http_NNN` when not HTTP 200, else Slack's `error`."""
    if status != 200:
        return f"http_{status}"
    error = data.get("error") if isinstance(data, Mapping) else None
    return str(error or "unknown")


def count_api_error(method: str, error: str) -> None:
    """Count one failed Web API call; a label value never comes from outside the bounds."""
    with _codes_lock:
        if _ERROR_CODE.fullmatch(error) and (error in _codes or len(_codes) < MAX_ERROR_CODES):
            _codes.add(error)
        else:
            error = "other"
    metrics.SLACK_API_ERRORS.labels(method if method in API_METHODS else "other", error).inc()


GOVERNOR = Governor()  # the process's one governor: every client built in client.py uses it
