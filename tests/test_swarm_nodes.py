"""A two-node Swarm: a second private dockerd, in its own netns, joins the rig's manager as a
worker over a veth pair between the two namespaces (no host routing, no overlay network:
services publish no ports). Draining the manager moves its tasks to the worker."""

from __future__ import annotations

import contextlib
import random
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import docker
import pytest

from tests.engines_rig import SecondEngine
from tests.support import BUSYBOX, Runner, wait_for
from tests.swarm_rig import SwarmRig
from tests.test_swarm import _actor, code, rstripped


@dataclass
class Worker:
    engine: SecondEngine
    node_id: str
    link: str  # the veth pair's name on the manager's side


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def worker(swarm_rig: SwarmRig, docker_client: docker.DockerClient) -> Iterator[Worker]:
    engine = SecondEngine.create()
    manager = swarm_rig.engine
    link = f"dk7{engine.netns[-6:]}m"
    net = f"10.213.{random.randint(1, 254)}"
    client = None
    try:
        engine.start()
        engine.load_image(docker_client, BUSYBOX)
        # A wire between the two namespaces: manager side .1, worker side .2; each reaches the
        # other's advertised (link-local) address over it.
        _ip("link", "add", link, "netns", manager.netns, "type", "veth", "peer", "name",
            link[:-1] + "w", "netns", engine.netns)
        _ip("-n", manager.netns, "addr", "add", f"{net}.1/30", "dev", link)
        _ip("-n", engine.netns, "addr", "add", f"{net}.2/30", "dev", link[:-1] + "w")
        _ip("-n", manager.netns, "link", "set", link, "up")
        _ip("-n", engine.netns, "link", "set", link[:-1] + "w", "up")
        _ip("-n", engine.netns, "route", "add", f"{manager.address}/32", "via", f"{net}.1")
        token = swarm_rig.client().swarm.attrs["JoinTokens"]["Worker"]
        client = engine.client()
        client.swarm.join(remote_addrs=[f"{manager.address}:2377"], join_token=token,
                          listen_addr=f"{net}.2:2377", advertise_addr=f"{net}.2")
        node_id = client.info()["Swarm"]["NodeID"]
        manager_client = swarm_rig.client()
        wait_for(lambda: manager_client.api.inspect_node(node_id)["Status"]["State"] == "ready",
                 timeout=30, what="the worker to be Ready")
        yield Worker(engine, node_id, link)
    finally:
        with contextlib.suppress(docker.errors.DockerException, OSError):
            if client is not None:
                client.swarm.leave(force=True)
        with contextlib.suppress(docker.errors.DockerException):
            if "node_id" in locals():
                swarm_rig.client().api.remove_node(node_id, force=True)
        engine.stop()


@pytest.fixture
def two_hosts(swarm_rig: SwarmRig, worker: Worker, make_pipeline: Callable[..., Runner]) -> Runner:
    return make_pipeline(swarm_rig.toml() + f'\n[hosts.worker]\nurl = "{worker.engine.socket_url}"\n')


def test_node_ls_lists_both_nodes_as_the_cli_does(swarm_rig: SwarmRig, worker: Worker,
                                                    two_hosts: Runner) -> None:
    outcome, sent = two_hosts("node ls")
    assert outcome.ok, sent.text()
    table = code(sent.last)
    assert table == rstripped(swarm_rig.cli("node", "ls").stdout)
    assert worker.node_id in table and "Leader" in table


def test_a_worker_host_is_told_to_use_a_manager(worker: Worker, two_hosts: Runner) -> None:
    outcome, sent = two_hosts("--host worker service ls")
    assert not outcome.ok
    assert "Host worker is a Swarm worker, not a manager" in sent.text()
    outcome, sent = two_hosts("node ls --host all")
    assert "a Swarm worker: run this on a manager" in sent.text()


def test_draining_the_manager_moves_its_tasks_to_the_worker(
        swarm_rig: SwarmRig, worker: Worker, make_service: Callable[..., str],
        two_hosts: Runner) -> None:
    name = make_service(BUSYBOX, replicas=2, command=["sleep", "3600"])
    swarm_rig.wait_running(name, 2)
    manager_id = swarm_rig.client().info()["Swarm"]["NodeID"]
    try:
        outcome, sent = two_hosts(f"node update --availability drain {manager_id}",
                                  user="U0ADMIN", source="slack")
        assert outcome.awaiting_confirmation, sent.text()
        decided = two_hosts.pipeline.decide(outcome.token, _actor("U0ADMIN"), sent, confirm=True)
        assert decided.ok, sent.text()
        wait_for(lambda: (tasks := swarm_rig.running(name)) and len(tasks) == 2
                 and all(t["NodeID"] == worker.node_id for t in tasks),
                 timeout=60, what="both tasks to run on the worker")
    finally:
        outcome, sent = two_hosts(f"node update --availability active {manager_id}")
    assert outcome.ok, sent.text()
    outcome, sent = two_hosts(f"service ps {name}")
    assert outcome.ok and "Shutdown" in sent.text()  # the tasks that left the manager
