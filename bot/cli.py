"""`dockops serve | console | check | help | --version`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

from bot import __version__
from bot import logs as logsetup
from bot.config import load
from bot.errors import DockopsError

if TYPE_CHECKING:
    from bot.slack.runtime import Runtime

log = logging.getLogger("dockops")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dockops", description="Operate Docker from Slack.")
    parser.add_argument("--version", action="version", version=f"dockops {__version__}")
    parser.add_argument("--log-format", choices=("text", "json"),
                        default=os.environ.get("DOCKOPS_LOG_FORMAT", "text"),
                        help="Readable lines or one JSON object per line (env DOCKOPS_LOG_FORMAT)")
    parser.add_argument("--log-level", default=os.environ.get("DOCKOPS_LOG_LEVEL") or None,
                        help="DEBUG, INFO, WARNING... (default: INFO for serve, WARNING otherwise; "
                             "env DOCKOPS_LOG_LEVEL)")
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
    help_ = sub.add_parser("help", help="List the /docker commands, or one command's flags")
    help_.add_argument("topic", nargs="*", help="A command, e.g. `run` or `image prune`")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.log_format not in ("text", "json"):  # a default from the environment is not checked
        parser.error(f"DOCKOPS_LOG_FORMAT={args.log_format!r}: use text or json")
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
        return _print_help(args.topic)
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


def _print_help(topic: list[str]) -> int:
    """`dockops help [COMMAND]`: the same text as `/docker help`, without an engine or a store."""
    from bot.commands import TABLE
    from bot.config import SlackConfig
    from bot.views import help as help_views
    from bot.views.terminal import render

    try:
        slash = load().slack.command
    except DockopsError:  # help must work even while the config is being fixed
        slash = SlackConfig().command
    if not topic:
        print(render(help_views.overview(TABLE, slash)), end="")
        return 0
    found = TABLE.resolve(topic)
    if found is None or found[1] != len(topic):
        print(f"dockops: no help for `{' '.join(topic)}`: it is not a command. "
              "`dockops help` lists them.", file=sys.stderr)
        return 2
    print(render(help_views.command_help(found[0], slash)), end="")
    return 0


def _serve(services, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    from bot.slack.app import build_app
    from bot.slack.server import make_metrics_server, make_server
    from bot.slack.socket_mode import SocketModeLink

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
    stop = _stop_on_signals()
    servers = []
    socket = None
    if args.http:
        servers.append(make_server(app, services, args.host, args.port))
        where = f"HTTP on {args.host}:{args.port}"
    else:
        socket = SocketModeLink(app, env.slack_app_token, app.client)
        socket.start()
        where = "Socket Mode"
        if args.metrics_port:
            servers.append(make_metrics_server(services, args.host, args.metrics_port,
                                               socket.health))
            where += f", metrics on {args.host}:{args.metrics_port}"
    for server in servers:
        threading.Thread(target=server.run, name="http", daemon=True).start()
    runtime.start()
    log.info("dockops %s ready (%s)", __version__, where)
    stop.wait()
    clean = _shut_down(runtime, services.settings.limits.shutdown_grace_seconds)
    # Only now stop listening: until here a late command was told to retry, not refused.
    for server in servers:
        server.close()
    if socket is not None:
        socket.close()
    if not clean:
        # Work past the deadline holds non-daemon worker threads that would block the exit.
        log.warning("stopped: some work did not finish within the grace period")
        services.close()
        logging.shutdown()
        os._exit(0)
    log.info("stopped")
    return 0


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT; a second signal exits at once."""
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        if stop.is_set():
            log.warning("second %s: exiting without waiting", signal.Signals(signum).name)
            os._exit(1)
        log.info("%s received: shutting down", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handle)
    return stop


def _shut_down(runtime: Runtime, grace: float) -> bool:
    """Stop taking commands, close follow streams, let work in flight finish by a deadline."""
    deadline = time.monotonic() + grace
    runtime.pool.closing.set()  # new commands are answered "restarting, try again"
    log.info("shutting down: no new commands; finishing those in flight (up to %.0f s)", grace,
             extra={"in_flight": runtime.pool.busy})
    streams = _stop_follows(min(5.0, grace))
    if streams:
        log.info("closed %d follow stream(s)", streams)
    # The worker pool, then the scheduler and the outbox (Runtime.shutdown owns that order).
    return runtime.shutdown(max(0.0, deadline - time.monotonic()))


def _stop_follows(wait: float) -> int:
    """End every `logs -f` / `attach` stream with a closing message; how many there were."""
    try:
        from bot.follows import FOLLOWS
    except ImportError:  # a build without follow streams
        return 0
    return FOLLOWS.stop_all("the bot is restarting", wait=wait)
