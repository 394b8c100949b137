"""Socket Mode that holds: each envelope acked on its own socket, dead sockets replaced.

Why not slack_sdk's clients: each acks on the client's *current* connection, so an envelope
read from the old socket during a refresh is acked on the new one; the builtin client
reconnects on the thread that dispatches envelopes and closes the old socket at once; and it
calls a connection stale only after 4 ping intervals with no pong, checked every interval
(40-50 s at Bolt's default). Here (websockets' sync client):

* every connection has its own reader; an envelope is dispatched to Bolt and acked on the
  websocket it came from, whatever happened to the others meanwhile;
* `disconnect` (refresh_requested, too_many_websockets...) opens a new connection beside
  the old one, which keeps serving until Slack closes it (or RETIRE_SECONDS pass);
* websockets pings every PING_INTERVAL and drops a connection with no pong for
  PING_TIMEOUT: a silent socket is gone within ~8 s, then reopened with capped backoff.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from bot import metrics
from bot.errors import DockopsError

PING_INTERVAL = 2.0
PING_TIMEOUT = 5.0
RETIRE_SECONDS = 10.0  # an old socket Slack has not closed by then is closed by us
BACKOFF_MAX = 8.0
UNHEALTHY_AFTER = 30.0  # /healthz turns 503 after this long without a connection
_AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "not_allowed_token_type",
                          "token_revoked", "account_inactive"})

log = logging.getLogger("dockops.socket_mode")


class LinkHealth:
    """Whether a Socket Mode connection is up, and since when it has not been."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.connected = False
        self.down_since = clock()
        metrics.SOCKET_MODE_CONNECTED.set(0)  # Socket Mode: not connected yet (HTTP mode: NaN)

    def up(self) -> None:
        self.connected = True
        metrics.SOCKET_MODE_CONNECTED.set(1)

    def down(self) -> None:
        if self.connected:
            self.connected = False
            self.down_since = self.clock()
        metrics.SOCKET_MODE_CONNECTED.set(0)

    def report(self) -> tuple[bool, dict[str, Any]]:
        """Healthy unless disconnected for more than UNHEALTHY_AFTER; and the details."""
        down_for = 0.0 if self.connected else self.clock() - self.down_since
        return down_for <= UNHEALTHY_AFTER, {"connected": self.connected,
                                             "seconds_disconnected": round(down_for, 1)}


def backoff(attempt: int) -> float:
    """Seconds before reconnect attempt `attempt` (1, 2, ...): doubling, capped, jittered."""
    return min(BACKOFF_MAX, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


class SocketModeLink:
    """Keeps one Socket Mode connection open (two during a refresh) and serves the app."""

    def __init__(self, app: App, app_token: str, web_client: WebClient, *,
                 concurrency: int = 8) -> None:
        self.app = app
        self.app_token = app_token
        self.web_client = web_client
        self.health = LinkHealth()
        self._lock = threading.Lock()
        self._current: ClientConnection | None = None
        self._open: set[ClientConnection] = set()
        self._wanted = threading.Event()
        self._closed = threading.Event()
        self._workers = ThreadPoolExecutor(concurrency, thread_name_prefix="socket-mode")
        self._opened = 0

    def start(self) -> None:
        """Connect once (a refused token fails here), then keep connected in the background."""
        try:
            self._connect()
        except DockopsError:
            raise
        except Exception as exc:
            log.warning("Socket Mode: first connection failed (%s); retrying", exc)
            self._wanted.set()
        threading.Thread(target=self._keep_connected, name="socket-mode", daemon=True).start()

    def close(self) -> None:
        """Stop reconnecting and close every socket."""
        self._closed.set()
        self._wanted.set()
        with self._lock:
            sockets = list(self._open)
        for ws in sockets:
            ws.close()
        self._workers.shutdown(wait=False)

    # -- connecting ------------------------------------------------------------------

    def _keep_connected(self) -> None:
        attempt = 0
        while not self._closed.is_set():
            self._wanted.wait()
            if self._closed.is_set():
                return
            self._wanted.clear()
            try:
                self._connect()
                attempt = 0
            except Exception as exc:
                attempt += 1
                delay = getattr(exc, "retry_after", None) or backoff(attempt)
                log.warning("Socket Mode: reconnect attempt %d failed (%s); next in %.1f s",
                            attempt, exc, delay)
                self._closed.wait(delay)
                self._wanted.set()

    def _connect(self) -> None:
        ws = connect(self._issue_url(), ping_interval=PING_INTERVAL, ping_timeout=PING_TIMEOUT,
                     open_timeout=10, close_timeout=1, compression=None, max_size=None)
        with self._lock:
            self._current = ws
            self._open.add(ws)
            reconnect = self._opened > 0
            self._opened += 1
        if reconnect:
            metrics.SOCKET_MODE_RECONNECTS.inc()
        self.health.up()
        log.info("Socket Mode connected", extra={"connections_open": len(self._open)})
        threading.Thread(target=self._read, args=(ws,), name="socket-mode-read",
                         daemon=True).start()

    def _issue_url(self) -> str:
        try:
            return str(self.web_client.apps_connections_open(app_token=self.app_token)["url"])
        except SlackApiError as exc:
            error = exc.response.get("error", "")
            if error in _AUTH_ERRORS:
                raise DockopsError(f"Slack refused SLACK_APP_TOKEN ({error}).",
                                   detail="Use the app-level token (xapp-...) with the "
                                          "connections:write scope.") from exc
            if error == "ratelimited":
                exc.retry_after = float(exc.response.headers.get("Retry-After", 30))  # type: ignore[attr-defined]
            raise

    # -- reading -----------------------------------------------------------------------

    def _read(self, ws: ClientConnection) -> None:
        try:
            for text in ws:
                self._on_message(ws, text)
        except ConnectionClosed as exc:
            log.info("Socket Mode connection closed (%s)", exc)
        finally:
            with self._lock:
                self._open.discard(ws)
                lost = ws is self._current
                if lost:
                    self._current = None
            if lost and not self._closed.is_set():
                self.health.down()
                self._wanted.set()

    def _on_message(self, ws: ClientConnection, text: str | bytes) -> None:
        received = time.monotonic()
        try:
            message = json.loads(text)
        except ValueError:
            log.warning("Socket Mode: a frame that is not JSON was ignored")
            return
        if not isinstance(message, dict):
            return
        kind = message.get("type")
        if kind == "disconnect":
            self._refresh(ws, str(message.get("reason", "")))
        elif message.get("envelope_id"):
            self._workers.submit(self._serve, ws, message, received)

    def _refresh(self, ws: ClientConnection, reason: str) -> None:
        """Open a new connection beside `ws`, which serves until Slack closes it."""
        log.info("Socket Mode: disconnect (%s): opening a new connection", reason)
        timer = threading.Timer(RETIRE_SECONDS, ws.close)
        timer.daemon = True
        timer.start()
        with self._lock:
            if ws is self._current:
                self._wanted.set()

    def _serve(self, ws: ClientConnection, message: dict[str, Any], received: float) -> None:
        """Dispatch one envelope to Bolt and ack it on the socket it came from."""
        envelope_id = message["envelope_id"]
        try:
            request = SocketModeRequest.from_dict(message)
            response = run_bolt_app(self.app, request) if request else BoltResponse(status=404)
            ack = {"envelope_id": envelope_id, **_ack_payload(response)}
        except Exception:
            log.exception("Socket Mode: envelope %s failed; acked empty", envelope_id)
            ack = {"envelope_id": envelope_id}
        try:
            ws.send(json.dumps(ack))
        except ConnectionClosed:
            log.warning("Socket Mode: the socket of envelope %s closed before its ack "
                        "(Slack delivers it again)", envelope_id)
        finally:
            metrics.ACK_SECONDS.observe(time.monotonic() - received)


def _ack_payload(response: BoltResponse) -> dict[str, Any]:
    """What the ack carries: Bolt's JSON or text body, or nothing (every envelope is acked,
    even one no listener took, or Slack would deliver it again)."""
    if response.status != 200 or not response.body:
        return {}
    content_type = response.headers.get("content-type", [""])[0]
    if content_type.startswith("application/json"):
        return {"payload": json.loads(response.body)}
    return {"payload": {"text": response.body}}
