"""`run` of an image that is not local pulls it first, as the CLI does, and only when allowed;
`run -d` answers the full container ID; `run -it` says what to type instead."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import docker
import pytest

from tests.lifecycle_rig import LABEL, Run
from tests.registry_rig import RegistryRig
from tests.support import BUSYBOX, RUN_ID, image_exists, wait_for


@pytest.fixture
def remote_only(docker_client: docker.DockerClient, registry: RegistryRig) -> Iterator[str]:
    """An image pushed to the rig's registry and then removed locally: only a pull brings it."""
    reference = registry.image(f"h1b/run-pull-{RUN_ID}", "1.0")
    docker_client.api.tag(BUSYBOX, reference.rsplit(":", 1)[0], "1.0")
    for chunk in docker_client.api.push(reference, stream=True, decode=True):
        assert "error" not in chunk, chunk
    docker_client.api.remove_image(reference)
    assert not image_exists(docker_client, reference)
    yield reference
    with contextlib.suppress(docker.errors.APIError):
        docker_client.api.remove_image(reference, force=True)


def test_run_of_an_image_not_local_pulls_it_first_then_answers_the_full_id(
        run_command: Run, docker_client: docker.DockerClient, names: Callable[[str], str],
        remote_only: str) -> None:
    name = names("pulled")
    outcome, sent = run_command(f"run -d --name {name} -l {LABEL} {remote_only} sleep 30")
    assert outcome.ok, sent.text()
    thread = sent.threads[0]
    first = str(thread.updates[0].blocks)
    assert f"Unable to find image '{remote_only}' locally" in first
    final = str(thread.updates[-1].blocks)
    assert f"Status: Downloaded newer image for {remote_only}" in final
    details = docker_client.api.inspect_container(name)
    assert details["State"]["Running"]
    assert details["Id"] in sent.text()  # the whole 64-digit ID, as `docker run -d` prints it
    assert image_exists(docker_client, remote_only)


def test_a_refused_run_pulls_nothing(make_pipeline: Callable[..., Run],
                                     docker_client: docker.DockerClient, registry: RegistryRig,
                                     remote_only: str) -> None:
    run = make_pipeline()
    wait_for(lambda: registry.requests(), what="the push to be logged")
    mark = registry.mark()
    # Refused by the run policy (--privileged), and by the role (a viewer may not run).
    refused, sent = run(f"run --privileged -l {LABEL} {remote_only} true")
    assert not refused.ok and not sent.threads
    viewer, sent = run(f"run -d -l {LABEL} {remote_only} true", user="U0VIEW", source="slack")
    assert not viewer.ok and not sent.threads
    assert not image_exists(docker_client, remote_only)
    assert not [r for r in registry.requests(since=mark) if r.is_manifest]


def test_run_of_a_name_no_registry_has_says_so_and_creates_nothing(
        run_command: Run, docker_client: docker.DockerClient, registry: RegistryRig) -> None:
    missing = registry.image(f"h1b/never-pushed-{RUN_ID}", "1.0")
    before = docker_client.api.containers(all=True, filters={"label": LABEL})
    outcome, sent = run_command(f"run -d -l {LABEL} {missing} true")
    assert not outcome.ok
    assert f"Unable to find image '{missing}' locally" in str(sent.threads[0].updates[-1].blocks)
    assert "No container was created" in str(sent.threads[0].updates[-1].blocks)
    assert docker_client.api.containers(all=True, filters={"label": LABEL}) == before


@pytest.mark.parametrize(("typed", "instead"), [
    ("run -it --name web -p 8080:80 busybox sh", "run -d --name web -p 8080:80 busybox sh"),
    ("run -itd --rm busybox top -t", "run -d --rm busybox top -t"),
    ("container run --interactive -t -e A=1 busybox", "container run -d -e A=1 busybox"),
    ("run -ti -dw /tmp busybox ls -it", "run -dw /tmp busybox ls -it"),
    ("exec -it web ls -t /", "exec web ls -t /"),
])
def test_no_terminal_says_the_line_to_type_instead(run_command: Run, typed: str,
                                                   instead: str) -> None:
    outcome, sent = run_command(typed)
    assert not outcome.ok
    assert f"/docker {instead} " in sent.text() or f"/docker {instead}," in sent.text()


def test_pull_never_pulls_nothing_and_pull_always_pulls_first(
        run_command: Run, docker_client: docker.DockerClient, names: Callable[[str], str],
        remote_only: str) -> None:
    outcome, sent = run_command(f"run --pull never -d -l {LABEL} {remote_only} true")
    assert not outcome.ok and not sent.threads and "No such image" in sent.text()
    assert not image_exists(docker_client, remote_only)
    name = names("always")
    outcome, sent = run_command(f"run --pull always -d --name {name} -l {LABEL} {remote_only} "
                                "sleep 30")
    assert outcome.ok, sent.text()
    assert "Downloaded newer image" in str(sent.threads[0].updates[-1].blocks)
    outcome, sent = run_command(f"run --pull sometimes -l {LABEL} {remote_only} true")
    assert not outcome.ok and "invalid pull option: 'sometimes'" in sent.text()


def test_the_line_to_type_instead_never_repeats_a_secret(run_command: Run) -> None:
    outcome, sent = run_command("run -it -e DB_PASSWORD=hunter2 --name x busybox sh")
    assert not outcome.ok and "hunter2" not in sent.text() and "run -d" in sent.text()
