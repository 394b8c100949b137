"""`dockops serve | console | check | help | db | backup | --version`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import __version__, preflight
from bot import logs as logsetup
from bot.config import EnvSettings, Settings, load
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
    serve.add_argument("--bind", "--host", dest="bind", default="0.0.0.0",
                       help="Address of the public port, POST /slack/events (with --http)")
    serve.add_argument("--port", type=int, default=3000, help="HTTP port (with --http)")
    serve.add_argument("--metrics-port", type=int, default=0,
                       help="Serve /metrics and /healthz on this port, apart from --port")
    serve.add_argument("--metrics-bind", default="127.0.0.1",
                       help="Address of --metrics-port (default 127.0.0.1: this machine only; "
                            "0.0.0.0 for a Prometheus in another container)")
    console = sub.add_parser("console", help="Type /docker commands at a terminal")
    console.add_argument("-c", "--command", help="Run one command and exit")
    console.add_argument("-y", "--yes", action="store_true",
                         help="Confirm destructive commands without asking")
    check = sub.add_parser("check", help="Validate the configuration and the environment, "
                                         "and exit")
    # The ports are checked only when given, with serve's addresses.
    check.add_argument("--bind", "--host", dest="bind", default="0.0.0.0",
                       help="Address --port is checked on")
    check.add_argument("--port", type=int, default=0, help="Check that serve --http can listen")
    check.add_argument("--metrics-port", type=int, default=0,
                       help="Check that serve --metrics-port can listen")
    check.add_argument("--metrics-bind", default="127.0.0.1",
                       help="Address --metrics-port is checked on")
    db = sub.add_parser("db", help="The store's schema: `db current`, `db upgrade`")
    db.add_argument("db_action", choices=("current", "upgrade"),
                    help="current: its revision, changing nothing; upgrade: back up and migrate")
    backup = sub.add_parser("backup", help="Copy the store to PATH while the bot runs")
    backup.add_argument("path", help="A new file, or a directory to put dockops-<time>.sqlite3 in")
    help_ = sub.add_parser("help", help="List the /docker commands, or one command's flags")
    help_.add_argument("topic", nargs="*", help="A command, e.g. `run` or `image prune`")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.log_format not in ("text", "json"):  # a default from the environment is not checked
        parser.error(f"DOCKOPS_LOG_FORMAT={args.log_format!r}: use text or json")
    level = args.log_level or ("INFO" if args.action == "serve" else "WARNING")
    if preflight.log_level_problem(level):
        print(f"dockops: {preflight.log_level_problem(level)}.", file=sys.stderr)
        return 2
    logsetup.setup(args.log_format, level.upper())
    try:
        return _dispatch(args)
    except DockopsError as exc:
        print(f"dockops: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _one_line(exc: DockopsError) -> str:
    """The error as printed: a one-line detail (the fix) joins the message on its line."""
    if exc.detail and "\n" not in exc.detail:
        return f"{exc.message} {exc.detail}"
    return str(exc)


def _dispatch(args: argparse.Namespace) -> int:
    if args.action == "help":
        return _print_help(args.topic)
    settings = load()
    if args.action in ("db", "backup"):
        return _store_admin(args, settings.data_dir)
    if args.action == "check":
        from bot.check import check

        ports = [(args.bind, args.port, "--port"),
                 (args.metrics_bind, args.metrics_port, "--metrics-port")]
        return check(settings, ports=[port for port in ports if port[1]])
    _preflight(settings, args)
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


def _preflight(settings: Settings, args: argparse.Namespace) -> None:
    """Raise the first environment mistake, before the store is opened or anything starts."""
    checks: list[Callable[[], str]] = [partial(preflight.data_dir_problem, settings.data_dir)]
    if args.action == "serve":
        env = settings.env
        _required_secrets(env, args.http)
        ports = [(args.bind, args.port if args.http else 0, "--port"),
                 (args.metrics_bind, args.metrics_port, "--metrics-port")]
        checks += [partial(preflight.port_problem, *at) for at in ports if at[1]]
        checks.append(lambda: preflight.slack_token_problem(
            "SLACK_BOT_TOKEN", env.slack_bot_token, env.slack_api_url))
        if not args.http:  # the connection URL this asks for is left unused
            checks.append(lambda: preflight.slack_token_problem(
                "SLACK_APP_TOKEN", env.slack_app_token, env.slack_api_url))
    for run in checks:  # in order; the first problem is told
        problem = run()
        if problem:
            raise preflight.fail(problem)


def _required_secrets(env: EnvSettings, http: bool) -> None:
    if not env.slack_bot_token:
        raise DockopsError("SLACK_BOT_TOKEN is not set.",
                           detail="Set it (xoxb-...), or run `dockops console` to try the bot "
                                  "locally without Slack.")
    if not http and not env.slack_app_token:
        raise DockopsError("SLACK_APP_TOKEN is not set: Socket Mode needs it.",
                           detail="Set it (xapp-...), or serve over HTTP with "
                                  "`dockops serve --http` and SLACK_SIGNING_SECRET.")
    if http and not env.slack_signing_secret:
        raise DockopsError("SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request.",
                           detail="Copy it from the Slack app's Basic Information page.")


def _store_admin(args: argparse.Namespace, data_dir: Path) -> int:
    """`dockops db current | upgrade` and `dockops backup PATH` (bot/store/admin.py)."""
    from bot.store import admin

    if args.action == "backup":
        print(admin.backup(data_dir, Path(args.path)))
    else:
        print(admin.current(data_dir) if args.db_action == "current" else admin.upgrade(data_dir))
    return 0


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
    app, runtime = build_app(services, socket_mode=not args.http)
    stop = _stop_on_signals()
    servers = []
    socket = None
    # Listen before connecting to Slack: a taken port fails before anything is served.
    if args.http:
        servers.append(_listening(args.bind, args.port, "--port",
                                  lambda: make_server(app, services, args.bind, args.port)))
        where = f"HTTP on {args.bind}:{args.port}"
    else:
        socket = SocketModeLink(app, env.slack_app_token, app.client)
        where = "Socket Mode"
    if args.metrics_port:
        link = socket.health if socket is not None else None
        servers.append(_listening(args.metrics_bind, args.metrics_port, "--metrics-port",
                                  lambda: make_metrics_server(services, args.metrics_bind,
                                                              args.metrics_port, link)))
        where += f", /metrics and /healthz on {args.metrics_bind}:{args.metrics_port}"
    if socket is not None:
        socket.start()  # a refused SLACK_APP_TOKEN fails here
    for server in servers:
        threading.Thread(target=server.run, name="http", daemon=True).start()
    runtime.start()
    incidents = _follow_incidents(services)
    log.info("dockops %s ready (%s)", __version__, where)
    stop.wait()
    incidents.stop()
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


def _follow_incidents(services: Any) -> Any:
    """Follow every host's container events for the [[alerts]] rules (none: nothing starts)."""
    from bot.incidents.service import Incidents

    outbox = getattr(getattr(services.scheduler, "runner", None), "outbox", None)
    incidents = Incidents(services, wake=outbox.notify if outbox is not None else None)
    services.incidents = incidents
    incidents.start()
    return incidents


def _listening(host: str, port: int, flag: str, make: Callable[[], Any]) -> Any:
    """The server `make` builds (it binds at once), or the port's problem as one sentence."""
    try:
        return make()
    except OSError as exc:
        raise preflight.fail(preflight.bind_problem(exc, host, port, flag)) from None


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
