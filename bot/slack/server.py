"""Serving Slack: HTTP mode (/slack/events, /healthz, /metrics on waitress) and Socket Mode."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk.socket_mode.builtin.client import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from waitress.server import create_server

from bot import metrics
from bot.engine import ping
from bot.handlers.fanout import fan_out
from bot.services import Services
from bot.slack.replay import ReplayGuard

log = logging.getLogger("dockops.http")
StartResponse = Callable[..., Any]


def health(services: Services) -> tuple[int, dict[str, Any]]:
    """200 with every engine's reachability (asked at once, each within its deadline);
    503 when none answers."""
    engines: dict[str, Any] = {}
    for outcome in fan_out(services.hosts.select(), ping):
        engines[outcome.host] = ({"reachable": True} if outcome.ok else
                                 {"reachable": False, "error": outcome.error})
    ok = any(e["reachable"] for e in engines.values())
    return (200 if ok else 503), {"ok": ok, "engines": engines}


class WsgiApp:
    """Routes the three paths; everything else is 404."""

    def __init__(self, app: App, services: Services) -> None:
        self.slack = SlackRequestHandler(app, path="/slack/events")
        self.services = services
        self.replays = ReplayGuard()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/slack/events" and method == "POST":
            if not self.replays.first_time(environ.get("HTTP_X_SLACK_SIGNATURE", "")):
                log.warning("refused a replayed request (same signature seen before)")
                return _respond(start_response, 401, b'{"error": "replayed request"}',
                                "application/json")
            started = time.monotonic()
            try:
                return self.slack(environ, start_response)
            finally:
                metrics.ACK_SECONDS.observe(time.monotonic() - started)
        if path == "/healthz" and method == "GET":
            status, body = health(self.services)
            return _respond(start_response, status, json.dumps(body).encode(),
                            "application/json")
        if path == "/metrics" and method == "GET":
            data, content_type = metrics.exposition()
            return _respond(start_response, 200, data, content_type)
        return _respond(start_response, 404, b'{"error": "not found"}', "application/json")


def _respond(start_response: StartResponse, status: int, body: bytes,
             content_type: str) -> list[bytes]:
    reason = {200: "OK", 401: "Unauthorized", 404: "Not Found",
              503: "Service Unavailable"}.get(status, "")
    start_response(f"{status} {reason}", [("Content-Type", content_type),
                                          ("Content-Length", str(len(body)))])
    return [body]


def make_server(app: App, services: Services, host: str, port: int, threads: int = 32) -> Any:
    """A waitress server, not yet running: `.run()` serves, `.close()` stops."""
    return create_server(WsgiApp(app, services), host=host, port=port, threads=threads,
                         ident="dockops", channel_timeout=30)


class TimedSocketModeHandler(SocketModeHandler):
    """Socket Mode, with each envelope's handling up to its ack timed like HTTP requests."""

    def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.monotonic()
        try:
            super().handle(client, req)
        finally:
            metrics.ACK_SECONDS.observe(time.monotonic() - started)


def make_metrics_server(services: Services, host: str, port: int) -> Any:
    """/metrics and /healthz alone, for Socket Mode."""

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            data, content_type = metrics.exposition()
            return _respond(start_response, 200, data, content_type)
        if path == "/healthz":
            status, body = health(services)
            return _respond(start_response, status, json.dumps(body).encode(),
                            "application/json")
        return _respond(start_response, 404, b"{}", "application/json")

    return create_server(wsgi, host=host, port=port, threads=4, ident="dockops")
