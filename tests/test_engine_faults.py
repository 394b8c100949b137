"""Engine faults: dockerd dies under a running command and under a `logs -f`; the user reads a
clear sentence, the bot stays up, and it works again once dockerd is back, without a restart.

Every test runs a real `dockops serve --http` pointed (DOCKER_HOST) at a private dockerd in its
own network namespace (tests/fault_engine.py), never at the engine other tests share.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import docker
import pytest

from bot.engine.hosts import COOLDOWN_SECONDS
from tests.bot_rig import BotProcess, answer_text
from tests.conftest import ACCESS
from tests.fault_engine import FaultEngine, fault_engine  # noqa: F401  (the fixture)
from tests.slack_standin import SlackStandIn
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, unique, wait_for

CONFIG = ACCESS + "[limits]\nfollow_seconds = 30\nattached_run_seconds = 30\n"


@pytest.fixture
def engine(fault_engine: FaultEngine) -> Iterator[FaultEngine]:  # noqa: F811
    """The private engine, up before the test and again after it (whatever the test did)."""
    if not fault_engine.answers():
        fault_engine.start()
    yield fault_engine
    if not fault_engine.answers():
        fault_engine.start()
    with contextlib.closing(fault_engine.client()) as client:
        for item in client.api.containers(all=True, filters={"label": f"{TEST_LABEL}={RUN_ID}"}):
            client.api.remove_container(item["Id"], force=True)


@pytest.fixture
def bot(engine: FaultEngine, start_bot: Callable[..., BotProcess]) -> BotProcess:
    return start_bot(CONFIG, extra_env={"DOCKER_HOST": engine.socket_url})


def assert_clear(text: str) -> None:
    """One sentence naming the engine and what to do; never a traceback or a raw exception."""
    assert "Traceback" not in text and "urllib3" not in text and "HTTPConnection" not in text
    assert "not answering" in text or "unreachable" in text, text
    assert "dockerd is running" in text, text


def answers_again(bot: BotProcess, name: str) -> str:
    """`ps -a` once the engine is back, without a restart: a host that refused at once is tried
    again by the next command; one that timed out waits out its cooldown (COOLDOWN_SECONDS)."""
    text = answer_text(bot.ask("ps -a"))
    return text if name in text else ""


def running(client: docker.DockerClient, name: str) -> bool:
    with contextlib.suppress(docker.errors.NotFound):
        return client.api.inspect_container(name)["State"]["Running"]
    return False


def test_a_command_running_when_dockerd_dies_says_so_and_the_bot_recovers_by_itself(
        bot: BotProcess, engine: FaultEngine, slack: SlackStandIn) -> None:
    assert "Docker Engine" not in answer_text(bot.ask("ps -a"))  # the engine answers
    name = unique("wait")
    answer = bot.command(f"run --name {name} --label {TEST_LABEL}={RUN_ID} {BUSYBOX} sleep 60")
    assert answer.status == 200
    with contextlib.closing(engine.client()) as client:
        wait_for(lambda: running(client, name), timeout=15, what="the attached run to start")
    engine.kill()

    [reply] = bot.answers(answer, timeout=20)
    assert_clear(answer_text(reply))
    # While it is down: every command says so at once, and the health check tells the truth.
    down = answer_text(bot.ask("ps"))
    assert_clear(down)
    assert bot.get("/healthz")[0] == 503
    assert bot.process.poll() is None

    engine.start()
    back = wait_for(lambda: answers_again(bot, name), timeout=COOLDOWN_SECONDS + 15, interval=1,
                    what="the bot to use the engine again")
    assert "unreachable" not in back and "not answering" not in back
    assert bot.get("/healthz")[0] == 200
    assert bot.process.poll() is None and slack.violations == []


def test_a_follow_streaming_when_dockerd_dies_ends_with_a_clear_reason_and_follows_work_after(
        bot: BotProcess, engine: FaultEngine, slack: SlackStandIn) -> None:
    name = unique("chatty")
    with contextlib.closing(engine.client()) as client:
        client.containers.run(BUSYBOX, ["sh", "-c", "i=0; while true; do i=$((i+1)); "
                                        "echo tick $i; sleep 0.2; done"],
                              name=name, detach=True, labels={TEST_LABEL: RUN_ID})
    answer = bot.command(f"logs -f {name}")
    assert answer.status == 200
    [post] = slack.wait_for_calls("chat.postMessage", timeout=15)
    ts = post.response["ts"]
    wait_for(lambda: "tick" in answer_text(slack.message("C0OPS", ts) or {}), timeout=15,
             what="the follow to show output")
    engine.kill()

    def closed() -> str:
        text = answer_text(slack.message("C0OPS", ts) or {})
        return text if "Stopped after" in text else ""

    final = wait_for(closed, timeout=20, what="the follow's closing update")
    assert "engine" in final.lower() and "Traceback" not in final, final
    assert bot.process.poll() is None

    engine.start()
    again = unique("again")
    with contextlib.closing(engine.client()) as client:
        client.containers.run(BUSYBOX, ["sh", "-c", "for i in 1 2 3; do echo back $i; "
                                        "sleep 0.3; done"],
                              name=again, detach=True, labels={TEST_LABEL: RUN_ID})
    wait_for(lambda: answers_again(bot, again), timeout=COOLDOWN_SECONDS + 15, interval=1,
             what="the bot to use the engine again")
    bot.command(f"logs -f {again}")
    [_, post2] = slack.wait_for_calls("chat.postMessage", count=2, timeout=15)
    done = wait_for(lambda: (lambda t: t if "Stopped after" in t else "")(
        answer_text(slack.message("C0OPS", post2.response["ts"]) or {})), timeout=20,
        what="the second follow to end")
    assert "back 3" in done and "exited with code 0" in done, done
    assert slack.violations == []
