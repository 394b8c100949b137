"""A real `dockops serve` process wired to the Slack stand-in, and helpers to talk to it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.slack_standin import SlackStandIn, form_body, interactivity_body, signed_headers
from tests.support import wait_for

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Answer:
    """What happened to one slash command: the HTTP ack and the response_url posts."""

    status: int
    ack_body: str
    response_url: str
    ack_seconds: float


@dataclass
class BotProcess:
    """One running `dockops serve`, HTTP or Socket Mode."""

    slack: SlackStandIn
    process: subprocess.Popen[bytes]
    log_path: Path
    data_dir: Path
    port: int  # HTTP mode: the public port (POST /slack/events); Socket Mode: the metrics port
    mode: str
    env: dict[str, str] = field(default_factory=dict)
    metrics_port: int = 0  # /healthz and /metrics (HTTP mode: apart from the public port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port or self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def post(self, path: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
        request = urllib.request.Request(self.url + path, data=body.encode(), headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def get(self, path: str, *, public: bool = False) -> tuple[int, str]:
        """GET from the metrics listener (/healthz, /metrics), or the public port."""
        try:
            with urllib.request.urlopen((self.url if public else self.metrics_url) + path,
                                        timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def command(self, text: str, *, user_id: str = "U0ADMIN", channel_id: str = "C0OPS",
                **fields: Any) -> Answer:
        """Send `/docker TEXT` as Slack would (signed HTTP, or a Socket Mode envelope)."""
        payload = self.slack.slash_command(text, user_id=user_id, channel_id=channel_id, **fields)
        response_url = payload["response_url"]
        started = time.monotonic()
        if self.mode == "socket":
            envelope = self.slack.send_envelope("slash_commands", payload)
            ack = self.slack.wait_for_ack(envelope)
            return Answer(200, json.dumps(ack.payload or {}), response_url, ack.elapsed)
        body = form_body(payload)
        status, ack_body = self.post("/slack/events", body,
                                     signed_headers(self.slack.signing_secret, body))
        return Answer(status, ack_body, response_url, time.monotonic() - started)

    def click(self, action_id: str, value: str, *, user_id: str = "U0ADMIN",
              channel_id: str = "C0OPS", **fields: Any) -> tuple[int, str]:
        """Click a button as Slack would; returns the HTTP status and the action's response_url."""
        payload = self.slack.block_action(action_id, value, user_id=user_id,
                                          channel_id=channel_id, **fields)
        response_url = payload["response_url"]
        if self.mode == "socket":
            envelope = self.slack.send_envelope("interactive", payload)
            self.slack.wait_for_ack(envelope)
            return 200, response_url
        body = interactivity_body(payload)
        status, _ = self.post("/slack/events", body,
                              signed_headers(self.slack.signing_secret, body))
        return status, response_url

    def answers(self, answer: Answer, count: int = 1, timeout: float = 15) -> list[dict[str, Any]]:
        """The response_url posts for a command, once `count` arrived."""
        return self.slack.wait_for_responses(answer.response_url, count, timeout)

    def ask(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """Send a command and return its first answer."""
        answer = self.command(text, **kwargs)
        assert answer.status == 200, (answer.status, answer.ack_body)
        return self.answers(answer)[0]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode


def answer_text(body: dict[str, Any]) -> str:
    """All the text of a Slack message body (fallback text and every block), for asserts."""
    return body.get("text", "") + "\n" + json.dumps(body.get("blocks", []), ensure_ascii=False)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(socket_ping_interval=0.2) as standin:
        yield standin
        assert standin.violations == [], standin.violations


def launch_bot(slack: SlackStandIn, workdir: Path, config: str, *, mode: str = "http",
               extra_env: dict[str, str] | None = None, data_dir: Path | None = None,
               args: tuple[str, ...] = (), name: str = "bot") -> BotProcess:
    """Start `dockops serve` against the stand-in and wait until it is ready."""
    config_path = workdir / f"{name}.toml"
    config_path.write_text(config)
    data = data_dir or workdir / "data"
    port, metrics_port = free_port(), free_port()
    while metrics_port == port:
        metrics_port = free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": slack.bot_token,
           "SLACK_SIGNING_SECRET": slack.signing_secret, "SLACK_APP_TOKEN": slack.app_token,
           "SLACK_API_URL": slack.api_url, "DOCKOPS_CONFIG": str(config_path),
           "DOCKOPS_DATA_DIR": str(data), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    command = [sys.executable, "-m", "bot", "serve"]
    command += ["--http", "--bind", "127.0.0.1", "--port", str(port),
                "--metrics-port", str(metrics_port)] if mode == "http" \
        else ["--metrics-port", str(port)]
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen([*command, *args], env=env, cwd=ROOT, stdout=log_file,
                                   stderr=subprocess.STDOUT)
    bot = BotProcess(slack, process, log_path, data, port, mode, env,
                     metrics_port if mode == "http" else 0)

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"dockops exited with {process.returncode}:\n{bot.log()}")
        if mode == "socket" and slack.socket_mode.client_count == 0:
            return False
        try:
            return bot.get("/healthz")[0] in (200, 503)
        except OSError:
            return False

    wait_for(ready, timeout=30, what="dockops serve to be ready")
    return bot


@pytest.fixture
def start_bot(slack: SlackStandIn, tmp_path: Path) -> Iterator[Callable[..., BotProcess]]:
    """Start `dockops serve` (HTTP by default) with a config; stopped after the test."""
    from tests.conftest import ACCESS

    started: list[BotProcess] = []

    def start(config: str = ACCESS, **kwargs: Any) -> BotProcess:
        bot = launch_bot(slack, tmp_path, config, name=f"bot-{len(started)}", **kwargs)
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.stop()


@pytest.fixture
def bot_server(start_bot: Callable[..., BotProcess]) -> BotProcess:
    """`dockops serve --http` with the test roles (U0ADMIN admin, U0OPER operator, U0VIEW viewer)."""
    return start_bot()
