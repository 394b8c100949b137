"""Bounded work: no request can make dockops wait, count or hold memory without limit.

`stop -t` is capped, time texts out of range are one sentence, each user has a share of the
workers and of the follows, a viewer's `ps` is answered while long commands hold every
worker, and output without newlines cannot grow a stream's buffer.
"""

from __future__ import annotations

import contextlib
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import docker
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine.streams import LineBuffer, StreamReader
from bot.errors import RefusedError, UsageError
from bot.follows import Follow, FollowRegistry
from bot.slack.listeners.commands import is_quick
from bot.timeparse import parse_duration, parse_time
from bot.workers import TooManyCommands, WorkerPool
from tests.bot_rig import BotProcess, answer_text
from tests.conftest import MakePipeline
from tests.security.conftest import probed
from tests.slack_standin import SlackStandIn
from tests.support import RUN_ID, TEST_LABEL, RecordingResponder, RecordingThread, wait_for

# -- time texts ----------------------------------------------------------------------------------

OUT_OF_RANGE = ["inf", "nan", "-inf", "1e999", "9" * 400, "9" * 5000, "99999999999999999999",
                "253402300800", "99999999999d", "1000000d", "9" * 400 + "s", "1e20",
                "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "10000-01-01",
                "١٢٣", "", "   ", "-1", "1h-1m"]


@pytest.mark.parametrize("text", OUT_OF_RANGE)
def test_a_time_out_of_range_is_one_sentence(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_time(text)
    message = caught.value.message
    assert message.endswith(".") and "\n" not in message and len(message) < 160, message


@pytest.mark.parametrize("text", ["inf", "nan", "1e999", "99999999999d", "9" * 400 + "h",
                                  "1000000d", "", "10x"])
def test_a_duration_out_of_range_is_one_sentence(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_duration(text)
    assert "\n" not in caught.value.message and len(caught.value.message) < 160


def test_times_in_range_still_parse() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert parse_time("10m", now=now) == datetime(2026, 11, 30, 11, 50, tzinfo=UTC)
    assert parse_time("253402300799", now=now).year == 9999
    assert parse_time("2026-11-27T10:00:00+01:00") == datetime(2026, 11, 27, 9, tzinfo=UTC)
    assert parse_duration("2500000h").days > 100_000  # 285 years: still a Go duration


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60),
                 st.from_regex(r"\A[0-9]{1,400}(\.[0-9]{1,30})?(ms|s|m|h|d)?\Z"),
                 st.from_regex(r"\A[0-9]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                               r"[+-][0-9]{2}:[0-9]{2}\Z")))
def test_any_time_text_is_a_utc_time_or_a_usage_error(text: str) -> None:
    try:
        parsed = parse_time(text)
    except UsageError as exc:
        assert "\n" not in exc.message
    else:
        assert parsed.tzinfo is not None and parsed.utcoffset().total_seconds() == 0


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.from_regex(r"\A([0-9]{1,300}(ms|s|m|h|d)){1,3}\Z")))
def test_any_duration_text_is_a_timedelta_or_a_usage_error(text: str) -> None:
    with contextlib.suppress(UsageError):
        assert parse_duration(text).total_seconds() >= 0


Run = Callable[..., tuple]


@pytest.fixture
def run_as(make_pipeline: MakePipeline) -> MakePipeline:
    """The real pipeline (console admin by default) with extra TOML appended to the test roles."""
    return make_pipeline


@pytest.mark.parametrize("text", ["logs --since 1e999 {c}", "logs --since 99999999999999999999 {c}",
                                  "logs --until inf {c}", "logs --since 99999999999d {c}",
                                  "logs -f --since nan {c}",
                                  "logs --since 9999-12-31T23:59:59-05:00 {c}",
                                  "image prune --filter until=99999999999d",
                                  "stop -t 99999999999999999999999999 {c}",
                                  "logs --tail 1e999 {c}"])
def test_out_of_range_numbers_in_commands_are_usage_errors(run_as: Callable[[str], Run],
                                                           make_container, text: str) -> None:
    container = make_container()
    outcome, sent = run_as()(text.format(c=container.name))
    said = sent.text()
    assert not outcome.ok and "internal error" not in said.lower(), said
    container.reload()
    assert container.status == "running"


def test_stop_t_over_the_cap_is_refused_and_names_the_key(run_as: Callable[[str], Run],
                                                          make_container) -> None:
    run = run_as()
    container = make_container()
    for text in (f"stop -t 31 {container.name}", f"restart -t 3600 {container.name}"):
        outcome, sent = run(text)
        assert not outcome.ok and "stop_timeout_max_seconds" in sent.text(), sent.text()
    container.reload()
    assert container.status == "running"  # nothing was stopped


def test_stop_t_waits_longer_than_the_engine_timeout_without_failing(
        run_as: Callable[[str], Run], make_container, docker_client: docker.DockerClient) -> None:
    """The engine call's HTTP timeout is engine_timeout + t: a 4 s wait outlives a 2 s timeout."""
    run = run_as("[limits]\nengine_timeout_seconds = 2\nstop_timeout_max_seconds = 5\n")
    container = make_container()  # sleep as PID 1 ignores SIGTERM: the engine waits all of -t
    started = time.monotonic()
    outcome, sent = run(f"stop -t 4 {container.name}")
    assert outcome.ok, sent.text()
    assert 3.5 <= time.monotonic() - started < 15
    assert docker_client.api.inspect_container(container.id)["State"]["Status"] == "exited"
    outcome, sent = run(f"stop -t 6 {container.name}")
    assert not outcome.ok and "at most 5 s" in sent.text()


# -- output without newlines --------------------------------------------------------------------

def test_fifty_megabytes_without_a_newline_keep_the_buffer_bounded() -> None:
    buffer = LineBuffer()
    tracemalloc.start()
    try:
        started = time.monotonic()
        chunk = b"x" * 65536
        for _ in range(800):  # 52 MB, never a newline
            buffer.feed(chunk)
        for _ in range(100_000):  # a TTY: one byte per chunk
            buffer.feed(b"y")
        elapsed = time.monotonic() - started
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert buffer.total_bytes > 50_000_000
    assert current < 4_000_000 and peak < 8_000_000, (current, peak)
    assert len(buffer.text()) <= buffer.keep_chars + buffer.max_line + 1
    assert buffer.cut_lines > 700 and elapsed < 20
    buffer.finish()
    assert buffer.text().endswith("y\n")


def test_lines_are_still_whole_and_carriage_returns_still_rewrite() -> None:
    buffer = LineBuffer(max_line=8)
    for byte in b"ab\r\ncd\rXY\n0123456789abc":
        buffer.feed(bytes([byte]))
    buffer.finish()
    assert buffer.text() == "ab\nXY\n01234567\n89abc\n"


# -- per-user limits ----------------------------------------------------------------------------

def test_a_user_at_the_limit_gets_a_sentence_and_nothing_is_queued() -> None:
    pool = WorkerPool(4, per_user=3, quiet=0)
    release = threading.Event()
    ran: list[str] = []
    try:
        for index in range(3):
            assert pool.submit(lambda i=index: (release.wait(10), ran.append(f"a{i}")), user="UA")
        with pytest.raises(TooManyCommands) as caught:
            pool.submit(lambda: ran.append("a-fourth"), user="UA")
        assert "3 commands running" in caught.value.message
        assert "per_user_commands" in caught.value.message
        assert pool.submit(lambda: ran.append("b"), user="UB")  # another user is not limited
        assert pool.submit(lambda: ran.append("button"))  # no user: buttons, jobs
        wait_for(lambda: "b" in ran and "button" in ran, timeout=5)
        release.set()
        wait_for(lambda: pool.running_for("UA") == 0, timeout=5)
        assert "a-fourth" not in ran
        assert pool.submit(lambda: ran.append("a-later"), user="UA")  # room again
        wait_for(lambda: "a-later" in ran, timeout=5)
    finally:
        release.set()
        assert pool.shutdown(5)


def test_quick_reads_have_their_own_lane_while_every_worker_is_held() -> None:
    pool = WorkerPool(2, quick_workers=1, quiet=0)
    release = threading.Event()
    answered = threading.Event()
    try:
        for _ in range(4):  # two running, two queued behind them
            pool.submit(lambda: release.wait(10))
        pool.submit(answered.set, quick=True)
        assert answered.wait(2)
    finally:
        release.set()
        assert pool.shutdown(5)


@pytest.mark.parametrize(("text", "quick"), [
    ("ps -a", True), ("-H local images", True), ("logs web", True), ("logs -tf web", False),
    ("logs --follow web", False), ("run busybox sleep 20", False), ("build -t x app", False),
    ("jobs", True), ("jobs run nightly", False), ("not-a-command", True), ("help run", True)])
def test_which_commands_are_quick_reads(text: str, quick: bool) -> None:
    assert is_quick(text) is quick


class _Endless:
    """A stream that yields nothing until closed, as a quiet container's log does."""

    def __init__(self) -> None:
        self._closed = threading.Event()

    def __iter__(self) -> Iterator[bytes]:
        self._closed.wait(30)
        return iter(())

    def close(self) -> None:
        self._closed.set()


def test_a_user_may_hold_per_user_follows_and_no_more() -> None:
    registry = FollowRegistry(limit=20, per_user=2)
    responder = RecordingResponder()

    def follow(owner: str) -> Follow:
        reader = StreamReader(_Endless(), "quiet").start()
        return Follow(title="t", container="c", owner=owner, reader=reader,
                      thread=RecordingThread(responder, None), seconds=30)  # type: ignore[arg-type]

    try:
        registry.start(follow("UA"))
        registry.start(follow("UA"))
        refused = follow("UA")
        with pytest.raises(RefusedError) as caught:
            registry.start(refused)
        assert "2 follows open" in caught.value.message
        assert "per_user_follows" in caught.value.message
        assert refused.reader.ended.wait(5)  # its stream was closed, not left open
        registry.start(follow("UB"))
        assert len(registry) == 3
    finally:
        registry.stop_all(wait=5)


# -- against the real bot -----------------------------------------------------------------------

def team_config(**limits: int) -> str:
    extra = "".join(f"{key} = {value}\n" for key, value in limits.items())
    return ("[access]\ndefault_role = \"none\"\n[access.roles]\nadmin = [\"U0ADMIN\"]\n"
            "operator = [\"U0OPER\", \"U0OPER2\", \"U0OPER3\"]\nviewer = [\"U0VIEW\"]\n"
            f"[limits]\n{extra}")


def long_run(value: str, name: str, seconds: int = 25) -> str:
    return (f"run --name {name} --label {TEST_LABEL}={RUN_ID} --label dockops.probe={value} "
            f"dockops-test/busybox:latest sleep {seconds}")


def test_an_over_limit_users_fourth_command_runs_nothing(
        start_bot: Callable[..., BotProcess], slack: SlackStandIn, busybox: str, probe: str,
        docker_client: docker.DockerClient) -> None:
    bot = start_bot(team_config(per_user_commands=3))
    names = [f"dockops-cap-{probe}-{index}" for index in range(4)]
    answers = [bot.command(long_run(probe, name), user_id="U0OPER") for name in names[:3]]
    assert [a.status for a in answers] == [200] * 3
    wait_for(lambda: len(probed(docker_client, probe, running=True)) == 3, timeout=30,
             what="the three attached runs to start")
    fourth = bot.command(long_run(probe, names[3]), user_id="U0OPER")
    assert fourth.status == 200
    assert "3 commands running" in fourth.ack_body and "per_user_commands" in fourth.ack_body
    other = bot.ask("version", user_id="U0VIEW")  # someone else is not held up
    assert "Docker Engine" in answer_text(other)
    assert probed(docker_client, probe, names[3]) == []
    assert slack.responses(fourth.response_url) == []


def test_a_viewers_ps_is_answered_while_long_commands_hold_every_worker(
        start_bot: Callable[..., BotProcess], slack: SlackStandIn, busybox: str, probe: str,
        docker_client: docker.DockerClient) -> None:
    bot = start_bot(team_config(workers=2, per_user_commands=3))
    names = [f"dockops-busy-{probe}-{index}" for index in range(4)]
    for user, name in zip(["U0OPER", "U0OPER2", "U0OPER3", "U0ADMIN"], names, strict=True):
        assert bot.command(long_run(probe, name), user_id=user).status == 200
    wait_for(lambda: len(probed(docker_client, probe, running=True)) == 2, timeout=30,
             what="two attached runs holding both workers")
    started = time.monotonic()
    answer = bot.command(f"ps --filter label=dockops.probe={probe}", user_id="U0VIEW")
    [reply] = bot.answers(answer, timeout=10)
    latency = time.monotonic() - started
    print(f"viewer ps answered in {latency:.2f} s with both workers held")
    assert latency < 4
    assert names[0] in answer_text(reply) or names[1] in answer_text(reply)
    # The other two runs were still waiting for a worker: every worker was held.
    assert len(probed(docker_client, probe)) == 2
