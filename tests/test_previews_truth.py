"""Previews say what the engine then does: each claim is checked against the real engine.

`rmi -f TAG` of an image only stopped containers use deletes it; with a running user it only
untags; by ID a running user makes even -f fail, and the advice given is advice that works.
`stop`/`kill` previews say when `--rm` removes a container and what `--stop-timeout` waits.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator

import docker
import pytest

from bot.services import Services
from tests.lifecycle_rig import LABEL, Confirmed, preview
from tests.registry_rig import RegistryRig
from tests.support import (
    BUSYBOX,
    RUN_ID,
    TEST_LABEL,
    container_exists,
    image_exists,
    unique,
    wait_for,
)

Container = docker.models.containers.Container


@pytest.fixture
def own_image(docker_client: docker.DockerClient) -> Iterator[Callable[[str], str]]:
    """`own_image(tag)`: a tiny image with a unique ID and only that tag; removed after."""
    built: list[str] = []

    def make(tag: str) -> str:
        dockerfile = f"FROM {BUSYBOX}\nLABEL {TEST_LABEL}={RUN_ID} unique={unique('img')}\n"
        image, _ = docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag,
                                              rm=True, forcerm=True)
        built.append(image.id)
        return image.id

    yield make
    for image_id in built:
        with contextlib.suppress(docker.errors.APIError):
            docker_client.api.remove_image(image_id, force=True)


@pytest.fixture
def user_of(docker_client: docker.DockerClient) -> Iterator[Callable[..., Container]]:
    """`user_of(image, running=...)`: a container of that image; removed after."""
    made: list[Container] = []

    def make(image: str, *, running: bool, auto_remove: bool = False,
             stop_timeout: int | None = None) -> Container:
        api = docker_client.api
        created = api.create_container(
            image, "sleep 300" if running else "true", name=unique("user"),
            labels={TEST_LABEL: RUN_ID}, stop_timeout=stop_timeout,
            host_config=api.create_host_config(auto_remove=auto_remove))
        container = docker_client.containers.get(created["Id"])
        made.append(container)
        if running:
            container.start()
        return container

    yield make
    for container in made:
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)


def _tag() -> str:
    return f"dockops-test/truth:{unique('t')[-6:]}"


def test_rmi_f_of_the_last_tag_with_only_stopped_users_says_delete_and_deletes(
        confirmed: Confirmed, own_image: Callable[[str], str], user_of: Callable[..., Container],
        docker_client: docker.DockerClient) -> None:
    tag = _tag()
    image_id = own_image(tag)
    user = user_of(tag, running=False)
    held, done, sent = confirmed(f"rmi -f {tag}")
    shown = sent.text()
    assert held.awaiting_confirmation
    assert f"delete {image_id[7:19]}" in shown and "the image stays" not in shown
    assert f"stopped container {user.name} stays, without its image" in shown
    assert done is not None and done.ok, sent.text()
    assert not image_exists(docker_client, image_id)  # what the preview said
    assert container_exists(docker_client, user.name)


def test_rmi_f_of_the_last_tag_with_a_running_user_untags_and_the_image_stays(
        confirmed: Confirmed, own_image: Callable[[str], str], user_of: Callable[..., Container],
        docker_client: docker.DockerClient) -> None:
    tag = _tag()
    image_id = own_image(tag)
    user = user_of(tag, running=True)
    held, done, sent = confirmed(f"rmi -f {tag}")
    assert held.awaiting_confirmation
    assert f"untag  {tag} (the image stays, untagged: running container {user.name}" \
        in sent.text()
    assert done is not None and done.ok
    assert "the image itself stays" in sent.text()
    assert image_exists(docker_client, image_id) and not image_exists(docker_client, tag)


def test_rmi_of_an_image_a_running_container_uses_advises_what_works(
        confirmed: Confirmed, own_image: Callable[[str], str],
        user_of: Callable[..., Container], docker_client: docker.DockerClient) -> None:
    tag = _tag()
    image_id = own_image(tag)
    user = user_of(tag, running=True)
    held, done, sent = confirmed(f"rmi {tag}")
    assert done is None and not held.ok
    text = sent.text()
    assert f"/docker rm -f {user.name}" in text
    assert "use rmi -f" not in text and "or rmi -f" not in text
    assert image_exists(docker_client, tag)
    # Following the advice works: remove the container, then rmi.
    _, removed, _ = confirmed(f"rm -f {user.name}")
    assert removed is not None and removed.ok
    _, done, sent = confirmed(f"rmi {tag}")
    assert done is not None and done.ok, sent.text()
    assert not image_exists(docker_client, image_id)


def test_rmi_f_by_id_of_an_image_a_running_container_uses_is_refused_as_the_engine_does(
        confirmed: Confirmed, own_image: Callable[[str], str], user_of: Callable[..., Container],
        docker_client: docker.DockerClient) -> None:
    image_id = own_image(_tag())
    user = user_of(image_id, running=True)
    short = image_id[7:19]
    held, done, sent = confirmed(f"rmi -f {short}")
    assert done is None and not held.ok
    text = sent.text()
    assert "even with rmi -f" in text and f"/docker rm -f {user.name}" in text
    assert f"/docker stop {user.name}" in text
    with pytest.raises(docker.errors.APIError, match="cannot be forced"):
        docker_client.api.remove_image(short, force=True)  # the engine agrees
    # The other advice works too: stop it, then rmi -f.
    docker_client.api.stop(user.id, timeout=0)
    _, done, sent = confirmed(f"rmi -f {short}")
    assert done is not None and done.ok, sent.text()
    assert not image_exists(docker_client, image_id)


def test_rmi_by_id_of_an_image_with_two_tags_needs_f_as_the_engine_says(
        confirmed: Confirmed, own_image: Callable[[str], str],
        docker_client: docker.DockerClient) -> None:
    tag = _tag()
    image_id = own_image(tag)
    docker_client.api.tag(image_id, "dockops-test/truth", f"{tag.rsplit(':', 1)[1]}-b")
    held, done, sent = confirmed(f"rmi {image_id[7:19]}")
    assert done is None and not held.ok and "has 2 tags" in sent.text()
    with pytest.raises(docker.errors.APIError, match="must be forced"):
        docker_client.api.remove_image(image_id[7:19])
    held, done, sent = confirmed(f"rmi -f {image_id[7:19]}")
    assert held.awaiting_confirmation and f"delete {image_id[7:19]}" in sent.text()
    assert done is not None and done.ok and not image_exists(docker_client, image_id)


def test_stop_and_kill_previews_say_what_rm_and_stop_timeout_do(
        services: Services, confirmed: Confirmed, user_of: Callable[..., Container],
        docker_client: docker.DockerClient) -> None:
    removed = user_of(BUSYBOX, running=True, auto_remove=True)
    patient = user_of(BUSYBOX, running=True, stop_timeout=3)
    shown = preview(services, f"stop {removed.name} {patient.name}").text()
    assert "each one's --stop-timeout" in shown
    assert f"{removed.name} was started with --rm: the engine removes it once stopped" in shown
    assert f"{patient.name} stays, stopped" in shown
    assert "killed after 3 s" in preview(services, f"stop {patient.name} {patient.name}").text()
    hup = preview(services, f"kill -s HUP {patient.name}").text()
    assert "up to it" in hup and "stays, stopped" not in hup
    _, done, _ = confirmed(f"kill {removed.name}")
    assert done is not None and done.ok
    wait_for(lambda: not container_exists(docker_client, removed.id), timeout=10,
             what="the --rm container to be removed, as the preview said")
    assert LABEL  # containers here carry the run's label (user_of)


def test_rmi_of_a_digest_reference_only_untags_while_a_tag_holds_the_image(
        confirmed: Confirmed, own_image: Callable[[str], str], registry: RegistryRig,
        docker_client: docker.DockerClient) -> None:
    reference = registry.image(f"h1b/truth-{RUN_ID}", unique("d")[-6:])
    image_id = own_image(reference)
    for chunk in docker_client.api.push(reference, stream=True, decode=True):
        assert "error" not in chunk, chunk
    digest = next(d for d in docker_client.api.inspect_image(image_id)["RepoDigests"]
                  if d.startswith(reference.rsplit(":", 1)[0]))
    held, done, sent = confirmed(f"rmi {digest}")
    assert held.awaiting_confirmation and f"untag  {digest} (the image stays as {reference})" \
        in sent.text()
    assert done is not None and done.ok, sent.text()
    assert image_exists(docker_client, reference) and image_exists(docker_client, image_id)
