"""`dockops serve | console | check | help | --version`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from bot import __version__
from bot import logs as logsetup
from bot.config import load
from bot.errors import DockopsError

log = logging.getLogger("dockops")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dockops", description="Operate Docker from Slack.")
    parser.add_argument("--version", action="version", version=f"dockops {__version__}")
    parser.add_argument("--log-format", choices=("text", "json"), default="text")
    parser.add_argument("--log-level", default=None,
                        help="DEBUG, INFO, WARNING... (default: INFO for serve, WARNING otherwise)")
    sub = parser.add_subparsers(dest="action")
    serve = sub.add_parser("serve", help="Run the Slack bot (Socket Mode, or --http)")
    serve.add_argument("--http", action="store_true", help="Serve POST /slack/events over HTTP")
    serve.add_argument("--host", default="0.0.0.0", help="HTTP bind address (with --http)")
    serve.add_argument("--port", type=int, default=3000, help="HTTP port (with --http)")
    serve.add_argument("--metrics-port", type=int, default=0,
                       help="Serve /metrics and /healthz on this port (Socket Mode)")
    console = sub.add_parser("console", help="Type /docker commands at a terminal")
    console.add_argument("-c", "--command", help="Run one command and exit")
    console.add_argument("-y", "--yes", action="store_true",
                         help="Confirm destructive commands without asking")
    sub.add_parser("check", help="Validate the configuration and exit")
    sub.add_parser("help", help="List the /docker commands")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = args.log_level or ("INFO" if args.action == "serve" else "WARNING")
    logsetup.setup(args.log_format, level.upper())
    try:
        return _dispatch(args)
    except DockopsError as exc:
        print(f"dockops: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.action == "help":
        return _console_run(["help"])
    settings = load()
    if args.action == "check":
        from bot.check import check

        return check(settings)
    from bot.services import Services

    services = Services.build(settings)
    try:
        if args.action == "serve":
            return _serve(services, args)
        from bot.console import Console

        console = Console(services, assume_yes=getattr(args, "yes", False))
        if getattr(args, "command", None):
            return 0 if console.run_one(args.command).ok else 1
        return console.repl()
    finally:
        services.close()


def _console_run(argv: list[str]) -> int:
    from bot.console import Console
    from bot.services import Services

    services = Services.build(load())
    try:
        return 0 if Console(services).run_one(" ".join(argv)).ok else 1
    finally:
        services.close()


def _serve(services, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from bot.slack.app import build_app
    from bot.slack.server import make_metrics_server, make_server

    env = services.settings.env
    if not env.slack_bot_token:
        raise DockopsError("SLACK_BOT_TOKEN is not set.",
                           detail="Set it (xoxb-...), or run `dockops console` to try the bot "
                                  "locally without Slack.")
    if not args.http and not env.slack_app_token:
        raise DockopsError("SLACK_APP_TOKEN is not set: Socket Mode needs it.",
                           detail="Set it (xapp-...), or serve over HTTP with "
                                  "`dockops serve --http` and SLACK_SIGNING_SECRET.")
    if args.http and not env.slack_signing_secret:
        raise DockopsError("SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request.",
                           detail="Copy it from the Slack app's Basic Information page.")
    app, runtime = build_app(services, socket_mode=not args.http)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    servers = []
    if args.http:
        servers.append(make_server(app, services, args.host, args.port))
        where = f"HTTP on {args.host}:{args.port}"
    else:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        socket = SocketModeHandler(app, env.slack_app_token)
        socket.connect()
        where = "Socket Mode"
        if args.metrics_port:
            servers.append(make_metrics_server(services, args.host, args.metrics_port))
    for server in servers:
        threading.Thread(target=server.run, name="http", daemon=True).start()
    runtime.start()
    log.info("dockops %s ready (%s)", __version__, where)
    stop.wait()
    log.info("shutting down: finishing commands in flight")
    for server in servers:
        server.close()
    clean = runtime.shutdown(services.settings.limits.shutdown_grace_seconds)
    if not args.http:
        socket.close()
    log.info("stopped%s", "" if clean else " (some work did not finish in time)")
    return 0
