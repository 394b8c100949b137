"""Concurrency: 20 slash commands from 20 users at once, a follow and a build among them, all
answered correctly and each answer where it belongs (no cross-talk between response_urls);
and the worker pool's rule that acks come before work."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import pytest

from bot.workers import WorkerPool
from tests.bot_rig import Answer, BotProcess, answer_text
from tests.slack_standin import SlackStandIn
from tests.support import RUN_ID, TEST_LABEL, unique, wait_for
from tests.test_build import Context, contexts  # noqa: F401  (the fixture)

USERS = [f"U0CC{index:02d}" for index in range(20)]
LOGS = 17  # users 3..19 each read the log of their own container


def config(build_dir: Path) -> str:
    return ("[access]\ndefault_role = \"none\"\n[access.roles]\n"
            f"admin = {USERS[:2]!r}\noperator = {USERS[2:3]!r}\nviewer = {USERS[3:]!r}\n"
            f"[build.contexts]\napp = \"{build_dir}\"\n"
            "[limits]\nfollow_seconds = 30\n").replace("'", '"')


@pytest.fixture
def talking(docker_client: docker.DockerClient, busybox: str
            ) -> Iterator[Callable[[list[str]], list[str]]]:
    """Containers that each print their own token lines; removed after the test."""
    made: list[str] = []

    def make(scripts: list[str]) -> list[str]:
        names = [unique("cc") for _ in scripts]
        made.extend(names)

        def run(pair: tuple[str, str]) -> None:
            docker_client.containers.run(busybox, ["sh", "-c", pair[1]], name=pair[0],
                                         detach=True, labels={TEST_LABEL: RUN_ID})

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(run, zip(names, scripts, strict=True)))
        return names

    yield make
    for name in made:
        docker_client.api.remove_container(name, force=True)


def test_twenty_commands_from_twenty_users_at_once_each_get_their_own_answer(
        start_bot: Callable[..., BotProcess], slack: SlackStandIn, talking,
        contexts: Callable[[str], Context], docker_client: docker.DockerClient,  # noqa: F811
        tmp_path: Path) -> None:
    context = contexts("app").dockerfile("RUN echo built-for-cc")
    bot = start_bot(config(context.directory))
    tokens = [f"token-{index}-{uuid.uuid4().hex[:8]}" for index in range(LOGS)]
    names = talking([f"echo {token}; sleep 300" for token in tokens]
                    + ["for i in 1 2 3 4; do echo follow-line $i; sleep 0.5; done"])
    *log_names, followed = names
    wait_for(lambda: all(token.encode() in docker_client.api.logs(name)
                         for name, token in zip(log_names, tokens, strict=True)),
             timeout=20, what="every container's token in its log")
    image = f"{unique('cc-build')}:1"
    commands = [(USERS[0], f"build -t {image} app"), (USERS[1], f"logs -f {followed}"),
                (USERS[2], f"ps -a --filter name={log_names[0]}")]
    commands += [(USERS[3 + index], f"logs {name}") for index, name in enumerate(log_names)]
    assert len(commands) == 20 and len({user for user, _ in commands}) == 20

    start = threading.Barrier(len(commands))

    def send(item: tuple[str, str]) -> Answer:
        start.wait(10)
        return bot.command(item[1], user_id=item[0])

    with ThreadPoolExecutor(len(commands)) as pool:
        answers = list(pool.map(send, commands))
    assert [a.status for a in answers] == [200] * 20
    assert max(a.ack_seconds for a in answers) < 3

    # Each `logs` answer holds its own container's token and nobody else's.
    for answer, token in zip(answers[3:], tokens, strict=True):
        [reply] = bot.answers(answer, timeout=30)
        text = answer_text(reply)
        assert token in text, text
        assert [t for t in tokens if t != token and t in text] == []
    [listed] = bot.answers(answers[2], timeout=30)
    assert log_names[0] in answer_text(listed)
    assert all(name not in answer_text(listed) for name in log_names[1:])

    # The build and the follow answer in the channel, one message each, nothing by response_url.
    def final(marker: str, done: str) -> dict | None:
        found = [m for m in slack.messages("C0OPS") if marker in answer_text(m)]
        return found[0] if len(found) == 1 and done in answer_text(found[0]) else None

    built = wait_for(lambda: final(image, "Built"), timeout=60, what="the build's last update")
    follow = wait_for(lambda: final(followed, "Stopped after"), timeout=30,
                      what="the follow's last update")
    assert "follow-line 4" in answer_text(follow) and "exited with code 0" in answer_text(follow)
    assert "follow-line" not in answer_text(built) and image not in answer_text(follow)
    assert len(slack.calls_to("chat.postMessage")) == 2
    assert slack.responses(answers[0].response_url) == []
    assert slack.responses(answers[1].response_url) == []
    # Every response_url got exactly one post, all from the command sent with it.
    posted = [url for url, _ in slack.all_responses()]
    assert sorted(posted) == sorted(a.response_url for a in answers[2:])


def test_a_lone_command_starts_at_once_a_burst_waits_for_quiet_but_never_past_max_defer(
        ) -> None:
    pool = WorkerPool(2, quiet=0.2, max_defer=0.6)
    started: dict[str, float] = {}

    def work(key: str) -> Callable[[], None]:
        return lambda: started.setdefault(key, time.monotonic())

    queued = time.monotonic()
    pool.submit(work("lone"))
    pool.submit(work("right-after"))  # a second command at once: a burst begins
    wait_for(lambda: "right-after" in started, timeout=5)
    assert started["lone"] - queued < 0.2  # nothing to wait for
    assert started["right-after"] - queued >= 0.2  # waited for the acks that might follow

    time.sleep(0.3)
    first = time.monotonic()
    pool.submit(work("burst-0"))
    pool.submit(work("burst-1"))
    index = 2
    while "burst-1" not in started and time.monotonic() - first < 3:
        pool.submit(work(f"burst-{index}"))  # commands keep arriving: never a quiet window
        index += 1
        time.sleep(0.02)
    assert "burst-1" in started and 0.6 <= started["burst-1"] - first < 2.0
    assert pool.shutdown(5)
