"""tag, push and pull against real registries (plain and htpasswd), through the pipeline."""

from __future__ import annotations

import contextlib
import io
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from tests.conftest import MakePipeline, Runner
from tests.registry_rig import RegistryRig
from tests.support import RUN_ID, TEST_LABEL, RecordingResponder, unique

PASSWORD_ENV = "DOCKOPS_TEST_PUSH_PASSWORD"


def context_tar(label: str) -> io.BytesIO:
    """A FROM-scratch busybox build context, as a tar, whose image ID is unique to `label`."""
    dockerfile = (f"FROM scratch\nCOPY busybox /bin/busybox\n"
                  f"LABEL {TEST_LABEL}={RUN_ID} dockops.unique={label}\n").encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        tar.add("/bin/busybox", arcname="busybox")
    buffer.seek(0)
    return buffer


@pytest.fixture
def local_image(docker_client: docker.DockerClient) -> Iterator[Callable[[str], str]]:
    """Build a unique labelled image tagged `name`; every image of the test removed after."""
    labels: list[str] = []

    def build(name: str) -> str:
        label = unique("img")
        labels.append(label)
        image, _ = docker_client.images.build(fileobj=context_tar(label), custom_context=True,
                                              tag=name, rm=True, forcerm=True)
        return image.id

    yield build
    for label in labels:
        for image in docker_client.images.list(all=True, filters={"label": f"dockops.unique={label}"}):
            with contextlib.suppress(docker.errors.NotFound):
                docker_client.images.remove(image.id, force=True)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, auth_registry: RegistryRig,
        make_pipeline: MakePipeline) -> Runner:
    """The pipeline with the auth registry's credentials configured (password from env)."""
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    monkeypatch.setenv(PASSWORD_ENV, auth_registry.password or "")
    return make_pipeline(f'\n[registries."{auth_registry.host}"]\n'
                         f'username = "{auth_registry.username}"\npassword_env = "{PASSWORD_ENV}"\n')


def image_id(client: docker.DockerClient, name: str) -> str | None:
    try:
        return client.images.get(name).id
    except docker.errors.ImageNotFound:
        return None


def final(responder: RecordingResponder) -> str:
    """The push message's last state (one message, updated in place)."""
    assert len(responder.threads) == 1
    from bot.views.terminal import render

    return render(responder.threads[0].updates[-1])


def test_tag_push_remove_and_pull_back_give_the_same_image(
        run, local_image, docker_client: docker.DockerClient, registry: RegistryRig) -> None:
    source = f"{unique('src')}:1.0"
    built = local_image(source)
    target = registry.image(f"team/{unique('app')}", "1.0")

    outcome, responder = run(f"tag {source} {target}")
    assert outcome.ok and image_id(docker_client, target) == built

    outcome, responder = run(f"push {target}")
    assert outcome.ok, responder.text()
    pushed = final(responder)
    assert "Pushed" in pushed and "sha256:" in pushed
    digest = pushed[pushed.index("sha256:"):].split()[0].strip("`")
    assert responder.sent == []  # the answer is the updated message, not a second one

    docker_client.images.remove(target)
    docker_client.images.remove(source)
    assert image_id(docker_client, target) is None

    outcome, responder = run(f"pull {target}")
    assert outcome.ok, responder.text()
    assert "Downloaded newer image" in responder.text() and "not present" in responder.text()
    assert digest[:20] in responder.text()
    assert image_id(docker_client, target) == built

    outcome, responder = run(f"pull {target}")
    assert outcome.ok and "is up to date" in responder.text()


def test_push_and_pull_use_the_configured_credentials(
        run, local_image, docker_client: docker.DockerClient, auth_registry: RegistryRig) -> None:
    target = auth_registry.image(f"team/{unique('app')}", "2.0")
    built = local_image(target)
    outcome, responder = run(f"push {target}")
    assert outcome.ok, responder.text()
    docker_client.images.remove(target)
    outcome, responder = run(f"pull {target}")
    assert outcome.ok, responder.text()
    assert image_id(docker_client, target) == built


def test_push_without_credentials_is_a_failure(
        run, local_image, make_registry: Callable[..., RegistryRig]) -> None:
    locked = make_registry(username="someone", password="not-configured")
    target = locked.image(f"team/{unique('app')}", "1.0")
    local_image(target)
    outcome, responder = run(f"push {target}")
    assert not outcome.ok
    assert "failed" in final(responder) and "credentials" in responder.text()


def test_push_to_a_stopped_registry_reports_failure(
        run, local_image, make_registry: Callable[..., RegistryRig]) -> None:
    gone = make_registry()
    target = gone.image(f"team/{unique('app')}", "1.0")
    local_image(target)
    gone.stop()
    outcome, responder = run(f"push {target}")
    assert not outcome.ok
    assert "connection refused" in final(responder)
    assert "not answering" in responder.text()


def test_push_of_an_image_that_is_not_here_says_so(run, registry: RegistryRig) -> None:
    outcome, responder = run(f"push {registry.image(unique('missing'), '1')}")
    assert not outcome.ok
    assert "does not exist locally" in responder.text()


def test_pull_of_an_unknown_tag_names_it(run, registry: RegistryRig) -> None:
    outcome, responder = run(f"pull {registry.image(unique('missing'), '9')}")
    assert not outcome.ok
    assert "not found" in responder.text().lower()


def test_pull_with_a_platform(run, local_image, docker_client: docker.DockerClient,
                              registry: RegistryRig) -> None:
    target = registry.image(f"team/{unique('app')}", "1.0")
    local_image(target)
    assert run(f"push {target}")[0].ok
    arch = docker_client.version()["Arch"]
    outcome, responder = run(f"pull --platform linux/{arch} {target}")
    assert outcome.ok, responder.text()


@pytest.mark.parametrize("text", ["pull -a team/app", "push --all-tags team/app"])
def test_all_tags_is_refused_with_a_reason(run, text: str, registry: RegistryRig) -> None:
    mark = registry.mark()
    outcome, responder = run(text)
    assert outcome.result == "refused"
    assert "one tag at a time" in responder.text() and "NAME:TAG" in responder.text()
    assert registry.requests(since=mark) == []


def test_tag_of_a_missing_image_is_one_clear_message(run) -> None:
    outcome, responder = run(f"tag {unique('nothing')}:1 {unique('other')}:1")
    assert not outcome.ok
    assert "No such image" in responder.text()


def test_a_viewer_may_not_push(run, registry: RegistryRig) -> None:
    outcome, _responder = run(f"push {registry.image('team/app', '1')}", user="U0VIEW",
                             source="slack")
    assert outcome.result == "refused"
