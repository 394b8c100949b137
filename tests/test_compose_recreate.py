"""A container Docker Compose made stays Compose's after dockops recreates it on a new image:
`docker-compose ps` lists it under its project and service, its networks keep the aliases
Compose gives (service name, its own short ID, the file's aliases), and `docker-compose up -d`
afterwards finds it up to date and leaves it alone. Debian's docker-compose 1.29, for real."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from bot.engine import compose
from bot.engine.client import Engine
from tests import test_jobs_update as jobs_rig
from tests.lifecycle_rig import Confirmed
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, unique
from tests.test_jobs_update import AppImage

app_image = jobs_rig.app_image  # a fixture: v1 pushed to the rig's registry and pulled here

COMPOSE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="docker-compose is not installed "
                                                        "(scripts/rig.sh installs it)")


@dataclass
class Project:
    """A compose project in a directory of its own; `run("up", "-d")` runs docker-compose."""

    name: str
    directory: Path

    def run(self, *args: str) -> str:
        assert COMPOSE is not None
        done = subprocess.run([COMPOSE, "--project-name", self.name, *args], cwd=self.directory,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout + done.stderr

    def container(self, service: str) -> str:
        return f"{self.name}_{service}_1"


@pytest.fixture
def project(app_image: AppImage, tmp_path: Path) -> Iterator[Project]:
    """web (the app image, on network `back` with an alias, linked to db) and db (busybox)."""
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "docker-compose.yml").write_text(f"""\
version: "2.4"
services:
  web:
    image: {app_image.ref}
    labels: {{{TEST_LABEL}: "{RUN_ID}"}}
    stop_signal: SIGKILL
    environment: {{GREETING: hello}}
    networks:
      back: {{aliases: [frontdoor]}}
    links: [db]
  db:
    image: {BUSYBOX}
    command: sleep 300
    labels: {{{TEST_LABEL}: "{RUN_ID}"}}
    stop_signal: SIGKILL
    networks: [back]
networks:
  back:
    labels: {{{TEST_LABEL}: "{RUN_ID}"}}
""")
    made = Project(unique("proj").replace("dockops-", "dockops"), directory)
    made.run("up", "-d")
    yield made
    with contextlib.suppress(AssertionError, subprocess.TimeoutExpired):
        made.run("down", "--timeout", "1")


def test_a_compose_container_recreated_on_a_new_digest_stays_in_its_project_and_up_to_date(
        confirmed: Confirmed, project: Project, app_image: AppImage,
        docker_client: docker.DockerClient) -> None:
    web = project.container("web")
    before = docker_client.api.inspect_container(web)
    app_image.publish_v2()  # the registry's tag moves; the local tag stays on v1

    _, done, _ = confirmed(f"recreate --pull {web}")

    assert done is not None and done.ok, done and done.message and done.message.text
    after = docker_client.api.inspect_container(web)
    assert after["Id"] != before["Id"]
    assert after["Image"] == app_image.local_id() != before["Image"]  # now on v2
    labels, old_labels = after["Config"]["Labels"], before["Config"]["Labels"]
    for key in (compose.PROJECT, compose.SERVICE, "com.docker.compose.container-number",
                compose.ONEOFF, compose.VERSION, compose.WORKING_DIR, compose.CONFIG_FILES):
        assert labels[key] == old_labels[key], key
    assert labels[compose.CONFIG_HASH] != old_labels[compose.CONFIG_HASH]  # it covers the image
    assert "GREETING=hello" in after["Config"]["Env"]
    network = after["NetworkSettings"]["Networks"][f"{project.name}_back"]
    assert {"web", "frontdoor", after["Id"][:12]} <= set(network["Aliases"])
    assert before["Id"][:12] not in network["Aliases"]
    assert f"{project.container('db')}:db" in network["Links"]

    listed = project.run("ps", "-q", "web").split()
    assert listed == [after["Id"]]
    assert web in project.run("ps")
    up = project.run("up", "-d")
    assert f"{web} is up-to-date" in up
    assert docker_client.api.inspect_container(web)["Id"] == after["Id"]


def test_without_its_compose_file_the_labels_stay_and_the_answer_says_compose_will_recreate(
        confirmed: Confirmed, project: Project, app_image: AppImage,
        docker_client: docker.DockerClient) -> None:
    web = project.container("web")
    (project.directory / "docker-compose.yml").rename(project.directory / "kept.yml")
    try:
        app_image.publish_v2()
        _, done, _ = confirmed(f"recreate --pull {web}")
    finally:
        (project.directory / "kept.yml").rename(project.directory / "docker-compose.yml")

    assert done is not None and done.ok
    text = json.dumps(done.message.blocks if done.message else [])
    assert "docker-compose up -d" in text and "once more" in text, text
    assert project.run("ps", "-q", "web").split() == [docker_client.api.inspect_container(web)["Id"]]


def test_compose_v2_labels_get_the_new_image_id_and_keep_their_hash() -> None:
    labels = {compose.PROJECT: "shop", compose.SERVICE: "web", compose.VERSION: "2.24.0",
              compose.CONFIG_HASH: "ab" * 32, compose.IMAGE: "sha256:old"}
    relabelled = compose.relabel(Engine(), labels, "app:1", "sha256:new")
    assert relabelled == compose.ComposeLabels({**labels, compose.IMAGE: "sha256:new"})


def test_the_service_image_is_read_from_docker_compose_config_output() -> None:
    output = ("networks:\n  back: {}\nservices:\n  db:\n    image: busybox\n  web:\n"
              "    environment:\n      image: not-this\n    image: '127.0.0.1:5000/app:latest'\n"
              "version: '2.4'\n")
    assert compose._service_image(output, "web") == "127.0.0.1:5000/app:latest"
    assert compose._service_image(output, "db") == "busybox"
    assert compose._service_image(output, "cache") is None
