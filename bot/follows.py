"""Open follows (`logs -f`, `attach`): each streams into one Slack message on its own thread.

A follow posts one message, updates it in place at most once a second while output
arrives, and ends at its deadline, when the container exits, when someone presses
Stop, or at shutdown; its last update says which. The registry lets the Stop button
and shutdown reach a follow by its ID (the button carries `follows stop ID`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

from bot import metrics
from bot.engine.streams import StreamReader
from bot.errors import CannotPost, RefusedError
from bot.mrkdwn import md
from bot.pacing import Skipped, skippable
from bot.reply import Thread
from bot.views import lifecycle as views
from bot.views.limits import SNIPPET_CHARS

log = logging.getLogger("dockops.follow")

# At most one update a second per follow; chat.update's budget is app-wide (Tier 3), so with
# many follows the Slack governor skips live updates and each follow updates less often.
UPDATE_INTERVAL = 1.0
MAX_OPEN = 20  # each open follow holds an engine connection and a thread
PER_USER = 5  # [limits] per_user_follows' default; the Slack app sets the configured one


@dataclass
class Follow:
    """One live stream posted into one message. `run()` blocks until it ends."""

    title: str
    container: str
    owner: str
    reader: StreamReader
    thread: Thread
    seconds: float
    # Says why the stream ended by itself ("`web` exited with code 0").
    describe_end: Callable[[], str] = field(default=lambda: "the stream ended")
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # The Stop button's token (bot/buttons.py): its click runs `follows stop ID`.
    stop_token: str = ""
    interval: float = UPDATE_INTERVAL
    updates: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _reason: str = ""
    _done: threading.Event = field(default_factory=threading.Event)
    _started: float | None = None

    @property
    def seconds_left(self) -> float:
        """Until the follow's deadline (its full time before it starts)."""
        if self._started is None:
            return self.seconds
        return max(0.0, self._started + self.seconds - time.monotonic())

    def stop(self, reason: str) -> None:
        """Ask the follow to end; its closing update gives `reason` (text, or markup such as
        a mention)."""
        if not self._stop.is_set():
            self._reason = reason
            self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def run(self) -> None:
        self._started = started = time.monotonic()
        deadline = started + self.seconds
        shown = ""
        try:
            while True:
                now = time.monotonic()
                if self._stop.is_set():
                    reason = self._reason
                    break
                if self.reader.ended.is_set():
                    reason = self._end_reason()
                    break
                if now >= deadline:
                    reason = f"reached its {self.seconds:.0f} s limit"
                    break
                text = self.reader.buffer.text()
                # A skipped update (the budget is short) is offered again with the latest text.
                if text != shown and self._update(text, live=True,
                                                  note=self._live_note(deadline - now)):
                    shown = text
                # Sleep until the next update is due, waking early for Stop or the stream's end.
                pause = min(self.interval, max(0.0, deadline - time.monotonic()))
                if self._stop.wait(pause / 2) or self.reader.ended.wait(pause / 2):
                    continue
        except Exception:
            log.exception("follow %s failed", self.id)
            reason = "dockops hit an internal error (see its log)"
        finally:
            self.reader.close()
        self._finish(reason, time.monotonic() - started)

    def _end_reason(self) -> str:
        if self.reader.error:
            return f"the engine closed the stream ({self.reader.error})"
        try:
            return self.describe_end()
        except Exception as exc:
            return f"the stream ended ({exc})"

    def _live_note(self, left: float) -> str:
        return f"Live · stops by itself in {max(left, 0):.0f} s · follow `{self.id}`"

    def _update(self, text: str, *, live: bool, note: str) -> bool:
        """Post the text; a live update may be skipped (the final one never is)."""
        try:
            with skippable() if live else nullcontext():
                self.thread.update(views.follow(self.title, text, follow_id=self.id, live=live,
                                                note=note, stop_token=self.stop_token))
        except Skipped:  # other follows or answers have the budget now
            return False
        except CannotPost as exc:  # the bot left the channel: nobody can see the follow
            log.warning("follow %s: %s", self.id, exc.error)
            self.stop("dockops can no longer post in this channel")
            return False
        except Exception as exc:  # Slack down or rate limited: the next update tries again
            log.warning("follow %s: update failed: %s", self.id, exc)
            return False
        self.updates += 1
        return True

    def _finish(self, reason: str, elapsed: float) -> None:
        buffer = self.reader.buffer
        text = buffer.text()
        note = md("Stopped after {:.0f} s: {}.", elapsed, reason)
        self._update(text, live=False, note=note)
        if buffer.truncated or len(text) > SNIPPET_CHARS:  # more than the message could show
            try:
                self.thread.reply(views.follow_transcript(self.container, text,
                                                          cut=buffer.truncated))
            except Exception as exc:
                log.warning("follow %s: transcript failed: %s", self.id, exc)
        self._done.set()


class FollowRegistry:
    """Every open follow by ID: start them, stop one (Stop button) or all (shutdown)."""

    def __init__(self, limit: int = MAX_OPEN, per_user: int = PER_USER) -> None:
        self.limit = limit
        self.per_user = per_user
        self._open: dict[str, Follow] = {}
        self._lock = threading.Lock()

    def start(self, follow: Follow) -> Follow:
        """Register and run the follow on its own daemon thread (never in a command worker)."""
        with self._lock:
            try:
                self._check_room(follow.owner)
            except RefusedError:
                follow.reader.close()
                raise
            self._open[follow.id] = follow
            metrics.FOLLOWS_OPEN.set(len(self._open))
        threading.Thread(target=self._run, args=(follow,), name=f"follow-{follow.id}",
                         daemon=True).start()
        return follow

    def check_room(self, owner: str) -> None:
        """RefusedError when no more follows may open, in all or for this owner."""
        with self._lock:
            self._check_room(owner)

    def _check_room(self, owner: str) -> None:
        if len(self._open) >= self.limit:
            raise RefusedError(f"{len(self._open)} follows are already open, the most "
                               "dockops runs at once.",
                               detail="Stop one with its Stop button, or wait for one to end.")
        mine = sum(1 for other in self._open.values() if other.owner == owner)
        if owner and mine >= self.per_user:
            raise RefusedError(f"You already have {mine} follows open; stop one with its "
                               "Stop button or wait for one to end (the limit is "
                               "`per_user_follows` in [limits]).")

    def _run(self, follow: Follow) -> None:
        try:
            follow.run()
        finally:
            with self._lock:
                self._open.pop(follow.id, None)
                metrics.FOLLOWS_OPEN.set(len(self._open))

    def open(self) -> list[Follow]:
        """The follows open now, oldest first."""
        with self._lock:
            return list(self._open.values())

    def get(self, follow_id: str) -> Follow | None:
        with self._lock:
            return self._open.get(follow_id)

    def stop(self, follow_id: str, reason: str = "stopped") -> bool:
        """Stop one follow; False when no such follow is open (it already ended)."""
        follow = self.get(follow_id)
        if follow is None:
            return False
        follow.stop(reason)
        return True

    def stop_all(self, reason: str = "dockops is shutting down", wait: float = 5.0) -> int:
        """Stop every follow (shutdown) and give them `wait` seconds to post their last update."""
        with self._lock:
            follows = list(self._open.values())
        for follow in follows:
            follow.stop(reason)
        deadline = time.monotonic() + wait
        for follow in follows:
            follow.wait(max(0.0, deadline - time.monotonic()))
        return len(follows)

    def __len__(self) -> int:
        with self._lock:
            return len(self._open)


FOLLOWS = FollowRegistry()
