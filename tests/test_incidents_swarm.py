"""task_failed against a real Swarm (the private manager of tests/swarm_rig.py) and a real
`dockops serve`: one incident per service with the task's error and a rising counter, a
rejected task saying why, no repost across a bot restart, and a recovery once it runs."""

from __future__ import annotations

import contextlib
import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.bot_rig import BotProcess, launch_bot
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn
from tests.support import RUN_ID, TEST_LABEL, unique, wait_for
from tests.swarm_rig import REPO, SwarmRig

pytestmark = [pytest.mark.engine, pytest.mark.slack_process]

CHANNEL = "C0SWARMOPS"
WATCH = "dockops.tasks"


def config(rig: SwarmRig) -> str:
    return ACCESS + rig.toml() + f"""
[[alerts]]
name = "tasks"
channel = "{CHANNEL}"
events = ["task_failed"]
containers = ["label:{WATCH}={RUN_ID}"]
group_window = "10m"
"""


def top_level(slack: SlackStandIn, service: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages(CHANNEL) if m.get("thread_ts", m["ts"]) == m["ts"]
            and f"`{service}`" in json.dumps(m.get("blocks", []))]


def replies(slack: SlackStandIn, parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in slack.messages(CHANNEL)
            if m.get("thread_ts") == parent["ts"] and m["ts"] != parent["ts"]]


def text_of(message: dict[str, Any]) -> str:
    return message.get("text", "") + json.dumps(message.get("blocks", []))


def one_incident(slack: SlackStandIn, service: str, timeout: float = 30) -> dict[str, Any]:
    found = wait_for(lambda: top_level(slack, service), timeout=timeout,
                     what=f"the incident message for {service}")
    assert len(found) == 1, [text_of(m) for m in found]
    return found[0]


def failed_count(slack: SlackStandIn, service: str) -> int:
    found = top_level(slack, service)
    counts = re.findall(r"\*Failed tasks\*\\n(\d+)", text_of(found[0])) if found else []
    return int(counts[0]) if counts else 0


def service(rig: SwarmRig, image: str, command: list[str] | None, attempts: int = 0) -> str:
    """A watched replicated service restarted on failure (`attempts` = 0: forever)."""
    name = unique("tf")
    ns = 1_000_000_000
    task = docker.types.TaskTemplate(
        container_spec=docker.types.ContainerSpec(image=image, command=command,
                                                  stop_grace_period=ns),
        restart_policy=docker.types.RestartPolicy(condition="on-failure", delay=int(0.2 * ns),
                                                  max_attempts=attempts))
    client = rig.client()
    try:
        client.api.create_service(task, name=name, labels={TEST_LABEL: RUN_ID, WATCH: RUN_ID},
                                  mode=docker.types.ServiceMode("replicated", replicas=1))
    finally:
        client.close()
    return name


def started(slack: SlackStandIn, workdir: Path, toml: str, data: Path, name: str) -> BotProcess:
    bot = launch_bot(slack, workdir, toml, data_dir=data, name=name,
                     extra_env={"DOCKOPS_INCIDENT_RECOVERY_SECONDS": "3"})
    wait_for(lambda: "polling failed Swarm tasks of 1 host" in bot.log(), timeout=15,
             what="the task poller to start")
    return bot


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(socket_ping_interval=0.2) as standin:
        yield standin
        assert standin.violations == [], standin.violations


@pytest.fixture
def services(swarm_rig: SwarmRig) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    client = swarm_rig.client()
    for name in made:
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_service(name)
    client.close()


def test_failed_and_rejected_tasks_are_one_incident_per_service_and_never_reposted(
        slack: SlackStandIn, tmp_path: Path, swarm_rig: SwarmRig, services: list[str]) -> None:
    toml, data = config(swarm_rig), tmp_path / "data"
    bots = [started(slack, tmp_path, toml, data, "first")]
    try:
        # exit 1, restarted twice: three failed tasks, one incident, a thread, a counter.
        services.append(crashing := service(swarm_rig, swarm_rig.images["v1"],
                                            ["sh", "-c", "echo boom; exit 1"], attempts=2))
        services.append(missing := service(swarm_rig, f"{REPO}:{unique('nope')}", None))
        message = one_incident(slack, crashing)
        text = text_of(message)
        assert "task: non-zero exit (1)" in text and f"{crashing}.1" in text, text
        assert "has a failed task" in text and swarm_rig.images["v1"].split(":")[0] in text
        for button in ("Tasks", "Logs -f", "Inspect", "Mute 1h", "Resolve"):
            assert f'"{button}"' in text, button
        assert "Roll back" not in text and "Restart" not in text
        wait_for(lambda: failed_count(slack, crashing) == 3 and len(replies(slack, message)) == 2,
                 timeout=30, what="three failed tasks counted, two thread lines")
        assert "failed again on node" in text_of(replies(slack, message)[0])
        rejected = text_of(one_incident(slack, missing))
        assert "No such image" in rejected, rejected
        wait_for(lambda: failed_count(slack, missing) >= 2, timeout=30,
                 what="the rejected service's counter to rise")

        bots[-1].stop(signal.SIGKILL)  # well within the poller's look-back of its cursor
        bots.append(started(slack, tmp_path, toml, data, "second"))
        services.append(barrier := service(swarm_rig, swarm_rig.images["v1"],
                                           ["sh", "-c", "exit 2"], attempts=0))
        assert "task: non-zero exit (2)" in text_of(one_incident(slack, barrier))
        assert len(top_level(slack, crashing)) == 1 and len(top_level(slack, missing)) == 1
        assert len(replies(slack, message)) == 2 and failed_count(slack, crashing) == 3
        # Fixed (an image that exists): once every wanted task runs, the incident recovers.
        client = swarm_rig.client()
        try:
            client.services.get(missing).update(image=swarm_rig.images["v1"])
        finally:
            client.close()
        parent = top_level(slack, missing)[0]
        wait_for(lambda: any("recovered after" in text_of(m) for m in replies(slack, parent)),
                 timeout=45, what=f"{missing} to recover")
    except AssertionError:
        for bot in bots:
            print(bot.log()[-3000:])
        raise
    finally:
        for bot in bots:
            bot.stop()
