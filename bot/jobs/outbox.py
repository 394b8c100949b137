"""The outbox: every job notification is stored first and deleted only once Slack accepted it.

A job queues notice *data* (bot/jobs/notices.py); it becomes a Slack message only here, at
delivery, through `render` (bot/views/jobs.py). A payload without a kind tag is a Slack
message already rendered: rows queued before notices were data, or a `Message` queued as is.

Delivery is at-least-once with a window of one message: a message Slack accepted is
deleted right after the answer arrives, so it is re-sent only if the process dies (or
the connection drops after Slack processed the post but before its answer came back)
in the few milliseconds between Slack's acceptance and the DELETE commit. Everything
else (429, 5xx, network errors, a restart, another process draining the same data
dir) is retried without duplicates: rows are leased before sending, one sender at a time.
"""

from __future__ import annotations

import copy
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import metrics
from bot.incidents import notices as incident_notices
from bot.jobs import notices
from bot.jobs.notices import NoticeData
from bot.slack.governor import retry_after
from bot.store import Store
from bot.store import outbox as rows
from bot.store.outbox import Queued

# The delivery edge: the only place in bot/jobs/ that knows how a notice looks in Slack.
from bot.views.incidents import render as render_incident
from bot.views.jobs import render as render_notice
from bot.views.limits import fit
from bot.views.message import Message

log = logging.getLogger("dockops.outbox")

LEASE_SECONDS = 30.0  # longer than one send may take (client timeout 15 s)
MAX_BACKOFF = 300.0  # 5xx / network: 1, 2, 4 ... 300 s
SLOW_BACKOFF = 3600.0  # Slack said no (not_in_channel...): retry hourly, never drop
POLL_SECONDS = 5.0  # rows another process (the console) queued are seen this fast


@dataclass(frozen=True)
class DrainResult:
    sent: int
    waiting: int
    next_due: float | None  # unix seconds of the earliest waiting row


Render = Callable[[NoticeData], Message]


def add(session: Session, channel: str, item: NoticeData | Message, key: str) -> bool:
    """Queue `item` inside the caller's transaction; False when `key` is already queued."""
    return rows.queue(session, channel, payload(item), key)


def payload(item: NoticeData | Message) -> dict[str, Any]:
    """What the row stores: a notice as data with its kind tag, a message as Slack JSON."""
    if isinstance(item, Message):
        fitted = fit(item)
        return {"text": fitted.text, "blocks": list(fitted.blocks)}
    return notices.encode(item)


def slack_body(stored: dict[str, Any], render: Render = render_notice) -> tuple[str, list[Any]]:
    """The text and blocks to post for a stored payload, rendered now if it is a notice.

    A payload without a kind tag is passed through: it is Slack JSON (a row queued before
    notices were data, or a Message queued as is).
    """
    if incident_notices.is_incident(stored):
        message = fit(render_incident(incident_notices.decode(stored)))
        return message.text, list(message.blocks)
    if not notices.is_notice(stored):
        return stored["text"], list(stored.get("blocks") or [])
    message = fit(render(notices.decode(stored)))
    return message.text, list(message.blocks)


def plain_client(client: WebClient) -> WebClient:
    """The same client (token, base URL, Slack API governor), without retry handlers: the
    outbox decides when to retry.

    The shared client waits out Retry-After itself (up to 5 times) and retries 5xx; stacking
    that under the outbox's own retries would hold a sender for minutes per message. A copy
    keeps the client's class, so notices share the app's budgets and 429 pauses.
    """
    plain = copy.copy(client)
    plain.retry_handlers = []
    plain.timeout = 15
    return plain


class Outbox:
    """Queue notifications and deliver them to Slack in order, surviving outages and restarts."""

    def __init__(self, store: Store, client: WebClient | None,
                 render: Render = render_notice) -> None:
        self.store = store
        self.render = render
        self.client = plain_client(client) if client is not None else None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drain_lock = threading.Lock()

    @property
    def can_send(self) -> bool:
        return self.client is not None

    def enqueue(self, channel: str, item: NoticeData | Message, key: str) -> bool:
        """Queue one notice or message (its own transaction) and wake the sender."""
        try:
            with self.store.session.begin() as session:
                added = add(session, channel, item, key)
        except IntegrityError:  # the same key queued at the same moment elsewhere
            added = False
        self.notify()
        return added

    def notify(self) -> None:
        """Something was queued: send without waiting for the next poll."""
        self.update_gauge()
        self._wake.set()

    def depth(self) -> int:
        return rows.depth(self.store)

    def update_gauge(self) -> None:
        metrics.OUTBOX_DEPTH.set(self.depth())

    def pending(self) -> list[Queued]:
        return rows.queued(self.store)

    # -- sending ---------------------------------------------------------------------------

    def drain_once(self) -> DrainResult:
        """Send every due row, oldest first, until Slack asks us to wait."""
        if self.client is None:
            return DrainResult(0, self.depth(), None)
        sent = 0
        with self._drain_lock:
            while not self._stop.is_set():
                row = rows.lease_next(self.store, LEASE_SECONDS)
                if row is None:
                    break
                outcome = self._send(row)
                if outcome == "sent":
                    sent += 1
                elif outcome == "stop":
                    break
        waiting, next_due = rows.waiting(self.store)
        metrics.OUTBOX_DEPTH.set(waiting)
        return DrainResult(sent, waiting, next_due)

    def _send(self, row: Queued) -> str:
        """'sent', 'later' (this row waits, others may go) or 'stop' (everything waits)."""
        assert self.client is not None
        try:
            text, blocks = slack_body(row.payload, self.render)
        except Exception as exc:  # a kind this version cannot read, a view that failed
            log.exception("cannot render notification %s", row.key)
            self._postpone(row, SLOW_BACKOFF, f"cannot render: {exc}")  # kept, never dropped
            return "later"
        place = self._placement(row)
        if place is None:  # waits for the message it threads under, or has nothing to update
            return "later"
        try:
            if "ts" in place:
                self.client.chat_update(channel=row.channel, ts=place["ts"], text=text,
                                        blocks=blocks or None)
                response = None
            else:
                response = self.client.chat_postMessage(
                    channel=row.channel, text=text, blocks=blocks or None, unfurl_links=False,
                    thread_ts=place.get("thread_ts"))
        except SlackApiError as exc:
            status = exc.response.status_code
            error = exc.response.get("error", "") if isinstance(exc.response.data, dict) else ""
            if status == 429:
                wait = retry_after(exc.response.headers)
                self._postpone(row, wait, f"rate limited: waiting {wait:g}s")
                return "stop"
            if status >= 500:
                self._postpone(row, _backoff(row.attempts), f"Slack answered {status}")
                return "stop"
            log.warning("Slack refused notification %s for %s: %s", row.key, row.channel, error)
            self._postpone(row, min(SLOW_BACKOFF, 60.0 * 2 ** row.attempts),
                           f"Slack said {error or status}")
            return "later"
        except Exception as exc:  # network: URLError, timeouts, resets
            self._postpone(row, _backoff(row.attempts), f"network: {exc}")
            return "stop"
        posted = (str(response["channel"]), str(response["ts"])) \
            if response is not None and row.payload.get("remember") else None
        rows.remove(self.store, row.id, posted)
        if row.payload.get("event_ns"):
            metrics.INCIDENT_POST_SECONDS.labels(str(row.payload.get("host", ""))).observe(
                max(0.0, time.time() - int(row.payload["event_ns"]) / 1e9))
        return "sent"

    def _placement(self, row: Queued) -> dict[str, str] | None:
        """Where a row goes: `{}` a new message, `{"thread_ts"}` a reply, `{"ts"}` an update
        of a message delivered earlier under another key; None to wait (or dropped)."""
        parent = row.payload.get("thread_of") or row.payload.get("update_of")
        if not parent:
            return {}
        ts = rows.posted_ts(self.store, str(parent))
        if ts:
            return {"thread_ts": ts} if row.payload.get("thread_of") else {"ts": ts}
        if rows.is_queued(self.store, str(parent)):
            self._postpone(row, 1.0, f"waits for {parent}")
            return None
        if row.payload.get("update_of"):  # the message was never posted: nothing to update
            rows.remove(self.store, row.id)
            return None
        return {}  # its message is gone: the reply stands on its own

    def _postpone(self, row: Queued, seconds: float, error: str) -> None:
        log.info("notification %s waits %.1fs: %s", row.key, seconds, error)
        rows.postpone(self.store, row.id, seconds, error)

    # -- the background sender ------------------------------------------------------------

    def start(self) -> None:
        """Drain now, then keep draining in the background until stop()."""
        if self._thread is not None or self.client is None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                result = self.drain_once()
                pause = POLL_SECONDS if result.next_due is None else \
                    min(POLL_SECONDS, max(0.05, result.next_due - time.time()))
            except Exception:
                log.exception("outbox drain failed; retrying")
                pause = POLL_SECONDS
            self._wake.wait(pause)


def _backoff(attempts: int) -> float:
    """1, 2, 4 ... seconds up to MAX_BACKOFF, with jitter so senders do not march in step."""
    return min(MAX_BACKOFF, 2.0 ** attempts) * random.uniform(0.8, 1.2)
