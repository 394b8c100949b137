"""Socket Mode endpoint of the stand-in (websockets' threaded server).

Behaves like Slack's ``wss-primary.slack.com/link/`` endpoint, seen from
``slack_sdk.socket_mode.SocketModeClient``:

* the URL comes from ``apps.connections.open`` and carries a ``ticket``; unknown
  tickets are refused at the handshake (HTTP 401);
* on connect the server sends ``{"type": "hello", ...}``;
* envelopes go to one connection (the newest), as Slack delivers each envelope once;
* the client's pings are answered with pongs carrying the same payload (the builtin
  client pings right after connecting and every ``ping_interval`` seconds, and treats
  a connection without pongs for 4 intervals as stale); the server pings too and
  drops clients that stop answering;
* acks (``{"envelope_id": ..., "payload": ...}``) are recorded with their delay.

Faults, as Slack's edge produces them: ``refresh`` (``disconnect`` / ``refresh_requested``,
the old socket kept open a few seconds; envelopes may go to either), ``blackhole`` (a
connection that takes frames and never answers or sends, pongs included), ``go_away`` /
``come_back`` (nothing listens on the port for a while).
"""

from __future__ import annotations

import contextlib
import http
import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from .blockkit import check_message
from .records import Ack, Envelope

# Slack sets accepts_response_payload per envelope type.
ACCEPTS_RESPONSE_PAYLOAD = {"slash_commands": True, "interactive": False, "events_api": False}
# Interactive payload types whose ack may carry a response (view_submission errors...).
INTERACTIVE_WITH_RESPONSE = frozenset({"view_submission", "block_suggestion"})


class SocketModeHub:
    """Websocket server plus the bookkeeping of envelopes and acks."""

    def __init__(
        self,
        *,
        app_id: str,
        on_violation: Callable[[str], None],
        ping_interval: float | None = 10.0,
        ping_timeout: float | None = 20.0,
        ack_timeout: float = 3.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.app_id = app_id
        self._ping_timeout = ping_timeout
        self.ack_timeout = ack_timeout
        self._host = host
        self._ping_interval = ping_interval
        self._on_violation = on_violation
        self._lock = threading.Lock()
        self._tickets: set[str] = set()
        self._conns: dict[int, ServerConnection] = {}
        self._retiring: set[int] = set()  # sent `disconnect`, closed after a grace period
        self._blackholed: set[int] = set()
        self._next_conn_id = 1
        self._connections_total = 0
        self._envelopes: dict[str, Envelope] = {}
        self._acks: dict[str, Ack] = {}
        self._ack_log: list[Ack] = []
        self._received: list[tuple[int, str]] = []
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = serve(
            self._handle,
            self._host,
            self.port,
            process_request=self._process_request,
            ping_interval=self._ping_interval,
            ping_timeout=self._ping_timeout,
            close_timeout=1,
            compression=None,
            server_header="standin-applink",
        )
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="standin-socket-mode", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and close every connection (code 1001, going away)."""
        if self._server is not None:
            self._server.shutdown()
        self.close_all(1001, "server shutting down")
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def go_away(self) -> None:
        """Drop every connection without a close frame and stop listening (the port is kept)."""
        if self._server is not None:
            self._server.shutdown()
        with self._lock:
            conns = list(self._conns.values())
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.socket.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def come_back(self) -> None:
        """Listen again on the same port."""
        self.start()

    def refresh(self, grace: float = 5.0) -> list[int]:
        """Send ``disconnect`` (``refresh_requested``) to every open connection and close them
        ``grace`` seconds later, as Slack does; they still carry envelopes meanwhile."""
        message = json.dumps({"type": "disconnect", "reason": "refresh_requested",
                              "debug_info": {"host": "applink-standin"}})
        with self._lock:
            old = dict(self._conns)
            self._retiring.update(old)
        for conn in old.values():
            with contextlib.suppress(ConnectionClosed):
                conn.send(message)

        def close_old() -> None:
            for conn in old.values():
                with contextlib.suppress(Exception):
                    conn.close(1001, "refreshed")

        timer = threading.Timer(grace, close_old)
        timer.daemon = True
        timer.start()
        return sorted(old)

    def blackhole(self, conn_id: int | None = None) -> int:
        """Make a connection (the newest by default) silent: frames in are taken, nothing goes
        out again (no pong, no ping, no envelope, no close) and it is never timed out."""
        with self._lock:
            conn_id = conn_id or max(self._conns)
            conn = self._conns[conn_id]
            self._blackholed.add(conn_id)

        def discard() -> None:
            for _ in conn.protocol.data_to_send():
                pass

        conn.ping_timeout = None
        conn.send_data = discard  # type: ignore[method-assign]
        return conn_id

    def reset(self) -> None:
        """Forget envelopes, acks and received messages (connections stay)."""
        with self._lock:
            self._envelopes.clear()
            self._acks.clear()
            self._ack_log.clear()
            self._received.clear()

    # -- URLs and handshake --------------------------------------------------------

    def issue_url(self) -> str:
        """A fresh ``ws://`` URL with its own ticket, as apps.connections.open returns."""
        ticket = secrets.token_hex(16)
        with self._lock:
            self._tickets.add(ticket)
        return f"ws://{self._host}:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    def _process_request(self, conn: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        ticket = (parse_qs(parts.query).get("ticket") or [""])[0]
        if parts.path.rstrip("/") != "/link":
            return conn.respond(http.HTTPStatus.NOT_FOUND, "not found\n")
        with self._lock:
            known = ticket in self._tickets
        if not known:
            self._on_violation(f"socket mode connect with unknown ticket {ticket!r}")
            return conn.respond(http.HTTPStatus.UNAUTHORIZED, "invalid ticket\n")
        return None

    # -- connection handler --------------------------------------------------------

    def _handle(self, conn: ServerConnection) -> None:
        with self._lock:
            conn_id = self._next_conn_id
            self._next_conn_id += 1
            num = len(self._conns) + 1
        hello = {
            "type": "hello",
            "num_connections": num,
            "debug_info": {
                "host": "applink-standin",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        try:
            conn.send(json.dumps(hello))
            with self._lock:
                self._conns[conn_id] = conn
                self._connections_total += 1
            for message in conn:
                if isinstance(message, bytes):
                    self._on_violation("socket mode client sent a binary frame")
                    continue
                self._on_text(conn_id, message)
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                self._conns.pop(conn_id, None)
                self._retiring.discard(conn_id)

    def _on_text(self, conn_id: int, text: str) -> None:
        now = time.time()
        with self._lock:
            self._received.append((conn_id, text))
        try:
            data = json.loads(text)
        except ValueError:
            self._on_violation(f"socket mode client sent non-JSON text: {text[:80]!r}")
            return
        envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
        if not isinstance(envelope_id, str):
            self._on_violation(f"socket mode message without envelope_id: {text[:80]!r}")
            return
        with self._lock:
            envelope = self._envelopes.get(envelope_id)
            duplicate = envelope_id in self._acks
        if envelope is None:
            self._on_violation(f"ack for unknown envelope {envelope_id}")
            return
        payload = data.get("payload")
        ack = Ack(
            envelope_id=envelope_id,
            payload=payload if isinstance(payload, dict) else None,
            received_at=now,
            elapsed=now - envelope.sent_at,
            connection_id=conn_id,
            raw=text,
        )
        with self._lock:
            self._ack_log.append(ack)
            if not duplicate:
                self._acks[envelope_id] = ack
        if duplicate:
            self._on_violation(f"envelope {envelope_id} acked more than once")
            return
        if ack.elapsed > self.ack_timeout:
            self._on_violation(
                f"envelope {envelope_id} ({envelope.type}) acked after {ack.elapsed:.2f}s; "
                f"Slack gives up after {self.ack_timeout:.0f}s"
            )
        if payload:
            self._check_ack_payload(envelope, payload)

    def _check_ack_payload(self, envelope: Envelope, payload: Any) -> None:
        if not envelope.accepts_response_payload:
            self._on_violation(
                f"ack for {envelope.type} envelope {envelope.envelope_id} carries a payload, "
                "but that envelope does not accept one (Slack ignores it)"
            )
            return
        is_message = envelope.type == "slash_commands" or (
            isinstance(payload, dict) and ("blocks" in payload or "text" in payload)
        )
        if is_message and isinstance(payload, dict):
            result = check_message(payload)
            if not result.ok:
                self._on_violation(
                    f"ack payload for envelope {envelope.envelope_id}: {result.error}: "
                    + "; ".join(result.details)
                )

    # -- sending -------------------------------------------------------------------

    def send(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        envelope_id: str | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        broadcast: bool = False,
        connection_id: int | None = None,
    ) -> str:
        """Push one envelope; return its envelope_id. It goes to ``connection_id``, else to the
        newest connection that is neither retiring nor blackholed (else the newest)."""
        if accepts_response_payload is None:
            accepts_response_payload = ACCEPTS_RESPONSE_PAYLOAD.get(type_, False)
            if type_ == "interactive" and payload.get("type") in INTERACTIVE_WITH_RESPONSE:
                accepts_response_payload = True
        envelope_id = envelope_id or str(uuid.uuid4())
        body: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": type_,
            "accepts_response_payload": accepts_response_payload,
        }
        if type_ == "events_api" or retry_attempt:
            body["retry_attempt"] = retry_attempt or 0
            body["retry_reason"] = retry_reason or ""
        text = json.dumps(body)
        with self._lock:
            targets = sorted(self._conns.items(), reverse=True)
            if connection_id is not None:
                targets = [(i, c) for i, c in targets if i == connection_id]
            elif not broadcast:
                quiet = self._retiring | self._blackholed
                targets.sort(key=lambda item: item[0] in quiet)
        sent_to: list[int] = []
        sent_at = time.time()
        for conn_id, conn in targets:
            # Register before sending: a fast client may ack before send() returns.
            with self._lock:
                self._envelopes[envelope_id] = Envelope(
                    envelope_id,
                    type_,
                    payload,
                    accepts_response_payload,
                    sent_at,
                    (*sent_to, conn_id),
                )
            try:
                conn.send(text)
            except ConnectionClosed:
                continue
            sent_to.append(conn_id)
            if not broadcast:
                break
        if not sent_to:
            with self._lock:
                self._envelopes.pop(envelope_id, None)
            raise AssertionError("no Socket Mode client is connected to the stand-in")
        with self._lock:
            self._envelopes[envelope_id] = Envelope(
                envelope_id, type_, payload, accepts_response_payload, sent_at, tuple(sent_to)
            )
        return envelope_id

    def send_raw(self, message: dict[str, Any]) -> int:
        """Send a JSON message to every connection; return how many got it."""
        text = json.dumps(message)
        with self._lock:
            conns = list(self._conns.values())
        count = 0
        for conn in conns:
            try:
                conn.send(text)
                count += 1
            except ConnectionClosed:
                continue
        return count

    def close_all(self, code: int = 1001, reason: str = "") -> None:
        """Close every connection with a close frame."""
        with self._lock:
            conns = list(self._conns.values())
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close(code, reason)

    # -- queries -------------------------------------------------------------------

    @property
    def client_count(self) -> int:
        """Connections currently open."""
        with self._lock:
            return len(self._conns)

    def connection_ids(self) -> list[int]:
        """Open connections, oldest first."""
        with self._lock:
            return sorted(self._conns)

    @property
    def connections_total(self) -> int:
        """Connections accepted since start (reconnects add up)."""
        with self._lock:
            return self._connections_total

    def ack(self, envelope_id: str) -> Ack | None:
        """The first ack for ``envelope_id``, if any."""
        with self._lock:
            return self._acks.get(envelope_id)

    def acks(self) -> list[Ack]:
        """Every ack received, in order (duplicates included)."""
        with self._lock:
            return list(self._ack_log)

    def envelopes(self) -> list[Envelope]:
        """Envelopes sent, in order."""
        with self._lock:
            return list(self._envelopes.values())

    def received(self) -> list[tuple[int, str]]:
        """Every text frame received as (connection id, text)."""
        with self._lock:
            return list(self._received)
