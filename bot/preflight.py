"""Environment mistakes found before anything starts: one sentence each, with the fix.

`serve` and `console` raise the first as a DockopsError (exit code 2, no traceback);
`dockops check` lists them all. Each check does the honest thing: a real write in the data
directory, a real bind of the port, a real `auth.test`.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from pathlib import Path

from bot.errors import DockopsError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
PROBE_BYTES = 4096  # a page: on a full filesystem even this fails
DB_FILENAME = "dockops.sqlite3"
# What Slack answers for a token it does not take.
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "not_allowed_token_type",
                         "token_revoked", "token_expired", "account_inactive"})


def log_level_problem(level: str) -> str:
    """Why `level` is not a log level ("" when it is one)."""
    if level.upper() in LEVELS or isinstance(logging.getLevelName(level.upper()), int):
        return ""
    return (f"log level {level!r} is not a log level. Use {', '.join(LEVELS)} "
            "(--log-level or DOCKOPS_LOG_LEVEL)")


def data_dir_problem(path: Path, *, create: bool = True) -> str:
    """Why the bot cannot keep its database in `path` ("" when it can).

    A missing directory is created (with its parents) when `create`, as the store always
    did; `check` passes `create=False` and only asks whether it could be.
    """
    if not path.exists():
        parent = _existing_parent(path)
        if not create:
            return "" if os.access(parent, os.W_OK) else _cannot_create(path, parent)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return _os_problem(exc, path, parent) if exc.errno != errno.EACCES \
                else _cannot_create(path, parent)
    if not path.is_dir():
        return (f"the data directory {path} (DOCKOPS_DATA_DIR) is a file, not a directory. "
                "Point DOCKOPS_DATA_DIR at a directory")
    try:
        _write_probe(path)
        database = path / DB_FILENAME
        if database.exists():
            with database.open("r+b"):
                pass
    except OSError as exc:
        return _os_problem(exc, path, path)
    return ""


def _existing_parent(path: Path) -> Path:
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _write_probe(path: Path) -> None:
    """Write, sync and remove a page-sized file: the store's first write, done in advance."""
    probe = path / f".dockops-probe-{os.getpid()}"
    try:
        with probe.open("wb") as handle:
            handle.write(b"\0" * PROBE_BYTES)
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        probe.unlink(missing_ok=True)


def _os_problem(exc: OSError, path: Path, owner_of: Path) -> str:
    """One sentence for what the filesystem said about the data directory."""
    where = f"the data directory {path} (DOCKOPS_DATA_DIR)"
    if exc.errno == errno.EROFS:
        return (f"{where} is on a read-only filesystem. Mount it read-write (in a compose file, "
                "drop `:ro` from the volume) or point DOCKOPS_DATA_DIR at a writable directory")
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return (f"{where} is full (no space left on its filesystem). Free space there "
                f"(`df -h {path}` shows it) or point DOCKOPS_DATA_DIR elsewhere")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return _not_writable(path, owner_of)
    return f"{where} cannot be written ({exc.strerror}). Fix it or point DOCKOPS_DATA_DIR elsewhere"


def _not_writable(path: Path, owner_of: Path) -> str:
    uid, owner = os.geteuid(), owner_of.stat().st_uid
    return (f"the data directory {path} (DOCKOPS_DATA_DIR) is owned by uid {owner} and not "
            f"writable by uid {uid}, which the bot runs as. Run `chown -R {uid} {path}` on the "
            f"host (for a bind-mounted /data, on the host's directory) or run the bot as uid "
            f"{owner}")


def _cannot_create(path: Path, parent: Path) -> str:
    uid = os.geteuid()
    return (f"the data directory {path} (DOCKOPS_DATA_DIR) does not exist and uid {uid} cannot "
            f"create it in {parent} (owned by uid {parent.stat().st_uid}). Run "
            f"`mkdir -p {path} && chown {uid} {path}` or point DOCKOPS_DATA_DIR elsewhere")


def port_problem(host: str, port: int, flag: str) -> str:
    """Why the bot cannot listen on host:port ("" when it can); `flag` names the option."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            return bind_problem(exc, host, port, flag)
    return ""


def bind_problem(exc: OSError, host: str, port: int, flag: str) -> str:
    """One sentence for a failed bind of host:port."""
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} ({flag}) is already in use. Stop what listens there "
                f"(`ss -ltnp 'sport = :{port}'` shows it) or choose another {flag}")
    if exc.errno == errno.EACCES:
        return (f"port {port} on {host} ({flag}) needs privileges this uid lacks. "
                f"Choose a port above 1023")
    return f"cannot listen on {host}:{port} ({flag}): {exc.strerror}. Fix the address or {flag}"


def token_problem(error: str, variable: str) -> str:
    """One sentence for Slack refusing the token in `variable` with `error`."""
    fix = ("Copy the app-level token (xapp-..., with the connections:write scope) from the "
           "app's Basic Information page" if variable == "SLACK_APP_TOKEN" else
           "Copy the Bot User OAuth Token (xoxb-...) from the app's OAuth & Permissions page, "
           "and reinstall the app if it was revoked")
    return f"Slack refused {variable} ({error}). {fix}"


def slack_token_problem(variable: str, token: str, api_url: str) -> str:
    """Whether Slack takes the token ("" when it does, or could not be asked).

    The bot token is asked with `auth.test`; the app token with `apps.connections.open`,
    the only method that takes it (the URL it hands out is left unused). An unreachable
    Slack is not a mistake here: the bot keeps retrying once it runs.
    """
    from slack_sdk.errors import SlackApiError

    from bot.slack.client import web_client

    client = web_client("" if variable == "SLACK_APP_TOKEN" else token, api_url, timeout=10)
    try:
        if variable == "SLACK_APP_TOKEN":
            client.apps_connections_open(app_token=token)
        else:
            client.auth_test()
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        return token_problem(error, variable) if error in AUTH_ERRORS else ""
    except Exception as exc:  # unreachable: told in the log, not fatal
        logging.getLogger("dockops").warning("could not ask Slack about %s (%s)", variable, exc)
    return ""


def fail(problem: str) -> DockopsError:
    """The start-up error for a problem: one line, `dockops: <problem>. <fix>.`"""
    return DockopsError(f"{problem}.")
