"""Logs: one line per command (user, command, outcome, duration); never a secret, in any format."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from bot import logs
from tests.bot_rig import BotProcess
from tests.support import wait_for

SECRETS = ("xoxb-1111-2222-abcdefsecret", "hunter2-registry-pw", "s3cr3t-db-value")


def record(msg: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError(f"engine refused https://ci:{SECRETS[1]}@registry.example/v2/")
        except RuntimeError:
            exc_info = sys.exc_info()
    made = logging.LogRecord("dockops.test", logging.ERROR, __file__, 1, msg, args, exc_info)
    made.__dict__.update(extra)
    return made


@pytest.fixture
def leaky() -> logging.LogRecord:
    """A record with a secret in the message, an argument, an extra field and the traceback."""
    return record("posting with %s for run -e DB_PASSWORD=%s --password %s", SECRETS[0],
                  SECRETS[2], SECRETS[1], exc=True, api_token=SECRETS[0],
                  text=f"login --password={SECRETS[1]} registry")


@pytest.mark.parametrize("formatter", [logs.JsonFormatter(), logs.TextFormatter()],
                         ids=["json", "text"])
def test_no_secret_survives_either_format(formatter: logging.Formatter, leaky) -> None:
    line = formatter.format(leaky)
    for secret in SECRETS:
        assert secret not in line
    assert "DB_PASSWORD=********" in line and "--password ********" in line


def test_json_lines_stay_valid_json_with_masks_inside() -> None:
    line = logs.JsonFormatter().format(record('quoted "PASSWORD=abc\\" and TOKEN=xyz', user="U1"))
    entry = json.loads(line)
    assert entry["user"] == "U1" and "abc" not in line and "xyz" not in line
    assert {"time", "level", "logger", "message"} <= set(entry)


def test_masking_leaves_ordinary_pairs_alone() -> None:
    assert logs.mask_line("command user=U0ADMIN outcome=ok duration_ms=12 PORT=80") == \
        "command user=U0ADMIN outcome=ok duration_ms=12 PORT=80"


def json_lines(bot: BotProcess) -> list[dict]:
    return [json.loads(line) for line in bot.log().splitlines() if line.strip()]


def command_line(bot: BotProcess, command: str, user: str) -> dict | None:
    return next((entry for entry in json_lines(bot) if entry.get("message") == "command"
                 and entry.get("command") == command and entry.get("user") == user), None)


def test_running_bot_logs_one_json_line_per_command_and_no_secret(start_bot, make_container
                                                                   ) -> None:
    bot = start_bot(extra_env={"DOCKOPS_LOG_FORMAT": "json", "DOCKOPS_LOG_LEVEL": "DEBUG",
                               "REGISTRY_PASSWORD": SECRETS[1]})
    container = make_container(environment={"DB_PASSWORD": SECRETS[2], "MODE": "prod"})
    bot.ask("ps", user_id="U0VIEW")
    inspected = bot.ask(f"inspect {container.name}", user_id="U0VIEW")
    bot.ask(f"login -p {SECRETS[1]} 127.0.0.1:5000", user_id="U0ADMIN")
    bot.ask(f"run -e DB_PASSWORD={SECRETS[2]} --privileged dockops-test/busybox true",
            user_id="U0OPER")
    assert SECRETS[2] not in json.dumps(inspected)
    line = wait_for(lambda: command_line(bot, "ps", "U0VIEW"), what="the ps log line")
    assert line["outcome"] == "ok" and isinstance(line["duration_ms"], int)
    assert line["channel"] == "C0OPS" and line["level"] == "info"
    wait_for(lambda: command_line(bot, "run", "U0OPER"), what="the run log line")
    text = bot.log()
    for secret in (*SECRETS, bot.slack.bot_token, bot.slack.app_token, bot.slack.signing_secret):
        assert secret not in text, f"{secret[:6]}... appears in the log"
    assert all(line.startswith("{") for line in text.splitlines() if line.strip())


def test_readable_format_is_the_default(bot_server: BotProcess) -> None:
    bot_server.ask("version", user_id="U0VIEW")
    line = wait_for(lambda: next((line for line in bot_server.log().splitlines()
                                  if "dockops.pipeline: command" in line), None),
                    what="the version log line")
    assert "user=U0VIEW" in line and "command=version" in line and "outcome=ok" in line
    assert "duration_ms=" in line and not line.startswith("{")
