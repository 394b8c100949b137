"""network ls/inspect/create/rm/connect/disconnect against the real engine.

Every network here carries this run's label and a unique name; all are removed after.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator

import docker
import pytest

from tests.lifecycle_rig import LABEL, Confirmed
from tests.support import Runner, unique

OPERATOR = {"user": "U0OPER", "source": "slack"}
VIEWER = {"user": "U0VIEW", "source": "slack"}


@pytest.fixture
def net_name(docker_client: docker.DockerClient) -> Iterator[Callable[[], str]]:
    """A unique network name; whatever network has it is removed after the test (ask for it
    before `make_container`, so the containers attached are gone first)."""
    made: list[str] = []

    def name() -> str:
        made.append(unique("net"))
        return made[-1]

    yield name
    for item in made:
        with contextlib.suppress(docker.errors.APIError):
            docker_client.api.remove_network(item)


def _exists(client: docker.DockerClient, name: str) -> bool:
    return bool(client.api.networks(names=[name]))


def test_create_ls_inspect_rm(run_command: Runner, confirmed: Confirmed,
                              docker_client: docker.DockerClient,
                              net_name: Callable[[], str]) -> None:
    """create makes a labelled network the CLI's way; ls and inspect show it; rm asks, then removes."""
    name = net_name()
    outcome, sent = run_command(f"network create --label {LABEL} --label role=back "
                                f"--subnet 10.251.7.0/24 --internal {name}")
    assert outcome.ok, sent.text()
    raw = docker_client.api.inspect_network(name)
    assert raw["Internal"] is True and raw["Labels"]["role"] == "back"
    assert raw["IPAM"]["Config"][0]["Subnet"] == "10.251.7.0/24"
    assert raw["Id"] in sent.text()

    _, listed = run_command(f"network ls --filter label={LABEL} --filter name={name}")
    assert raw["Id"][:12] in listed.text() and "NETWORK ID" in listed.text()
    _, quiet = run_command(f"network ls -q --no-trunc --filter name={name}")
    assert raw["Id"] in quiet.text()
    _, formatted = run_command(f"network ls --filter name={name} --format '{{{{.Name}}}}/{{{{.Internal}}}}'")
    assert f"{name}/true" in formatted.text()

    _, shown = run_command(f"network inspect {name}")
    assert '"Internal": true' in shown.text() and name in shown.text()
    _, one = run_command(f"network inspect -f '{{{{.Driver}}}}' {name}")
    assert "bridge" in one.text()

    preview, done, sent = confirmed(f"network rm {name}")
    assert preview.awaiting_confirmation and done is not None and done.ok, sent.text()
    assert not _exists(docker_client, name)


def test_connect_with_alias_and_disconnect(net_name: Callable[[], str], run_command: Runner,
                                           confirmed: Confirmed,
                                           docker_client: docker.DockerClient,
                                           make_container) -> None:
    name = net_name()
    docker_client.api.create_network(name, labels={LABEL.split("=")[0]: LABEL.split("=")[1]})
    web = make_container()
    outcome, sent = run_command(f"network connect --alias api {name} {web.name}", **OPERATOR)
    assert outcome.ok, sent.text()
    settings = docker_client.api.inspect_container(web.id)["NetworkSettings"]["Networks"]
    assert name in settings and "api" in (settings[name]["Aliases"] or [])

    outcome, sent = run_command(f"network disconnect {name} {web.name}", **OPERATOR)
    assert outcome.ok, sent.text()
    assert name not in docker_client.api.inspect_container(web.id)["NetworkSettings"]["Networks"]

    # -f is destructive: a preview first, the disconnect only once confirmed.
    docker_client.api.connect_container_to_network(web.id, name)
    preview, done, sent = confirmed(f"network disconnect -f {name} {web.name}")
    assert preview.awaiting_confirmation and "Force-disconnect" in sent.text()
    assert done is not None and done.ok, sent.text()
    assert name not in docker_client.api.inspect_container(web.id)["NetworkSettings"]["Networks"]


def test_rm_refuses_the_engines_own_networks(run_command: Runner,
                                             docker_client: docker.DockerClient) -> None:
    """bridge, host, none: one sentence, and they are all still there."""
    for fixed in ("bridge", "host", "none"):
        outcome, sent = run_command(f"network rm {fixed}")
        assert outcome.result == "refused", sent.text()
        assert "engine's own networks" in sent.text()
        assert _exists(docker_client, fixed)


def test_rm_of_a_used_network_says_so_and_keeps_it(net_name: Callable[[], str],
                                                   confirmed: Confirmed,
                                                   docker_client: docker.DockerClient,
                                                   make_container) -> None:
    name = net_name()
    docker_client.api.create_network(name)
    web = make_container()
    docker_client.api.connect_container_to_network(web.id, name)
    preview, done, sent = confirmed(f"network rm {name}")
    assert done is None and not preview.ok  # the engine's refusal, not a question
    assert web.name in sent.text() and "disconnect them first" in sent.text()
    assert "Nothing was removed" in sent.text()
    assert _exists(docker_client, name)


def test_roles(run_command: Runner, docker_client: docker.DockerClient,
               net_name: Callable[[], str]) -> None:
    """Viewers list, operators create, only admins remove."""
    name = net_name()
    outcome, _ = run_command(f"network create {name}", **VIEWER)
    assert outcome.result == "refused" and not _exists(docker_client, name)
    outcome, sent = run_command(f"network create --label {LABEL} {name}", **OPERATOR)
    assert outcome.ok, sent.text()
    outcome, sent = run_command(f"network rm {name}", **OPERATOR)
    assert outcome.result == "refused" and "admin" in sent.text()
    assert _exists(docker_client, name)
    outcome, _ = run_command(f"network ls --filter name={name}", **VIEWER)
    assert outcome.ok


def test_missing_network_is_one_sentence(run_command: Runner) -> None:
    missing = unique("nonet")
    outcome, sent = run_command(f"network inspect {missing}")
    assert outcome.result == "error"
    assert f"No such network: {missing}" in sent.text() and "Traceback" not in sent.text()


def test_inspect_prints_the_cli_json(run_command: Runner, docker_client: docker.DockerClient) -> None:
    _, sent = run_command("network inspect bridge")
    text = sent.text()
    document = json.loads(text[text.index("["):text.rindex("]") + 1])
    assert document[0]["Id"] == docker_client.api.inspect_network("bridge")["Id"]
