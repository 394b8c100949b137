"""Shared by the lifecycle tests: a pipeline with extra config, and cleanup of what commands create."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import docker
import pytest

from bot.handlers import PREVIEWS, Context
from bot.handlers.context import target_hosts
from bot.pipeline import Outcome, Pipeline
from bot.policy import Actor
from bot.roles import Role
from bot.services import Services
from tests.support import RUN_ID, TEST_LABEL, RecordingResponder, container_exists, unique, wait_for

LABEL = f"{TEST_LABEL}={RUN_ID}"
Run = Callable[..., tuple[Outcome, RecordingResponder]]


@pytest.fixture
def names(docker_client: docker.DockerClient) -> Iterator[Callable[[str], str]]:
    """`name("web")`: a unique container name, force-removed after the test even on failure."""
    made: list[str] = []

    def name(prefix: str = "c") -> str:
        made.append(unique(prefix))
        return made[-1]

    yield name
    for item in made:
        # NotFound: never created or auto-removed; 409: an auto-removal is under way.
        with contextlib.suppress(docker.errors.APIError):
            docker_client.api.remove_container(item, force=True, v=True)
    # An auto-removal still under way would trip the session's label sweep: let it finish.
    wait_for(lambda: not any(container_exists(docker_client, item) for item in made), timeout=15,
             what="test containers to be removed")


def preview(services: Services, text: str) -> RecordingResponder:
    """Call a command's registered preview directly, as the confirmation step does."""
    from bot.commands import TABLE, parse

    invocation = parse(text, TABLE)
    responder = RecordingResponder()
    actor = Actor("U0ADMIN", "C0OPS")
    ctx = Context(invocation, actor, Role.ADMIN, services, responder,
                  hosts=target_hosts(invocation, actor, services))
    message = PREVIEWS[invocation.command.name](ctx)
    responder.send(message)  # type: ignore[arg-type]
    return responder


def state(client: docker.DockerClient, name: str) -> str:
    return client.api.inspect_container(name)["State"]["Status"]


def unchanged(client: docker.DockerClient) -> Callable[[], None]:
    """Snapshot this run's labelled containers; calling the result asserts none appeared."""
    before = {c["Id"] for c in client.api.containers(all=True, filters={"label": LABEL})}

    def check() -> None:
        after = {c["Id"] for c in client.api.containers(all=True, filters={"label": LABEL})}
        assert after - before == set(), "a container was created"

    return check


Confirmed = Callable[..., tuple[Outcome, Outcome | None, RecordingResponder]]


@pytest.fixture
def confirmed(services: Services) -> Confirmed:
    """Run a destructive command and click Confirm on its preview: (preview, outcome, sent).

    When the preview itself refuses (the seed's rules), outcome is None.
    """
    pipeline = Pipeline(services)

    def run(text: str, *, user: str = "console", source: str = "console"
            ) -> tuple[Outcome, Outcome | None, RecordingResponder]:
        responder = RecordingResponder()
        actor = Actor(user_id=user, channel_id="C0OPS", source=source)  # type: ignore[arg-type]
        preview = pipeline.execute(text, actor, responder)
        if not preview.awaiting_confirmation:
            return preview, None, responder
        return preview, pipeline.decide(preview.token, actor, responder, confirm=True), responder

    return run
