"""The prune job on a real engine, run from the console: dangling and old unused images go,
images in use and `keep` ones stay, `until` and `dry_run` are honoured, bytes are reported."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from bot.jobs import notices
from bot.units import disk_size
from bot.views import jobs as views
from tests.conftest import MakePipeline
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, RecordingResponder, image_exists, unique


@pytest.fixture
def images(docker_client: docker.DockerClient, busybox: str, tmp_path: Path
           ) -> Iterator[tuple[str, Callable[[str, str], str]]]:
    """Build images carrying a label only this test uses; all removed afterwards."""
    label = unique("prune")
    built: list[str] = []

    def build(tag: str, content: str) -> str:
        context = tmp_path / unique("ctx")
        context.mkdir()
        (context / "Dockerfile").write_text(f"FROM {BUSYBOX}\nRUN echo {content} > /content\n")
        image, _ = docker_client.images.build(path=str(context), tag=tag, rm=True, forcerm=True,
                                              labels={TEST_LABEL: RUN_ID, label: "yes"})
        built.append(image.id)
        return image.id

    yield label, build
    for image_id in built:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.images.remove(image_id, force=True)


def own_layer(docker_client: docker.DockerClient, image_id: str) -> int:
    """The size of the image's newest layer (its RUN step), as `docker history` shows it."""
    return next(int(step["Size"]) for step in docker_client.api.history(image_id) if step["Size"])


def console(make_pipeline: MakePipeline, job: str) -> Callable[[str], RecordingResponder]:
    run = make_pipeline(job)
    return lambda text: run(text, user="console:test")[1]


def prune_job(label: str, keep: str, **extra: str) -> str:
    lines = ['[[jobs]]', 'name = "nightly-prune"', 'type = "prune"', 'schedule = "0 3 * * *"',
             'channel = "C0OPS"', 'all = true', f'labels = ["{label}=yes"]', f'keep = ["{keep}"]',
             *[f'{key} = {value}' for key, value in extra.items()]]
    return "\n".join(lines) + "\n"


def test_prune_removes_dangling_and_unused_keeps_used_and_kept_and_reports_bytes(
        images, docker_client: docker.DockerClient, make_pipeline: MakePipeline) -> None:
    label, build = images
    repo = f"dockops-test/{unique('prunable')}"
    dangling = build(f"{repo}:1", "first")
    unused = build(f"{repo}:1", "second")  # takes the tag: the first is now dangling
    used = build(f"dockops-test/{unique('used')}:1", "used")
    keep_repo = f"dockops-test/{unique('base')}"
    kept = build(f"{keep_repo}:1", "kept")
    user = docker_client.containers.create(used, "true", name=unique("user"),
                                           labels={TEST_LABEL: RUN_ID})
    try:
        check_prune(docker_client, make_pipeline, label, repo, keep_repo,
                    (dangling, unused, used, kept))
    finally:
        user.remove(force=True)


def check_prune(docker_client: docker.DockerClient, make_pipeline: MakePipeline, label: str, repo: str,
                keep_repo: str, ids: tuple[str, str, str, str]) -> None:
    dangling, unused, used, kept = ids

    # Each image adds one layer of its own on the shared busybox base: removing the two
    # frees exactly those two layers, the bytes the engine counts as SpaceReclaimed.
    freed = disk_size(sum(own_layer(docker_client, i) for i in (dangling, unused)))
    dry = console(make_pipeline, prune_job(label, f"{keep_repo}*", dry_run="true"))
    answer = dry("jobs run nightly-prune").text()
    assert "Dry run of nightly-prune" in answer
    assert f"would remove 2 image(s), freeing {freed}." in answer and "up to" not in answer
    assert f"{repo}:1" in answer and "<none>" in answer
    assert all(image_exists(docker_client, i) for i in (dangling, unused, used, kept))

    recent = console(make_pipeline, prune_job(label, f"{keep_repo}*", until='"1h"'))
    assert "removed 0 image(s)" in recent("jobs run nightly-prune").text()  # all newer than 1h

    say = console(make_pipeline, prune_job(label, f"{keep_repo}*"))
    answer = say("jobs run nightly-prune")
    text = answer.text()
    assert f"removed 2 image(s), reclaimed {freed}." in text  # the engine's own figure
    assert "Images before" not in text and "Kept: 2" in text
    assert f"{repo}:1" in text and "<none>" in text
    assert not image_exists(docker_client, dangling) and not image_exists(docker_client, unused)
    assert image_exists(docker_client, used) and image_exists(docker_client, kept)
    assert f"Job nightly-prune ok: removed 2 image(s), reclaimed {freed}" in text
    history = say("jobs history nightly-prune").text()
    assert "manual" in history and "removed 2 image(s)" in history


def test_the_console_lists_jobs_and_explains_that_pausing_needs_the_server(
        make_pipeline: MakePipeline) -> None:
    say = console(make_pipeline, prune_job(unique("none"), "nothing*"))
    listing = say("jobs").text()
    assert "nightly-prune" in listing and "never ran" in listing
    assert "The scheduler runs in dockops serve" in listing
    assert "pausing and resuming happen in dockops serve" in say("jobs pause nightly-prune").text()


def test_a_prune_report_queued_before_the_engine_figure_still_renders_its_sizes() -> None:
    stored = {"kind": "prune-report", "notice": {
        "job": "nightly", "host": "local", "removed": [{"label": "<none>", "size": 5_300_000}],
        "refused": [], "kept": 1, "before": 900_000_000, "after": 894_700_000}}
    text = views.render(notices.decode(stored)).text
    assert "removed 1 image(s), reclaimed 5.3MB." in text
