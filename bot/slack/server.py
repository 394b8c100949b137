"""Serving Slack on waitress: HTTP mode's public port (POST /slack/events only), and the
metrics listener (/healthz, /metrics; 127.0.0.1 unless told) beside either mode."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot import metrics
from bot.engine import ping
from bot.handlers.fanout import fan_out
from bot.logs import Throttled
from bot.services import Services
from bot.slack.replay import SignedRequests
from bot.slack.socket_mode import LinkHealth

log = logging.getLogger("dockops.http")
_refusals = Throttled(log, every=10.0)
StartResponse = Callable[..., Any]

# Slack's requests are a few KB; nothing larger is read (waitress refuses it before the app).
MAX_BODY_BYTES = 256 * 1024
# Whoever can reach the port may open connections: each is dropped after this long idle, and
# no more than CONNECTION_LIMIT are served at once (the rest wait in the listen backlog).
IDLE_SECONDS = 10
CONNECTION_LIMIT = 100
_LENGTH = re.compile(r"[0-9]{1,12}")


_health_lock = threading.Lock()
_health_last: dict[int, tuple[float, tuple[int, dict[str, Any]]]] = {}


def health(services: Services) -> tuple[int, dict[str, Any]]:
    """The engines' health, asked by one caller at a time: callers that arrive while a check
    runs take the next check's answer, so a /healthz flood is one ping per host at a time,
    and no answer is older than the request."""
    arrived = time.monotonic()
    with _health_lock:
        last = _health_last.get(id(services))
        if last and last[0] >= arrived:
            return last[1]
        started = time.monotonic()
        answer = _ask_engines(services)
        _health_last[id(services)] = (started, answer)
        return answer


def _ask_engines(services: Services) -> tuple[int, dict[str, Any]]:
    """200 with every engine's reachability (asked at once, each within its deadline);
    503 when none answers, or when the last audit row could not be written (with why)."""
    engines: dict[str, Any] = {}
    for outcome in fan_out(services.hosts.select(), ping):
        engines[outcome.host] = ({"reachable": True} if outcome.ok else
                                 {"reachable": False, "error": outcome.error})
    ok = any(e["reachable"] for e in engines.values())
    body: dict[str, Any] = {"ok": ok, "engines": engines}
    problem = services.store.audit_problem
    if problem:  # fail closed: every command is refused until an audit row is written again
        body = {**body, "ok": False, "audit": {"writable": False, "error": problem}}
    return (200 if body["ok"] else 503), body


class WsgiApp:
    """The public port: POST /slack/events; everything else (/healthz, /metrics too) is 404."""

    def __init__(self, app: App, services: Services) -> None:
        self.slack = SlackRequestHandler(app, path="/slack/events")
        self.services = services
        self.signed = SignedRequests(services.settings.env.slack_signing_secret, services.store)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events" and method == "POST":
            started = time.monotonic()
            try:
                return self.slack_event(environ, start_response)
            finally:
                metrics.ACK_SECONDS.observe(time.monotonic() - started)
        return _respond(start_response, 404, b'{"error": "not found"}', "application/json")


    def slack_event(self, environ: dict[str, Any], start_response: StartResponse
                    ) -> Iterable[bytes]:
        """Read at most MAX_BODY_BYTES, verify the signature and replay, then hand to Bolt."""
        length = environ.get("CONTENT_LENGTH") or ""
        if length and not _LENGTH.fullmatch(length):
            return _refuse(start_response, 400, "a malformed Content-Length")
        if length and int(length) > MAX_BODY_BYTES:
            return _refuse(start_response, 413, f"a {length}-byte body")
        stream = environ.get("wsgi.input") or io.BytesIO()
        body = stream.read(int(length) if length else MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return _refuse(start_response, 413, "a body over the cap")
        reason = self.signed.refusal(body, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                                     environ.get("HTTP_X_SLACK_SIGNATURE", ""))
        if reason:
            return _refuse(start_response, 401, f"a request: {reason}")
        try:
            body.decode("utf-8")  # Bolt decodes it without asking
        except UnicodeDecodeError:
            return _refuse(start_response, 400, "a signed body that is not UTF-8")
        # Bolt reads the body again: give it the bytes already read.
        verified = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        return self.slack(verified, start_response)


def _refuse(start_response: StartResponse, status: int, what: str) -> list[bytes]:
    """A short JSON error, and a log line (no traceback: the sender is not to be trusted) at
    most every 10 s, so a flood of bad requests cannot flood the log."""
    _refusals.warning("refused %s (HTTP %d)", what, status)
    error = {400: "bad request", 401: "invalid signature", 413: "body too large"}[status]
    return _respond(start_response, status, json.dumps({"error": error}).encode(),
                    "application/json")


def _respond(start_response: StartResponse, status: int, body: bytes,
             content_type: str) -> list[bytes]:
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
              413: "Content Too Large", 503: "Service Unavailable"}.get(status, "")
    start_response(f"{status} {reason}", [("Content-Type", content_type),
                                          ("Content-Length", str(len(body)))])
    return [body]


# What waitress holds for anyone who connects: bodies refused past the cap from the
# Content-Length alone (chunked: at the cap), idle connections closed after IDLE_SECONDS
# (checked every 2 s, not waitress' default 30), at most CONNECTION_LIMIT at once.
_BOUNDED: dict[str, Any] = {
    "ident": "dockops", "max_request_body_size": MAX_BODY_BYTES + 1,
    "max_request_header_size": 32 * 1024, "channel_timeout": IDLE_SECONDS,
    "cleanup_interval": 2, "connection_limit": CONNECTION_LIMIT, "expose_tracebacks": False,
}


def make_server(app: App, services: Services, host: str, port: int, threads: int = 32) -> Any:
    """A waitress server, not yet running: `.run()` serves, `.close()` stops."""
    return create_server(WsgiApp(app, services), host=host, port=port, threads=threads,
                         **_BOUNDED)


def socket_health(services: Services, link: LinkHealth) -> tuple[int, dict[str, Any]]:
    """The engines' health and the Socket Mode connection's: 503 when either fails."""
    status, body = health(services)
    ok, connection = link.report()
    body = {**body, "ok": body["ok"] and ok, "socket_mode": connection}
    return (status if ok else 503), body


def make_metrics_server(services: Services, host: str, port: int,
                        link: LinkHealth | None = None) -> Any:
    """/metrics and /healthz alone, apart from the public port; in Socket Mode /healthz
    includes the connection's health (`link`)."""

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            data, content_type = metrics.exposition()
            return _respond(start_response, 200, data, content_type)
        if path == "/healthz":
            status, body = socket_health(services, link) if link else health(services)
            return _respond(start_response, status, json.dumps(body).encode(),
                            "application/json")
        return _respond(start_response, 404, b"{}", "application/json")

    return create_server(wsgi, host=host, port=port, threads=4, **_BOUNDED)
