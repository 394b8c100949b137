"""container prune and system prune: a preview of every object, then the engine's own prunes.

Every prune here passes `--filter label=dockops.test=<RUN_ID>` and a label only this test's
objects carry: nothing another test (or engineer) made is ever a candidate.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

import docker
import pytest

from bot.views.terminal import render
from tests.lifecycle_rig import Confirmed
from tests.support import RUN_ID, TEST_LABEL, Runner, container_exists, unique

GROUP = "dockops.test.group"


@pytest.fixture
def group() -> str:
    return unique("grp")


def _filters(group: str) -> str:
    return f"--filter label={TEST_LABEL}={RUN_ID} --filter label={GROUP}={group}"


@pytest.fixture
def stopped(docker_client: docker.DockerClient, busybox: str, group: str) -> Iterator[list[str]]:
    """Two exited containers of the group, each having written 11 bytes; removed after."""
    made: list[str] = []
    for _ in range(2):
        container = docker_client.containers.run(
            busybox, ["sh", "-c", "printf helloworld1 > /eleven"], name=unique("prn"),
            labels={TEST_LABEL: RUN_ID, GROUP: group}, detach=True)
        container.wait(timeout=20)
        made.append(container.id)
    yield made
    for container_id in made:
        with contextlib.suppress(docker.errors.APIError):
            docker_client.api.remove_container(container_id, force=True)


def test_container_prune_previews_then_removes_only_the_filtered(
        confirmed: Confirmed, docker_client: docker.DockerClient, make_container,
        stopped: list[str], group: str) -> None:
    running = make_container(labels={GROUP: group})
    outsider = make_container("true", start=False)  # stopped, but not in the group
    preview, done, sent = confirmed(f"container prune {_filters(group)}")
    shown = render(sent.sent[0])
    assert preview.awaiting_confirmation, shown
    assert all(cid[:12] in shown for cid in stopped) and running.id[:12] not in shown
    assert "11B" in shown  # each one's size, as the engine counts it
    assert done is not None and done.ok, sent.text()
    report = render(sent.last)
    assert "Deleted Containers:" in report and all(cid in report for cid in stopped)
    assert "Total reclaimed space: 22B" in report
    assert not any(container_exists(docker_client, cid) for cid in stopped)
    assert container_exists(docker_client, running.id)
    assert container_exists(docker_client, outsider.id)


def test_nothing_to_prune_says_so(run_command: Runner, group: str) -> None:
    outcome, sent = run_command(f"container prune {_filters(group)}")
    assert "Nothing to prune" in sent.text()
    assert not outcome.awaiting_confirmation


def test_more_since_the_preview_removes_nothing(make_pipeline, docker_client: docker.DockerClient,
                                                busybox: str, stopped: list[str],
                                                group: str) -> None:
    """A container stopped after the preview would be taken too: the prune refuses, takes none."""
    from bot.pipeline import Pipeline
    from bot.policy import Actor
    from tests.support import RecordingResponder

    runner = make_pipeline()
    pipeline: Pipeline = runner.pipeline
    actor = Actor(user_id="console", channel_id="C0OPS", source="console")
    responder = RecordingResponder()
    preview = pipeline.execute(f"container prune {_filters(group)}", actor, responder)
    assert preview.awaiting_confirmation
    late = docker_client.containers.create(busybox, "true", name=unique("late"),
                                           labels={TEST_LABEL: RUN_ID, GROUP: group})
    try:
        done = pipeline.decide(preview.token, actor, responder, confirm=True)
        assert done is not None and not done.ok
        assert "Nothing was removed" in responder.text()
        assert all(container_exists(docker_client, cid) for cid in [*stopped, late.id])
    finally:
        late.remove(force=True)


def test_system_prune_with_filter(confirmed: Confirmed, docker_client: docker.DockerClient,
                                  busybox: str, stopped: list[str], group: str) -> None:
    """Stopped containers, unused networks and dangling images of the group go; used ones stay."""
    labels = {TEST_LABEL: RUN_ID, GROUP: group}
    unused = docker_client.api.create_network(unique("pnet"), labels=labels)["Id"]
    other = docker_client.api.create_network(unique("pnet"), labels={TEST_LABEL: RUN_ID})["Id"]
    dockerfile = f"FROM {busybox}\nLABEL {TEST_LABEL}={RUN_ID} {GROUP}={group} u={unique()}\n"
    image, _ = docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), rm=True,
                                          forcerm=True)  # untagged: dangling
    try:
        _, done, sent = confirmed(f"system prune {_filters(group)}")
        shown = render(sent.sent[0])
        assert unused[:12] in shown and other[:12] not in shown
        assert image.id.split(":")[1][:12] in shown
        assert done is not None and done.ok, sent.text()
        report = render(sent.last)
        assert "Deleted Networks:" in report and "Deleted Images:" in report
        assert "Total reclaimed space: " in report
        assert not docker_client.api.networks(ids=[unused])
        assert docker_client.api.networks(ids=[other])
        assert not any(container_exists(docker_client, cid) for cid in stopped)
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.api.inspect_image(image.id)
    finally:
        for network in (unused, other):
            with contextlib.suppress(docker.errors.APIError):
                docker_client.api.remove_network(network)
        with contextlib.suppress(docker.errors.APIError):
            docker_client.api.remove_image(image.id, force=True)


def test_system_prune_refuses_until_with_volumes(run_command: Runner, group: str) -> None:
    outcome, sent = run_command(f"system prune --volumes --filter until=1h {_filters(group)}")
    assert not outcome.ok and not outcome.awaiting_confirmation
    assert '"until" filter is not supported with "--volumes"' in sent.text()


def test_bad_filter_is_one_sentence(run_command: Runner) -> None:
    outcome, sent = run_command("container prune --filter dangling=true")
    assert outcome.result == "invalid" and "Invalid filter" in sent.text()
