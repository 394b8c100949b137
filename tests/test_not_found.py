"""A missing container or image is a type (NoSuchContainer, NoSuchImage), decided once in translate."""

from __future__ import annotations

from collections.abc import Callable

import docker.errors
import pytest

from bot.engine import containers, images, lifecycle
from bot.engine.translate import translate
from bot.errors import EngineError, NoSuchContainer, NoSuchImage
from tests.conftest import MakePipeline


@pytest.mark.parametrize(("exc", "kind"), [
    (docker.errors.NotFound("404", explanation="No such container: web"), NoSuchContainer),
    (docker.errors.ImageNotFound("404", explanation="No such image: nginx:nope"), NoSuchImage),
    (docker.errors.NotFound("404", explanation="network backend not found"), EngineError),
    (docker.errors.APIError("500", explanation="No such container: web"), EngineError),
])
def test_docker_py_not_found_becomes_a_typed_error(exc: Exception, kind: type) -> None:
    translated = translate("unix:///var/run/docker.sock", exc)
    assert type(translated) is kind and isinstance(translated, EngineError)


def test_the_engine_says_no_such_container_or_image_by_type(
        make_pipeline: MakePipeline, make_container: Callable[..., object]) -> None:
    engine = make_pipeline().services.hosts.get()
    with pytest.raises(NoSuchContainer):
        containers.inspect(engine, "dockops-no-such-container")
    with pytest.raises(NoSuchContainer):
        lifecycle.find(engine, ["dockops-no-such-container"])
    with pytest.raises(NoSuchImage):
        images.inspect(engine, "dockops-test/no-such-image:nope")


def test_inspect_of_neither_a_container_nor_an_image_says_both(make_pipeline: MakePipeline) -> None:
    outcome, sent = make_pipeline()("inspect dockops-no-such-thing")
    assert not outcome.ok and "No such container or image: dockops-no-such-thing." in sent.text()
