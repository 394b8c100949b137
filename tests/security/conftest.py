"""What the security tests share: a label that marks one test's containers, and a count of them."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import docker
import pytest


@pytest.fixture
def probe(docker_client: docker.DockerClient) -> Iterator[str]:
    """A label value for this test's containers; all of them removed after, even on failure."""
    value = uuid.uuid4().hex[:12]
    yield value
    for container in docker_client.containers.list(
            all=True, sparse=True, filters={"label": f"dockops.probe={value}"}):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)


def probed(docker_client: docker.DockerClient, value: str, name: str = "", *,
           running: bool = False) -> list[docker.models.containers.Container]:
    """The containers carrying the probe label (only running ones, or one name, if asked)."""
    found = docker_client.containers.list(all=not running, sparse=True,
                                          filters={"label": f"dockops.probe={value}"})
    return [c for c in found if not name or c.attrs.get("Names", [""])[0].lstrip("/") == name]
