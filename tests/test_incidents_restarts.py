"""Incidents survive restarts: the bot SIGKILLed with events in between, and the engine restarted
while the bot follows it (a PRIVATE dockerd in its own network namespace, never the main one).
Every incident is posted once; a gap the engine cannot replay is reported once."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.bot_rig import BotProcess, launch_bot
from tests.conftest import ACCESS
from tests.engines_rig import SecondEngine, _end
from tests.slack_standin import SlackStandIn
from tests.support import RUN_ID, TEST_LABEL, unique, wait_for

CHANNEL = "C0INCIDENTS"


def rule(label: str, hosts: str = "") -> str:
    return f"""
[[alerts]]
name = "crashes"
channel = "{CHANNEL}"
hosts = [{hosts}]
containers = ["label:{label}"]
log_lines = 3
"""


def incidents_for(slack: SlackStandIn, name: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages(CHANNEL) if m.get("thread_ts", m["ts"]) == m["ts"]
            and f"`{name}`" in json.dumps(m.get("blocks", []))
            and "could not be replayed" not in m["text"]]


def crash(client: docker.DockerClient, image: str, label: str, code: int) -> str:
    """A container that exits with `code` at once; waits until it has."""
    name = unique("rst")
    key, value = label.split("=")
    container = client.containers.run(image, ["sh", "-c", f"echo crash-{code}; exit {code}"],
                                      name=name, labels={TEST_LABEL: RUN_ID, key: value},
                                      detach=True)
    wait_for(lambda: client.api.inspect_container(container.id)["State"]["Status"] == "exited",
             timeout=20, what=f"{name} to exit")
    return name


def started(slack: SlackStandIn, workdir: Path, config: str, data: Path, name: str
            ) -> BotProcess:
    """`dockops serve`, once its followers have their cursors (the start line is logged)."""
    bot = launch_bot(slack, workdir, config, data_dir=data, name=name)
    wait_for(lambda: "following container events" in bot.log(), timeout=15,
             what="the incident followers to start")
    return bot


def posted_once(slack: SlackStandIn, name: str) -> dict[str, Any]:
    found = wait_for(lambda: incidents_for(slack, name), timeout=25,
                     what=f"the incident of {name}")
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn(socket_ping_interval=0.2) as standin:
        yield standin
        assert standin.violations == [], standin.violations


def test_a_bot_killed_with_sigkill_posts_every_incident_once_after_it_restarts(
        slack: SlackStandIn, tmp_path: Path, docker_client: docker.DockerClient,
        busybox: str) -> None:
    label = f"dockops.incidents.kill={unique('k')}"
    config = ACCESS + rule(label)
    data = tmp_path / "data"
    bots: list[BotProcess] = []
    try:
        bots.append(started(slack, tmp_path, config, data, "first"))
        first = crash(docker_client, busybox, label, 3)
        posted_once(slack, first)
        bots[-1].stop(signal.SIGKILL)
        while_down = crash(docker_client, busybox, label, 4)
        bots.append(started(slack, tmp_path, config, data, "second"))
        posted_once(slack, while_down)
        after = crash(docker_client, busybox, label, 5)
        posted_once(slack, after)
        assert len(incidents_for(slack, first)) == 1
        text = json.dumps(incidents_for(slack, while_down)[0]["blocks"])
        assert "exit code 4" in text and "crash-4" in text
    except AssertionError:
        for bot in bots:
            print(bot.log()[-3000:])
        raise
    finally:
        for bot in bots:
            bot.stop()
        for container in docker_client.api.containers(all=True, filters={"label": label}):
            docker_client.api.remove_container(container["Id"], force=True)


def restart_dockerd(engine: SecondEngine) -> None:
    """Stop the private dockerd (SIGTERM, its containers stop with it) and start it again."""
    assert engine.dockerd is not None
    args = list(engine.dockerd.args)  # type: ignore[arg-type]
    _end(engine.dockerd)
    with engine.log_path.open("ab") as log:
        engine.dockerd = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
    wait_for(engine._answers, timeout=60, what="the private dockerd to answer again")


def reconnects(bot: BotProcess) -> float:
    _, text = bot.get("/metrics")
    found = re.search(r'dockops_event_stream_reconnects_total\{host="e2"\} ([0-9.]+)', text)
    return float(found.group(1)) if found else 0.0


def test_an_engine_restart_loses_nothing_and_a_gap_it_cannot_replay_is_reported_once(
        slack: SlackStandIn, tmp_path: Path, docker_client: docker.DockerClient,
        busybox: str) -> None:
    engine = SecondEngine.create()
    bots: list[BotProcess] = []
    try:
        engine.start()
        engine.load_image(docker_client, busybox)
        label = f"dockops.incidents.engine={RUN_ID}"
        config = (ACCESS + f'[hosts.e2]\nurl = "{engine.socket_url}"\n'
                  + rule(label, '"e2"'))
        data = tmp_path / "data"
        bots.append(started(slack, tmp_path, config, data, "one"))
        with contextlib.closing(engine.client()) as e2:
            before = crash(e2, busybox, label, 3)
            posted_once(slack, before)
            restart_dockerd(engine)
            wait_for(lambda: reconnects(bots[-1]) >= 1, timeout=30,
                     what="the bot to notice the engine restart")
        with contextlib.closing(engine.client()) as e2:
            after = crash(e2, busybox, label, 4)
            posted_once(slack, after)
            assert len(incidents_for(slack, before)) == 1

            # The bot is down while a container stops AND the engine restarts: its events
            # are gone, so what stopped is reported as a gap, once.
            bots[-1].stop(signal.SIGKILL)
            lost = crash(e2, busybox, label, 6)
        restart_dockerd(engine)
        bots.append(started(slack, tmp_path, config, data, "two"))

        def gaps() -> list[dict[str, Any]]:
            return [m for m in slack.messages(CHANNEL) if "could not be replayed" in m["text"]]

        [gap] = wait_for(gaps, timeout=30, what="the gap notice")
        assert lost in json.dumps(gap["blocks"]) and "exit code 6" in json.dumps(gap["blocks"])
        bots[-1].stop(signal.SIGKILL)
        bots.append(started(slack, tmp_path, config, data, "three"))
        with contextlib.closing(engine.client()) as e2:
            last = crash(e2, busybox, label, 7)
        posted_once(slack, last)
        assert len(gaps()) == 1 and incidents_for(slack, lost) == []
        assert len(incidents_for(slack, before)) == 1 and len(incidents_for(slack, after)) == 1
    finally:
        for bot in bots:
            bot.stop()
        engine.stop()
