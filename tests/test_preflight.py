"""Environment mistakes: a real `dockops serve` exits 2 with one line naming the problem and
the fix (no traceback), and `dockops check` reports the same problem."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.preflight import data_dir_problem
from tests.bot_rig import ROOT, free_port
from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.slack_process  # real `dockops` processes against the stand-in

DOCKOPS = str(ROOT / ".venv" / "bin" / "dockops")
# uid 65534 that can still read the interpreter under /root (but writes only what it owns).
AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
# root without the capabilities that let it read and write other uids' files.
ROOT_WITHOUT_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.fixture
def env(tmp_path: Path, slack: SlackStandIn) -> dict[str, str]:
    """What a working `serve` would get: the stand-in's tokens, a data dir, no config file."""
    return {"PATH": os.environ["PATH"], "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_APP_TOKEN": slack.app_token, "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url, "DOCKOPS_DATA_DIR": str(tmp_path / "data"),
            "DOCKER_HOST": "unix:///nonexistent/docker.sock"}


def dockops(env: dict[str, str], *args: str, prefix: list[str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(prefix or []), DOCKOPS, *args], env=env, cwd="/", text=True,
                          capture_output=True, timeout=60)


def one_line(done: subprocess.CompletedProcess[str], *phrases: str) -> str:
    """The single stderr line of a start that failed with exit code 2, holding `phrases`."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dockops: "), done.stderr
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])
    return lines[0]


def checked(env: dict[str, str], *phrases: str, args: tuple[str, ...] = (),
            prefix: list[str] | None = None) -> str:
    """`dockops check` finds the same problem: exit code 1 and the problem on stdout."""
    done = dockops(env, "check", *args, prefix=prefix)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "problem(s) in the environment" in done.stdout and "Traceback" not in done.stderr
    for phrase in phrases:
        assert phrase in done.stdout, (phrase, done.stdout)
    return done.stdout


@contextlib.contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def fill(path: Path) -> None:
    """Write until the filesystem says it is full."""
    with contextlib.suppress(OSError), (path / "filler").open("wb") as handle:
        while True:
            handle.write(b"\0" * 4096)
            handle.flush()


def test_a_full_data_dir_is_one_line_and_check_finds_it(env: dict[str, str],
                                                         tmp_path: Path) -> None:
    with tmpfs(tmp_path / "full", "size=64k") as full:
        fill(full)
        env["DOCKOPS_DATA_DIR"] = str(full)
        one_line(dockops(env, "serve", "--http"), str(full), "is full", "Free space")
        checked(env, "is full")


def test_a_read_only_data_dir_is_one_line_and_check_finds_it(env: dict[str, str],
                                                              tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "size=64k,ro") as read_only:
        env["DOCKOPS_DATA_DIR"] = str(read_only)
        one_line(dockops(env, "serve"), "read-only filesystem", "Mount it read-write")
        env["DOCKOPS_DATA_DIR"] = str(read_only / "not" / "there")
        one_line(dockops(env, "console", "-c", "ps"), "read-only filesystem")
        checked(env, "does not exist and uid 0 cannot create it")


def test_a_data_dir_owned_by_another_uid_names_both_uids_and_the_chown(
        env: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "data"  # as a bind-mounted /data the host's uid 1000 owns
    data.mkdir()
    os.chown(data, 1000, 1000)
    tmp_path.chmod(0o755)
    one_line(dockops(env, "serve", prefix=AS_NOBODY), "owned by uid 1000",
             "not writable by uid 65534", f"`chown -R 65534 {data}`")
    checked(env, "owned by uid 1000", prefix=AS_NOBODY)


def test_a_missing_data_dir_is_created_or_named_with_the_mkdir(env: dict[str, str],
                                                                tmp_path: Path) -> None:
    assert data_dir_problem(tmp_path / "a" / "b") == "" and (tmp_path / "a" / "b").is_dir()
    parent = tmp_path / "locked"
    parent.mkdir()
    tmp_path.chmod(0o755)
    env["DOCKOPS_DATA_DIR"] = str(parent / "data")
    one_line(dockops(env, "serve", prefix=AS_NOBODY), "does not exist", "uid 65534 cannot "
             f"create it in {parent} (owned by uid 0)", f"`mkdir -p {parent / 'data'}")
    checked(env, "does not exist", prefix=AS_NOBODY)


def test_a_config_path_that_is_a_directory_or_unreadable(env: dict[str, str],
                                                         tmp_path: Path) -> None:
    env["DOCKOPS_CONFIG"] = str(tmp_path)
    for action in ("serve", "check"):
        one_line(dockops(env, action), "is a directory", "Point DOCKOPS_CONFIG at the TOML file")
    config = tmp_path / "dockops.toml"
    config.write_text("[limits]\n")
    os.chown(config, 1000, 1000)
    config.chmod(0o600)
    env["DOCKOPS_CONFIG"] = str(config)
    for action in ("serve", "check"):
        one_line(dockops(env, action, prefix=ROOT_WITHOUT_DAC), "not readable by uid 0",
                 "owned by uid 1000", f"`chmod a+r {config}`")


def test_a_port_in_use_is_one_line_in_http_mode_and_for_the_metrics_port(
        env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", free_port()))
        taken.listen()
        port = str(taken.getsockname()[1])
        one_line(dockops(env, "serve", "--http", "--bind", "127.0.0.1", "--port", port),
                 f"port {port} on 127.0.0.1 (--port) is already in use", "choose another")
        one_line(dockops(env, "serve", "--metrics-port", port), "(--metrics-port) is already")
        checked(env, "(--port) is already in use", args=("--bind", "127.0.0.1", "--port", port))
        checked(env, "(--metrics-port) is already in use", args=("--metrics-port", port))


def test_a_bad_log_level_is_one_line(env: dict[str, str]) -> None:
    one_line(dockops(env, "--log-level", "LOUD", "serve"), "'LOUD' is not a log level",
             "DOCKOPS_LOG_LEVEL")
    env["DOCKOPS_LOG_LEVEL"] = "verbose"
    one_line(dockops(env, "check"), "'verbose' is not a log level")


def test_a_rejected_bot_token_names_slack_bot_token(env: dict[str, str]) -> None:
    env["SLACK_BOT_TOKEN"] = "xoxb-0-0-revoked"
    one_line(dockops(env, "serve", "--http"), "Slack refused SLACK_BOT_TOKEN (invalid_auth)",
             "Bot User OAuth Token")
    out = checked(env, "Slack refused SLACK_BOT_TOKEN (invalid_auth)")
    assert "SLACK_APP_TOKEN" not in out  # the app token was asked too, and taken


def test_a_rejected_app_token_names_slack_app_token(env: dict[str, str],
                                                    slack: SlackStandIn) -> None:
    env["SLACK_APP_TOKEN"] = "xapp-1-A0-0-revoked"
    one_line(dockops(env, "serve"), "Slack refused SLACK_APP_TOKEN (invalid_auth)",
             "app-level token")
    checked(env, "Slack refused SLACK_APP_TOKEN (invalid_auth)")
    assert slack.socket_mode.client_count == 0


def test_check_says_what_it_checked_and_that_it_asked_slack(env: dict[str, str],
                                                           tmp_path: Path) -> None:
    done = dockops(env, "check", "--metrics-port", str(free_port()))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SLACK_BOT_TOKEN shown to Slack (auth.test) and not refused" in done.stdout
    assert "SLACK_APP_TOKEN shown to Slack (apps.connections.open)" in done.stdout
    assert "--metrics-port" in done.stdout
    assert not (tmp_path / "data").exists()  # check creates nothing
