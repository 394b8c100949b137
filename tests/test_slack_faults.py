"""Slack faults: the stand-in answers 500, 429 (Retry-After) or drops the connection before
processing; replies, follow messages and job notifications still arrive exactly once.

A connection dropped AFTER Slack processed a post (the answer lost on the way back) cannot be
made exactly-once: Slack's Web API takes no idempotency key, so the client cannot tell a lost
answer from a lost request and must post again. The last test pins what dockops guarantees
there: at least once (never lost), at most one duplicate. (Slash command replies to
response_url have the same limit; those already tested for 500/429 are in
test_robust_requests.py.)
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from tests.bot_rig import BotProcess, answer_text, launch_bot
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn
from tests.support import RUN_ID, TEST_LABEL, unique, wait_for

# The module shares one `dockops serve` (its own `bot` fixture, not start_bot).
pytestmark = pytest.mark.slack_process

FAULTS = ("500", "429", "drop")
JOB_CHANNELS = {fault: f"C0NOTE{index}" for index, fault in enumerate((*FAULTS, "lost"))}


def jobs_toml() -> str:
    """One dry-run prune job per fault, each posting to its own channel."""
    return "".join(
        f'[[jobs]]\nname = "note-{fault}"\ntype = "prune"\nschedule = "0 3 1 1 *"\n'
        f'channel = "{channel}"\ndry_run = true\nlabels = ["dockops.test.never={RUN_ID}"]\n'
        for fault, channel in JOB_CHANNELS.items())


@pytest.fixture(scope="module")
def stand_in() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        for fault, channel in JOB_CHANNELS.items():
            slack.add_channel(channel, f"notes-{fault}")
        yield slack


@pytest.fixture(scope="module")
def bot(stand_in: SlackStandIn) -> Iterator[BotProcess]:
    """One `dockops serve --http` for the module: faults are queued per test, consumed in order."""
    with tempfile.TemporaryDirectory() as tmp:
        config = ACCESS + "[limits]\nfollow_seconds = 20\n" + jobs_toml()
        served = launch_bot(stand_in, Path(tmp), config)
        yield served
        served.stop()


@pytest.fixture
def slack(stand_in: SlackStandIn) -> Iterator[SlackStandIn]:
    """The module's stand-in; a test leaves no fault behind and no contract broken."""
    yield stand_in
    assert stand_in.violations == [], stand_in.violations
    stand_in.reset()


def inject(slack: SlackStandIn, fault: str, method: str, count: int = 1) -> None:
    if fault == "drop":
        slack.drop_next(method, count)
    else:
        slack.fail_next(method, status=int(fault), retry_after=1, count=count)


def outbox_depth(bot: BotProcess) -> float:
    metrics = bot.get("/metrics")[1]
    return float(next(line.split()[-1] for line in metrics.splitlines()
                      if line.startswith("dockops_outbox_depth ")))


def faulted(slack: SlackStandIn, method: str) -> list[str]:
    return [call.fault or "" for call in slack.calls_to(method) if call.fault]


@pytest.fixture
def short_lived(docker_client: docker.DockerClient, busybox: str
                ) -> Iterator[Callable[[], str]]:
    """Containers printing three lines over ~1 s, then exiting; removed after the test."""
    made: list[str] = []

    def make() -> str:
        name = unique("talk")
        docker_client.containers.run(busybox, ["sh", "-c", "for i in 1 2 3; do echo line $i; "
                                               "sleep 0.4; done"],
                                     name=name, detach=True, labels={TEST_LABEL: RUN_ID})
        made.append(name)
        return name

    yield make
    for name in made:
        docker_client.api.remove_container(name, force=True)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_reply_arrives_once_when_the_response_url_fails_first(
        bot: BotProcess, slack: SlackStandIn, fault: str) -> None:
    inject(slack, fault, "response_url")
    answer = bot.command("version")
    [reply] = bot.answers(answer, timeout=15)
    assert "Docker" in answer_text(reply)
    assert faulted(slack, "response_url"), "the fault was not hit"
    assert slack.responses(answer.response_url) == [reply]


@pytest.mark.parametrize("fault", FAULTS)
def test_a_follow_posts_one_message_and_updates_it_through_failing_calls(
        bot: BotProcess, slack: SlackStandIn, short_lived: Callable[[], str],
        fault: str) -> None:
    inject(slack, fault, "chat.postMessage")
    inject(slack, fault, "chat.update", count=2)
    name = short_lived()
    answer = bot.command(f"logs -f {name}")
    assert answer.status == 200

    def finished() -> list[dict]:
        mine = [m for m in slack.messages("C0OPS") if name in answer_text(m)]
        return mine if any("Stopped after" in answer_text(m) for m in mine) else []

    [message] = wait_for(finished, timeout=30, what="the follow's closing update")
    text = answer_text(message)
    assert "line 1" in text and "line 3" in text and "exited with code 0" in text, text
    assert faulted(slack, "chat.postMessage") and len(faulted(slack, "chat.update")) == 2
    assert slack.responses(answer.response_url) == []  # answered in the channel only


@pytest.mark.parametrize("fault", FAULTS)
def test_a_job_notification_arrives_once_when_chat_post_message_fails_first(
        bot: BotProcess, slack: SlackStandIn, fault: str) -> None:
    channel = JOB_CHANNELS[fault]
    inject(slack, fault, "chat.postMessage", count=2)
    assert "note-" in answer_text(bot.ask(f"jobs run note-{fault}"))

    [notice] = wait_for(lambda: slack.messages(channel), timeout=30,
                        what="the notification after two failed posts")
    assert f"note-{fault}" in answer_text(notice)
    assert len(faulted(slack, "chat.postMessage")) == 2
    # Sent means deleted from the outbox: nothing is left to send again.
    wait_for(lambda: outbox_depth(bot) == 0, timeout=10, what="an empty outbox")
    assert len(slack.messages(channel)) == 1


def test_a_notification_whose_answer_is_lost_after_slack_posted_it_is_never_lost(
        bot: BotProcess, slack: SlackStandIn) -> None:
    """At least once, at most one duplicate: what a post without idempotency keys allows."""
    channel = JOB_CHANNELS["lost"]
    slack.drop_next("chat.postMessage", after_processing=True)
    bot.ask("jobs run note-lost")
    wait_for(lambda: slack.messages(channel), timeout=30, what="the notification")
    wait_for(lambda: [c for c in slack.calls_to("chat.postMessage") if not c.fault],
             timeout=30, what="the outbox's second post (the first answer was lost)")
    assert 1 <= len(slack.messages(channel)) <= 2
