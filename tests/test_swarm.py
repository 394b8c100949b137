"""Swarm commands on a real Swarm (a private dockerd in its own netns, tests/swarm_rig.py):
the CLI's tables, scale, rolling updates that converge or roll back, rollback, rm, drain."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime

import docker
import pytest

from bot.engine import swarm
from bot.engine.client import Engine
from bot.mrkdwn import unescape
from bot.views.message import Message
from tests.support import BUSYBOX, RecordingResponder, Runner, wait_for
from tests.swarm_rig import SwarmRig

Make = Callable[..., str]
# CURRENT STATE ages differ between two runs a moment apart: compare the rest.
_AGE = re.compile(r"(Running|Starting|Preparing|Assigned|Pending|Shutdown|Failed|Complete|"
                  r"Rejected|Ready|New|Allocated|Accepted|Orphaned|Remove) [a-z0-9 ]+ ago")


def code(message: Message) -> str:
    """The first code block of a message, as plain text (the table)."""
    for block in message.blocks:
        text = block.get("text", {}).get("text", "") if block.get("type") == "section" else ""
        if text.startswith("```"):
            return unescape(text.strip("`")) + "\n"
    raise AssertionError(f"no code block in {message.text!r}")


def all_text(sent: RecordingResponder) -> str:
    parts = [sent.text()]
    for thread in sent.threads:
        parts += [unescape(str(m.blocks)) for m in (*thread.updates, *thread.replies)]
    return "\n".join(parts)


def rstripped(table: str) -> str:
    """Trailing blanks (the CLI pads an empty last column) do not show in Slack."""
    return "\n".join(line.rstrip() for line in table.splitlines()) + "\n"


def widths_free(table: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", _AGE.sub(r"\1 AGE", line).strip())
            for line in table.strip("\n").splitlines()]


@pytest.fixture
def bot(swarm_rig: SwarmRig, make_pipeline: Callable[..., Runner]) -> Runner:
    return make_pipeline(swarm_rig.toml())


def test_service_ls_ps_and_node_ls_print_what_the_cli_prints(
        swarm_rig: SwarmRig, make_service: Make, bot: Runner) -> None:
    name = make_service(replicas=2)
    swarm_rig.wait_running(name, 2)
    outcome, sent = bot(f"service ls --filter name={name}")
    assert outcome.ok, sent.text()
    expected = swarm_rig.cli("service", "ls", "--filter", f"name={name}").stdout
    assert code(sent.last) == rstripped(expected)
    assert "2/2" in expected

    outcome, sent = bot(f"service ps {name}")
    assert outcome.ok, sent.text()
    cli = swarm_rig.cli("service", "ps", name).stdout
    assert widths_free(code(sent.last)) == widths_free(cli)

    outcome, sent = bot("node ls")
    assert outcome.ok, sent.text()
    assert code(sent.last) == rstripped(swarm_rig.cli("node", "ls").stdout)

    outcome, sent = bot(f"service inspect {name}")
    assert outcome.ok and f'"Name": "{name}"' in sent.text()


def test_scale_up_answers_at_once_and_scale_to_zero_asks_first(
        swarm_rig: SwarmRig, make_service: Make, bot: Runner,
        make_pipeline: Callable[..., Runner]) -> None:
    name = make_service(replicas=1)
    outcome, sent = bot(f"service scale {name}=3", user="U0OPER", source="slack")
    assert outcome.ok, sent.text()
    assert f"{name} scaled to 3" in sent.text()
    swarm_rig.wait_running(name, 3)

    outcome, sent = bot(f"service scale {name}=0", user="U0OPER", source="slack")
    assert outcome.awaiting_confirmation, sent.text()
    assert "stops every task" in sent.text()
    assert len(swarm_rig.running(name)) == 3  # nothing changed before the click
    decided = bot.pipeline.decide(outcome.token, _actor("U0OPER"), sent, confirm=True)
    assert decided.ok, sent.text()
    wait_for(lambda: not swarm_rig.running(name), timeout=30, what="tasks to stop")

    outcome, sent = bot(f"service scale {name}=x")
    assert not outcome.ok and "invalid replicas value" in sent.text()
    outcome, sent = bot(f"service scale {name}=2", user="U0VIEW", source="slack")
    assert not outcome.ok and len(swarm_rig.running(name)) == 0


def _actor(user: str):  # type: ignore[no-untyped-def]
    from bot.policy import Actor

    return Actor(user_id=user, channel_id="C0OPS", source="slack")


def test_update_to_a_new_image_reports_convergence_in_place(
        swarm_rig: SwarmRig, make_service: Make, bot: Runner) -> None:
    name = make_service(replicas=2)
    swarm_rig.wait_running(name, 2)
    outcome, sent = bot(f"service update --image {swarm_rig.images['v2']} {name}",
                        user="U0OPER", source="slack")
    assert outcome.ok, all_text(sent)
    thread = sent.threads[0]
    final = unescape(str(thread.updates[-1].blocks))
    assert "converged" in final and "2/2 tasks" in final, final
    assert any("tasks replaced" in unescape(str(m.blocks)) for m in thread.updates)
    image = swarm_rig.image_of(name)
    assert image.startswith(swarm_rig.images["v2"] + "@sha256:")  # pinned, as the CLI pins
    assert all(t["Spec"]["ContainerSpec"]["Image"] == image for t in swarm_rig.running(name))

    before = {t["ID"] for t in swarm_rig.running(name)}
    outcome, sent = bot(f"service update --force {name}", user="U0OPER", source="slack")
    assert outcome.ok, all_text(sent)
    assert "converged" in all_text(sent)
    after = {t["ID"] for t in swarm_rig.wait_running(name, 2)}
    assert not before & after  # every task was replaced, on the same image
    assert swarm_rig.image_of(name) == image


def test_a_broken_image_fails_and_swarm_rolls_back(
        swarm_rig: SwarmRig, make_service: Make, bot: Runner) -> None:
    name = make_service(replicas=1, rollback_on_failure=True)
    swarm_rig.wait_running(name, 1)
    before = swarm_rig.image_of(name)
    started = datetime.now(UTC)
    outcome, sent = bot(f"service update --image {swarm_rig.images['broken']} {name}")
    assert not outcome.ok
    failed = swarm.failed_tasks(Engine(url=swarm_rig.url), started)
    assert any(t.service == name and "non-zero exit (3)" in t.error for t in failed), failed
    text = all_text(sent)
    assert "Swarm rolled it back" in text, text
    assert swarm_rig.image_of(name) == before
    swarm_rig.wait_running(name, 1)


def test_rollback_by_command_returns_to_the_previous_image(
        swarm_rig: SwarmRig, make_service: Make, bot: Runner) -> None:
    name = make_service(replicas=1)
    swarm_rig.wait_running(name, 1)
    before = swarm_rig.image_of(name)
    outcome, sent = bot(f"service rollback {name}")
    assert not outcome.ok and "does not have a previous spec" in sent.text()
    outcome, sent = bot(f"service update --image {swarm_rig.images['v2']} {name}")
    assert outcome.ok, all_text(sent)
    outcome, sent = bot(f"service rollback {name}", user="U0OPER", source="slack")
    assert outcome.ok, all_text(sent)
    assert "converged" in all_text(sent)
    assert swarm_rig.image_of(name) == before


def test_service_rm_asks_then_removes(swarm_rig: SwarmRig, make_service: Make, bot: Runner) -> None:
    name = make_service(replicas=1)
    outcome, sent = bot(f"service rm {name}", user="U0OPER", source="slack")
    assert not outcome.ok  # admin only
    outcome, sent = bot(f"service rm {name}", user="U0ADMIN", source="slack")
    assert outcome.awaiting_confirmation and "This will remove 1 service" in sent.text()
    assert swarm_rig.cli("service", "inspect", name, check=False).returncode == 0
    decided = bot.pipeline.decide(outcome.token, _actor("U0ADMIN"), sent, confirm=True)
    assert decided.ok, sent.text()
    assert swarm_rig.cli("service", "inspect", name, check=False).returncode != 0


def test_node_drain_asks_first_then_active_brings_tasks_back(
        swarm_rig: SwarmRig, make_service: Make, bot: Runner) -> None:
    name = make_service(replicas=1)
    swarm_rig.wait_running(name, 1)
    node = swarm_rig.cli("node", "ls", "-q").stdout.split()[0]
    try:
        outcome, sent = bot(f"node update --availability drain {node}", user="U0ADMIN",
                            source="slack")
        assert outcome.awaiting_confirmation and "This will drain node" in sent.text()
        assert _availability(swarm_rig, node) == "active"
        decided = bot.pipeline.decide(outcome.token, _actor("U0ADMIN"), sent, confirm=True)
        assert decided.ok, sent.text()
        assert _availability(swarm_rig, node) == "drain"
        wait_for(lambda: not swarm_rig.running(name), timeout=30, what="tasks to leave the node")
    finally:
        outcome, sent = bot(f"node update --availability active {node}")
    assert outcome.ok, sent.text()  # no question for active
    assert _availability(swarm_rig, node) == "active"
    swarm_rig.wait_running(name, 1)


def _availability(rig: SwarmRig, node: str) -> str:
    return rig.cli("node", "inspect", "--format", "{{.Spec.Availability}}", node).stdout.strip()


def test_a_host_that_is_no_manager_gets_one_sentence(
        swarm_rig: SwarmRig, make_pipeline: Callable[..., Runner],
        docker_client: docker.DockerClient) -> None:
    if docker_client.info()["Swarm"].get("ControlAvailable"):
        pytest.skip("the main engine is a Swarm manager here")
    bot = make_pipeline(swarm_rig.toml() + '\n[hosts.plain]\nurl = "unix:///var/run/docker.sock"\n')
    outcome, sent = bot("--host plain service ls")
    assert not outcome.ok
    assert "Host plain is not a Swarm manager" in sent.text()
    assert "Traceback" not in sent.text()
    outcome, sent = bot("--host all service ls")  # the Swarm answers, the other host says why
    assert "No services." in sent.text()
    assert "plain" in sent.text() and "not in a Swarm: run this on a manager" in sent.text()


def test_host_all_reads_each_swarm_once(swarm_rig: SwarmRig, make_service: Make,
                                         make_pipeline: Callable[..., Runner]) -> None:
    name = make_service(replicas=1)
    toml = swarm_rig.toml("m1") + f'\n[hosts.m2]\nurl = "{swarm_rig.url}"\n'
    bot = make_pipeline(toml)
    outcome, sent = bot("service ls --host all")
    assert outcome.ok, sent.text()
    text = sent.text()
    assert "m1 + m2 (Swarm " in text
    assert text.count(name) == 1


def test_service_logs_prefix_each_line_with_its_task(
        swarm_rig: SwarmRig, make_service: Make, bot: Runner) -> None:
    name = make_service(command=["sh", "-c", "echo hello-from-swarm; sleep 3600"])
    swarm_rig.wait_running(name, 1)
    wait_for(lambda: "hello-from-swarm" in swarm_rig.cli("service", "logs", name).stdout,
             timeout=20, what="the service's log line")
    outcome, sent = bot(f"service logs --tail 5 {name}")
    assert outcome.ok, sent.text()
    line = next(line for line in sent.text().splitlines() if "hello-from-swarm" in line)
    assert re.search(rf"{name}\.1\.[0-9a-z]{{12}}@\S+\s+\| hello-from-swarm", line), line


def test_stack_ls_services_and_ps_print_what_the_cli_prints(
        swarm_rig: SwarmRig, make_service: Make, bot: Runner) -> None:
    stack = f"shop{swarm_rig.engine.netns[-6:]}"
    label = {"com.docker.stack.namespace": stack}
    web = make_service(name=f"{stack}_web", replicas=2, labels=label)
    db = make_service(name=f"{stack}_db", labels=label)
    swarm_rig.wait_running(web, 2)
    swarm_rig.wait_running(db, 1)
    outcome, sent = bot("stack ls")
    assert outcome.ok, sent.text()
    assert code(sent.last) == rstripped(swarm_rig.cli("stack", "ls").stdout)
    outcome, sent = bot(f"stack services {stack}")
    assert outcome.ok, sent.text()
    assert code(sent.last) == rstripped(swarm_rig.cli("stack", "services", stack).stdout)
    outcome, sent = bot(f"stack ps {stack}")
    assert outcome.ok, sent.text()
    assert widths_free(code(sent.last)) == widths_free(swarm_rig.cli("stack", "ps", stack).stdout)
    outcome, sent = bot("stack ps nosuchstack")
    assert not outcome.ok and "Nothing found in stack: nosuchstack" in sent.text()


def test_service_logs_follow_streams_new_lines_into_a_thread(
        swarm_rig: SwarmRig, make_service: Make, make_pipeline: Callable[..., Runner]) -> None:
    bot = make_pipeline(swarm_rig.toml(extra="[limits]\nfollow_seconds = 4\n"))
    name = make_service(command=["sh", "-c", "i=0; while true; do echo tick-$i; i=$((i+1)); "
                                             "sleep 0.5; done"])
    swarm_rig.wait_running(name, 1)
    outcome, sent = bot(f"service logs -f --tail 1 {name}", user="U0VIEW", source="slack")
    assert not outcome.ok  # a follow holds a connection: operator
    outcome, sent = bot(f"service logs -f --tail 1 {name}", user="U0OPER", source="slack")
    assert outcome.ok and sent.threads, sent.text()
    thread = sent.threads[0]
    wait_for(lambda: "Stopped after" in json.dumps(thread.updates[-1].blocks), timeout=20,
             what="the follow to end")
    text = "\n".join(unescape(json.dumps(m.blocks)) for m in thread.updates)
    ticks = set(re.findall(r"tick-\d+", text))
    assert len(ticks) >= 3, text  # new lines arrived while it followed
    assert re.search(rf"{name}\.1\.[0-9a-z]{{12}}@", text)


def test_an_operator_cannot_put_a_service_on_another_repository(
        swarm_rig: SwarmRig, make_service: Make, bot: Runner) -> None:
    name = make_service(replicas=1)
    before = swarm_rig.image_of(name)
    outcome, sent = bot(f"service update --image {BUSYBOX} {name}", user="U0OPER",
                        source="slack")
    assert not outcome.ok and "on another repository than its own" in sent.text()
    assert swarm_rig.image_of(name) == before
    outcome, sent = bot(f"service update --image 'bad ref' {name}", user="U0OPER",
                        source="slack")
    assert not outcome.ok and "invalid reference" in sent.text()
    assert swarm_rig.image_of(name) == before


def test_an_update_from_a_private_registry_hands_the_nodes_dockops_credentials(
        swarm_rig: SwarmRig, make_service: Make, make_pipeline: Callable[..., Runner],
        monkeypatch: pytest.MonkeyPatch) -> None:
    registry = swarm_rig.start_auth_registry("ci", "s3cret-swarm")
    ref = swarm_rig.push("v1", f'FROM {swarm_rig.images["v1"]}\nLABEL private=1\n',
                         repo=f"{registry}/dockops/private",
                         auth={"username": "ci", "password": "s3cret-swarm"})
    client = swarm_rig.client()
    client.images.remove(ref, force=True)  # the node must pull it, through the registry's auth
    client.close()
    name = make_service(replicas=1)
    swarm_rig.wait_running(name, 1)
    before = swarm_rig.image_of(name)

    outcome, sent = make_pipeline(swarm_rig.toml())(f"service update --image {ref} {name}")
    assert not outcome.ok  # no credentials: the node cannot pull, Swarm rolls back
    assert "could not be accessed on a registry" in all_text(sent)
    assert "rolled it back" in all_text(sent)
    assert swarm_rig.image_of(name) == before

    monkeypatch.setenv("DOCKOPS_TEST_SWARM_PASSWORD", "s3cret-swarm")
    bot = make_pipeline(swarm_rig.toml() + f'\n[registries."{registry}"]\nusername = "ci"\n'
                                           'password_env = "DOCKOPS_TEST_SWARM_PASSWORD"\n')
    outcome, sent = bot(f"service update --image {ref} {name}")
    assert outcome.ok, all_text(sent)
    assert swarm_rig.image_of(name).startswith(ref + "@sha256:")  # pinned through the auth
    assert "s3cret-swarm" not in all_text(sent)
