"""The outbox: every job notification is stored first and deleted only once Slack accepted it.

Delivery is at-least-once with a window of one message: a message Slack accepted is
deleted right after the answer arrives, so it is re-sent only if the process dies (or
the connection drops after Slack processed the post but before its answer came back)
in the few milliseconds between Slack's acceptance and the DELETE commit. Everything
else (429, 5xx, network errors, a restart, another process draining the same data
dir) is retried without duplicates: rows are leased before sending, one sender at a time.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Float, Integer, String, Text, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot import metrics
from bot.store import Base, Store, utcnow
from bot.views.limits import fit
from bot.views.message import Message

log = logging.getLogger("dockops.outbox")

LEASE_SECONDS = 30.0  # longer than one send may take (client timeout 15 s)
MAX_BACKOFF = 300.0  # 5xx / network: 1, 2, 4 ... 300 s
SLOW_BACKOFF = 3600.0  # Slack said no (not_in_channel...): retry hourly, never drop
POLL_SECONDS = 5.0  # rows another process (the console) queued are seen this fast


class OutboxRow(Base):
    """One notification waiting for Slack."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(512), unique=True)
    channel: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # {"text": ..., "blocks": [...]}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[float] = mapped_column(Float, default=0.0, index=True)  # unix seconds
    leased_until: Mapped[float] = mapped_column(Float, default=0.0)
    last_error: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class DrainResult:
    sent: int
    waiting: int
    next_due: float | None  # unix seconds of the earliest waiting row


def add(session: Session, channel: str, message: Message, key: str) -> bool:
    """Queue `message` inside the caller's transaction; False when `key` is already queued."""
    if session.scalar(select(OutboxRow.id).where(OutboxRow.key == key)) is not None:
        return False
    fitted = fit(message)
    session.add(OutboxRow(key=key, channel=channel, due=time.time(),
                          payload=json.dumps({"text": fitted.text, "blocks": list(fitted.blocks)})))
    return True


def plain_client(client: WebClient) -> WebClient:
    """The same token and base URL, without retry handlers: the outbox decides when to retry.

    The shared client waits out Retry-After itself (up to 5 times) and retries 5xx; stacking
    that under the outbox's own retries would hold a sender for minutes per message.
    """
    return WebClient(token=client.token, base_url=client.base_url, timeout=15, retry_handlers=[])


class Outbox:
    """Queue notifications and deliver them to Slack in order, surviving outages and restarts."""

    def __init__(self, store: Store, client: WebClient | None) -> None:
        self.store = store
        self.client = plain_client(client) if client is not None else None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._drain_lock = threading.Lock()

    @property
    def can_send(self) -> bool:
        return self.client is not None

    def enqueue(self, channel: str, message: Message, key: str) -> bool:
        """Queue one message (its own transaction) and wake the sender."""
        try:
            with self.store.session.begin() as session:
                added = add(session, channel, message, key)
        except IntegrityError:  # the same key queued at the same moment elsewhere
            added = False
        self.notify()
        return added

    def notify(self) -> None:
        """Something was queued: send without waiting for the next poll."""
        self.update_gauge()
        self._wake.set()

    def depth(self) -> int:
        with Session(self.store.engine) as session:
            return int(session.scalar(select(func.count(OutboxRow.id))) or 0)

    def update_gauge(self) -> None:
        metrics.OUTBOX_DEPTH.set(self.depth())

    def pending(self) -> list[OutboxRow]:
        with Session(self.store.engine) as session:
            return list(session.scalars(select(OutboxRow).order_by(OutboxRow.id)))

    # -- sending ---------------------------------------------------------------------------

    def drain_once(self) -> DrainResult:
        """Send every due row, oldest first, until Slack asks us to wait."""
        if self.client is None:
            return DrainResult(0, self.depth(), None)
        sent = 0
        with self._drain_lock:
            while not self._stop.is_set():
                row = self._lease_next()
                if row is None:
                    break
                outcome = self._send(row)
                if outcome == "sent":
                    sent += 1
                elif outcome == "stop":
                    break
        waiting, next_due = self._waiting()
        metrics.OUTBOX_DEPTH.set(waiting)
        return DrainResult(sent, waiting, next_due)

    def _lease_next(self) -> OutboxRow | None:
        """The oldest row of a channel whose oldest row is due: each channel reads in order."""
        now = time.time()
        with self.store.session.begin() as session:
            heads: dict[str, OutboxRow] = {}
            for row in session.scalars(select(OutboxRow).order_by(OutboxRow.id)):
                heads.setdefault(row.channel, row)
            ready = [row for row in heads.values() if row.due <= now and row.leased_until < now]
            if not ready:
                return None
            row = min(ready, key=lambda r: r.id)
            # Another process may lease the same row at the same moment: the UPDATE decides.
            claimed = session.execute(
                update(OutboxRow).where(OutboxRow.id == row.id, OutboxRow.leased_until < now)
                .values(leased_until=now + LEASE_SECONDS))
            return row if claimed.rowcount == 1 else None

    def _send(self, row: OutboxRow) -> str:
        """'sent', 'later' (this row waits, others may go) or 'stop' (everything waits)."""
        assert self.client is not None
        body = json.loads(row.payload)
        try:
            self.client.chat_postMessage(channel=row.channel, text=body["text"],
                                         blocks=body["blocks"] or None, unfurl_links=False)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = exc.response.get("error", "") if isinstance(exc.response.data, dict) else ""
            if status == 429:
                wait = _retry_after(exc)
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
        self._delete(row.id)
        return "sent"

    def _delete(self, row_id: int) -> None:
        with self.store.session.begin() as session:
            row = session.get(OutboxRow, row_id)
            if row is not None:
                session.delete(row)

    def _postpone(self, row: OutboxRow, seconds: float, error: str) -> None:
        log.info("notification %s waits %.1fs: %s", row.key, seconds, error)
        with self.store.session.begin() as session:
            session.execute(update(OutboxRow).where(OutboxRow.id == row.id).values(
                attempts=OutboxRow.attempts + 1, due=time.time() + seconds, leased_until=0.0,
                last_error=error[:500]))

    def _waiting(self) -> tuple[int, float | None]:
        with Session(self.store.engine) as session:
            count = int(session.scalar(select(func.count(OutboxRow.id))) or 0)
            due = session.scalar(select(func.min(OutboxRow.due)))
        return count, due

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


def _retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1.0, float(value)) if value is not None else 1.0
    except ValueError:
        return 1.0


def _backoff(attempts: int) -> float:
    """1, 2, 4 ... seconds up to MAX_BACKOFF, with jitter so senders do not march in step."""
    return min(MAX_BACKOFF, 2.0 ** attempts) * random.uniform(0.8, 1.2)
