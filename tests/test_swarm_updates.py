"""The update job watching Swarm services on a real Swarm (tests/swarm_rig.py): a new digest
under the watched tag is announced with a Recreate button that runs `service update`, and
`action = "recreate"` rolls it out through Swarm."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.jobs.outbox import Outbox
from bot.jobs.runner import JobRunner
from bot.services import Services
from bot.store import Buttons
from tests.conftest import ACCESS, make_settings
from tests.slack_standin import SlackStandIn
from tests.support import unique
from tests.swarm_rig import SwarmRig

Make = Callable[..., str]


@pytest.fixture(scope="module")
def standin() -> Iterator[SlackStandIn]:
    with SlackStandIn() as slack:
        yield slack


@pytest.fixture
def boot(tmp_path: Path, standin: SlackStandIn) -> Iterator[Callable[[str], JobRunner]]:
    made: list[Services] = []

    def start(toml: str) -> JobRunner:
        services = Services.build(make_settings(tmp_path, ACCESS + toml))
        made.append(services)
        return JobRunner(services, Outbox(services.store,
                                          WebClient(base_url=standin.api_url,
                                                    token=standin.bot_token)))

    yield start
    for services in made:
        services.close()


def _digest(rig: SwarmRig, ref: str) -> str:
    client = rig.client()
    try:
        return str(client.api.inspect_distribution(ref)["Descriptor"]["digest"])
    finally:
        client.close()


def _job(rig: SwarmRig, channel: str, label: str, action: str) -> str:
    return rig.toml() + "\n" + "\n".join([
        "[[jobs]]", 'name = "swarm-updates"', 'type = "update"', 'schedule = "*/30 * * * *"',
        f'channel = "{channel}"', f'action = "{action}"', 'jitter = "0s"', 'hosts = ["swarm"]',
        f"services = {json.dumps('label:' + label + '=true')}", 'recreate_timeout = "60s"']) + "\n"


def test_the_update_job_finds_a_new_digest_then_rolls_it_out_through_swarm(
        swarm_rig: SwarmRig, make_service: Make, boot: Callable[[str], JobRunner],
        standin: SlackStandIn) -> None:
    tag = unique("tag").rsplit("-", 1)[1]
    ref = swarm_rig.push(tag, f'FROM {swarm_rig.images["v1"]}\nLABEL round=1\n')
    old = _digest(swarm_rig, ref)
    label = unique("watch").replace("-", ".")
    name = make_service(f"{ref}@{old}", replicas=2, labels={label: "true"})
    swarm_rig.wait_running(name, 2)
    channel = "C" + tag.upper() + "9"

    runner = boot(_job(swarm_rig, channel, label, "notify"))
    report, _ = runner.run("swarm-updates")
    assert "1 service(s) checked, 0 changed" in report.summary, report.summary

    swarm_rig.push(tag, f'FROM {swarm_rig.images["v1"]}\nLABEL round=2\n')
    new = _digest(swarm_rig, ref)
    assert new != old
    report, _ = runner.run("swarm-updates")
    assert "1 service(s) checked, 1 changed" in report.summary, report.summary
    assert runner.outbox is not None
    runner.outbox.drain_once()
    [message] = standin.messages(channel)
    assert name in message["text"] and new[:19] in message["text"]
    actions = next(b for b in message["blocks"] if b["type"] == "actions")["elements"]
    stored = {a["action_id"]: Buttons(runner.services.store).get(a["value"])
              for a in actions if "value" in a}
    recreate = stored["dockops.update.recreate"]
    assert recreate is not None
    assert recreate.command == f"--host swarm service update --image {ref}@{new} {name}"
    assert swarm_rig.image_of(name) == f"{ref}@{old}"  # a notice changes nothing

    runner = boot(_job(swarm_rig, "C" + tag.upper() + "8", label, "recreate"))
    report, _ = runner.run("swarm-updates")
    assert report.outcome == "ok", report.summary
    assert swarm_rig.image_of(name) == f"{ref}@{new}"
    running = swarm_rig.wait_running(name, 2)
    assert all(t["Spec"]["ContainerSpec"]["Image"] == f"{ref}@{new}" for t in running)
    report, _ = runner.run("swarm-updates")  # converged: nothing left to do
    assert "1 service(s) checked, 0 changed" in report.summary
