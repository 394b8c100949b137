"""HTTP mode under hostile traffic: floods stay small, replays stay refused across restarts,
other workspaces run nothing, and garbage gets a 4xx without a traceback."""

from __future__ import annotations

import contextlib
import io
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker
import pytest

from bot.slack.middleware import REFUSED
from bot.slack.server import MAX_BODY_BYTES, WsgiApp
from tests.bot_rig import BotProcess, answer_text
from tests.conftest import MakePipeline, make_settings
from tests.security.conftest import probed
from tests.slack_standin import SlackStandIn, form_body, signed_headers
from tests.support import RUN_ID, TEST_LABEL, wait_for

MB = 1024 * 1024


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class RssWatch:
    """Samples a process's resident memory every 50 ms; `peak` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_kb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> RssWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, rss_kb(self.pid))


def exchange(port: int, head: bytes, body_chunks: Iterable[bytes] = (),
             timeout: float = 10) -> str:
    """Send a raw request (the body as it comes, stopping when the server hangs up); the
    status line, or "" when the server closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(head)
            for chunk in body_chunks:
                sock.sendall(chunk)
        answer = b""
        with contextlib.suppress(OSError):
            while b"\r\n" not in answer:
                data = sock.recv(4096)
                if not data:
                    break
                answer += data
        return answer.split(b"\r\n", 1)[0].decode(errors="replace")


def big_request(port: int, chunked: bool) -> str:
    """1 MB posted to /slack/events, unsigned: by Content-Length or chunked."""
    piece = b"x" * 65536
    if chunked:
        head = (b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
        chunks = iter([b"10000\r\n" + piece + b"\r\n"] * 16 + [b"0\r\n\r\n"])
    else:
        head = (b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" % MB)
        chunks = iter([piece] * 16)
    return exchange(port, head, chunks)


def idle_connection(port: int, drip: bool, give_up: float = 25) -> float | None:
    """Connect and send nothing (or half a header, one byte every 2 s); seconds until the
    server hung up, None when it had not by `give_up` (the thread then stops by itself)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        partial = iter(b"POST /slack/events HTTP/1.1\r\nX-Slow: " + b"a" * 20)
        while time.monotonic() - started < give_up:
            try:
                if drip:
                    sock.sendall(bytes([next(partial, ord("a"))]))
                if sock.recv(1) == b"":
                    return time.monotonic() - started
            except TimeoutError:
                continue
            except OSError:
                return time.monotonic() - started
    return None


def test_an_unauthenticated_flood_keeps_memory_bounded_and_the_bot_answering(
        bot_server: BotProcess, slack: SlackStandIn) -> None:
    bot_server.ask("version")  # warm: the first command loads what every command needs
    for _ in range(3):
        big_request(bot_server.port, chunked=True)
    baseline = rss_kb(bot_server.process.pid)
    with RssWatch(bot_server.process.pid) as watch, ThreadPoolExecutor(70) as pool:
        idle = [pool.submit(idle_connection, bot_server.port, drip=index % 2 == 1)
                for index in range(50)]
        floods = [pool.submit(big_request, bot_server.port, chunked=index % 2 == 1)
                  for index in range(200)]
        statuses = [flood.result(timeout=120) for flood in floods]
        closed = [conn.result(timeout=60) for conn in idle]
    grown_mb = (watch.peak - baseline) / 1024
    print(f"RSS baseline {baseline / 1024:.1f} MB, peak {watch.peak / 1024:.1f} MB "
          f"(+{grown_mb:.1f} MB) under 200 x 1 MB bodies and 50 idle/slow connections")
    assert all(status in ("HTTP/1.1 413 Request Entity Too Large", "") for status in statuses)
    assert statuses.count("") < 20  # nearly all got their 413, not a dropped connection
    assert grown_mb < 30
    # Idle connections are dropped by the server (channel_timeout 10 s, checked every 2 s).
    quiet = [seconds for index, seconds in enumerate(closed) if index % 2 == 0]
    assert all(seconds is not None and seconds < 16 for seconds in quiet), quiet
    assert bot_server.get("/healthz")[0] == 200
    assert "Docker Engine" in answer_text(bot_server.ask("version"))
    assert "Traceback" not in bot_server.log()


def test_a_body_over_the_cap_is_refused_from_its_content_length_alone(
        bot_server: BotProcess) -> None:
    started = time.monotonic()
    head = (b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
            % (MAX_BODY_BYTES + 1))
    assert exchange(bot_server.port, head).startswith("HTTP/1.1 413")  # no body was sent
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("raw", [
    b"\x00\xff\xfe garbage\r\n\r\n",
    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n",
    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n\xff\xfe\x00\x01",
    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slack-Signature: v0=zz\r\n"
    b"X-Slack-Request-Timestamp: 99999999999999999999\r\nContent-Length: 2\r\n\r\nhi",
    b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 40_000 + b"\r\n\r\n",
])
def test_malformed_unsigned_requests_get_a_4xx_and_no_traceback(bot_server: BotProcess,
                                                               raw: bytes) -> None:
    status = exchange(bot_server.port, raw)
    assert status.split(" ")[1][0] == "4", status
    assert bot_server.get("/healthz")[0] == 200
    assert "Traceback" not in bot_server.log()


class _Counting(io.BytesIO):
    """A wsgi.input that remembers how much the app asked for."""

    asked = 0

    def read(self, size: int | None = -1) -> bytes:
        self.asked += size if size and size > 0 else 1 << 40
        return super().read(size)


@pytest.mark.parametrize("length", ["", str(10 * MB)])
def test_the_app_itself_reads_at_most_the_cap(make_pipeline: MakePipeline, length: str) -> None:
    """Behind any WSGI server: a huge Content-Length is refused unread; without one (chunked),
    at most cap + 1 bytes are read."""
    services = make_pipeline(slack_signing_secret="s3cret").services
    app = WsgiApp(object(), services)  # type: ignore[arg-type]
    body = _Counting(b"x" * (2 * MB))
    statuses: list[str] = []
    environ: dict[str, Any] = {"PATH_INFO": "/slack/events", "REQUEST_METHOD": "POST",
                               "CONTENT_LENGTH": length, "wsgi.input": body}
    app(environ, lambda status, headers: statuses.append(status))
    assert statuses == ["413 Content Too Large"]
    assert body.asked <= (0 if length else MAX_BODY_BYTES + 1)


# -- replays --------------------------------------------------------------------------------------

def run_text(value: str) -> str:
    return (f"run -d --label {TEST_LABEL}={RUN_ID} --label dockops.probe={value} "
            "dockops-test/busybox:latest true")


def replay_keys(bot: BotProcess) -> int:
    with contextlib.closing(sqlite3.connect(bot.data_dir / "dockops.sqlite3")) as db:
        return db.execute("SELECT count(*) FROM replay_keys").fetchone()[0]


def test_a_replay_is_refused_after_a_restart_and_nothing_runs(
        start_bot: Callable[..., BotProcess], slack: SlackStandIn, busybox: str, probe: str,
        docker_client: docker.DockerClient) -> None:
    first = start_bot()
    payload = slack.slash_command(run_text(probe))
    body = form_body(payload)
    headers = signed_headers(slack.signing_secret, body)
    for _ in range(5):  # forged: refused before anything is stored
        assert first.post("/slack/events", body, signed_headers("not-the-secret", body))[0] == 401
    assert replay_keys(first) == 0
    assert first.post("/slack/events", body, headers)[0] == 200
    slack.wait_for_responses(payload["response_url"], 1, timeout=20)
    assert len(probed(docker_client, probe)) == 1 and replay_keys(first) == 1
    first.stop()

    second = start_bot()
    assert second.data_dir == first.data_dir
    status, _ = second.post("/slack/events", body, headers)
    assert status == 401
    assert "replayed" in second.log()
    assert "Docker Engine" in answer_text(second.ask("version"))  # a barrier: work after it ran
    assert len(probed(docker_client, probe)) == 1
    assert len(slack.responses(payload["response_url"])) == 1


# -- other workspaces and apps ------------------------------------------------------------------

TEAM_CONFIG = """
[access]
default_role = "none"
[access.roles]
admin = ["U0ADMIN"]
[slack]
team_ids = ["T0STANDIN"]
app_ids = ["A0DOCKOPS"]
"""


@pytest.mark.parametrize("mode", ["http", "socket"])
def test_a_request_from_another_workspace_or_app_runs_nothing(
        start_bot: Callable[..., BotProcess], slack: SlackStandIn, busybox: str, probe: str,
        docker_client: docker.DockerClient, mode: str) -> None:
    bot = start_bot(TEAM_CONFIG, mode=mode)
    strangers = [bot.command(run_text(probe), team_id="T0OTHER"),
                 bot.command(run_text(probe), api_app_id="A0OTHER")]
    for answer in strangers:
        assert answer.status == 200 and REFUSED in answer.ack_body, answer
    clicked = bot.click("confirm", "anything", team_id="T0OTHER")
    assert clicked[0] == 200
    wait_for(lambda: bot.log().count("refused a request from another workspace") >= 3,
             timeout=10, what="three refusals logged")
    # Our own workspace still runs, and only its command did.
    assert bot.ask(run_text(probe)) and len(probed(docker_client, probe)) == 1
    assert all(slack.responses(answer.response_url) == [] for answer in strangers)
    assert slack.responses(clicked[1]) == []


def test_check_warns_when_a_signing_secret_is_set_and_the_workspace_is_not_pinned(
        tmp_path: Path) -> None:
    from bot.check import notes

    unpinned = notes(make_settings(tmp_path, slack_signing_secret="s3cret"))
    assert any("team_ids and app_ids are empty" in line for line in unpinned), unpinned
    pinned = notes(make_settings(tmp_path, TEAM_CONFIG, slack_signing_secret="s3cret"))
    assert not any("team_ids" in line for line in pinned)
    assert not any("team_ids" in line for line in notes(make_settings(tmp_path)))  # Socket Mode


@pytest.mark.parametrize(("toml", "expected"), [
    ('[slack]\nteam_ids = ["#general"]\n', "is not a workspace ID"),
    ('[slack]\napp_ids = ["T0STANDIN"]\n', "is not an app ID"),
])
def test_workspace_and_app_ids_are_checked_when_loading(toml: str, expected: str) -> None:
    from bot.config import parse_file
    from bot.errors import DockopsError

    with pytest.raises(DockopsError) as caught:
        parse_file(toml, "dockops.toml")
    assert expected in str(caught.value)
