"""Fixtures: a real Docker Engine, labelled test containers, settings and the pipeline.

Markers come from the fixtures a test uses (see `pytest_collection_modifyitems`): a test that
asks for the engine, a `dockops serve` process or the bot's image is marked so, and
`make test-fast` (`-m "not engine and not slack_process and not image"`) leaves it out.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from bot.config import EnvSettings, Settings, parse_file
from bot.services import Services
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, Runner, unique

pytest_plugins = ["tests.bot_rig", "tests.engines_rig", "tests.lifecycle_rig", "tests.registry_rig",
                  "tests.swarm_rig"]

ROOT = Path(__file__).resolve().parent.parent

ACCESS = """
[access]
default_role = "none"
console_role = "admin"
[access.roles]
admin = ["U0ADMIN", "S0OPSLEADS"]
operator = ["U0OPER"]
viewer = ["U0VIEW", "C0DEVS"]
"""


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.from_env(timeout=60)
    client.ping()
    yield client
    for container in client.containers.list(all=True, sparse=True,
                                            filters={"label": f"{TEST_LABEL}={RUN_ID}"}):
        container.remove(force=True)
    for image in client.images.list(filters={"label": f"{TEST_LABEL}={RUN_ID}"}):
        client.images.remove(image.id, force=True)
    client.close()


@pytest.fixture(scope="session")
def busybox(docker_client: docker.DockerClient) -> str:
    """The FROM-scratch busybox test image (the rig builds it; built here if missing)."""
    try:
        docker_client.images.get(BUSYBOX)
    except docker.errors.ImageNotFound:
        subprocess.run(["bash", str(ROOT / "scripts" / "rig.sh")], check=True)
    return BUSYBOX


@pytest.fixture
def vol_name(docker_client: docker.DockerClient) -> Iterator[Callable[[], str]]:
    """Unique volume names, each removed after the test: ask for it before `make_container`,
    so the containers using a volume are gone first."""
    made: list[str] = []

    def name() -> str:
        made.append(unique("vol"))
        return made[-1]

    yield name
    for item in made:
        with contextlib.suppress(docker.errors.APIError):
            docker_client.api.remove_volume(item, force=True)


@pytest.fixture
def make_container(docker_client: docker.DockerClient, busybox: str
                   ) -> Iterator[Callable[..., docker.models.containers.Container]]:
    """Create labelled containers from busybox; all removed after the test, even on failure."""
    made: list[str] = []

    def make(command: str | list[str] = "sleep 300", *, name: str | None = None,
             start: bool = True, **kwargs: object) -> docker.models.containers.Container:
        labels = {TEST_LABEL: RUN_ID, **dict(kwargs.pop("labels", {}) or {})}  # type: ignore[call-overload]
        create = docker_client.containers.run if start else docker_client.containers.create
        extra = {"detach": True} if start else {}
        container = create(busybox, command, name=name or unique("c"), labels=labels,
                           **extra, **kwargs)
        made.append(container.id)
        return container

    yield make
    for container_id in made:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.api.remove_container(container_id, force=True)


def make_settings(tmp_path: Path, toml: str = ACCESS, **env: str) -> Settings:
    base = {"dockops_data_dir": str(tmp_path / "data"), "slack_api_url": "http://127.0.0.1:9/api/"}
    return Settings(EnvSettings(**{**base, **env}), parse_file(toml), None)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = Services.build(settings)
    yield built
    built.close()


def command_runner(services: Services) -> Runner:
    """A Runner over services someone else closes."""
    return Runner(services)


MakePipeline = Callable[..., Runner]


@pytest.fixture
def make_pipeline(tmp_path: Path) -> Iterator[MakePipeline]:
    """`make_pipeline(toml="", **env)`: a Runner whose config is the test roles, then `toml`.

    `access=""` leaves the test roles out; `env` sets EnvSettings fields (`slack_api_url=...`).
    Each call gets its own data directory; everything built is closed after the test.
    """
    built: list[Runner] = []

    def make(toml: str = "", *, access: str = ACCESS, **env: str) -> Runner:
        settings = make_settings(tmp_path / f"pipeline{len(built)}", access + toml, **env)
        built.append(Runner(Services.build(settings)))
        return built[-1]

    yield make
    for runner in reversed(built):
        runner.close()


@pytest.fixture
def run_command(services: Services) -> Runner:
    """Run command text through the real pipeline as a console (admin) or a Slack user."""
    return Runner(services)


# -- markers, from the fixtures a test uses -----------------------------------------------------

# A fixture here means the test talks to a Docker Engine (directly or through the pipeline).
ENGINE_FIXTURES = frozenset({
    "docker_client", "busybox", "make_container", "services", "run_command", "make_pipeline",
    "names", "confirmed", "second_engine", "ssh_access", "make_remote_container", "multi",
    "registry", "auth_registry", "make_registry",
    "boot", "fuzz_services",  # modules' own fixtures that build Services by hand
    "swarm_rig", "make_service",
})
SLACK_PROCESS_FIXTURES = frozenset({"start_bot", "bot_server"})  # a real `dockops serve`


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by the fixtures it uses, so a new test needs no marker of its own."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & SLACK_PROCESS_FIXTURES:
            item.add_marker(pytest.mark.slack_process)
        # A serve process and an image build both talk to the engine too.
        if (used & ENGINE_FIXTURES or item.get_closest_marker("image")
                or item.get_closest_marker("slack_process")):
            item.add_marker(pytest.mark.engine)
