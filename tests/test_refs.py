"""Image references read as the docker CLI reads them: the tables of distribution's
reference/normalize_test.go and regexp_test.go, no engine needed."""

from __future__ import annotations

import pytest

from bot import refs
from bot.errors import UsageError

DIGEST = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"
HEX64 = DIGEST.removeprefix("sha256:")


@pytest.mark.parametrize(("text", "registry", "path", "tag", "digest"), [
    # Docker Hub: a bare name is docker.io/library/NAME:latest.
    ("redis", "docker.io", "library/redis", "latest", ""),
    ("redis:7", "docker.io", "library/redis", "7", ""),
    ("docker.io/redis", "docker.io", "library/redis", "latest", ""),
    ("docker.io/library/redis", "docker.io", "library/redis", "latest", ""),
    ("index.docker.io/redis", "docker.io", "library/redis", "latest", ""),
    ("library/foo/bar", "docker.io", "library/foo/bar", "latest", ""),
    # Two components without a host are a Hub namespace, not a registry named "team".
    ("team/app", "docker.io", "team/app", "latest", ""),
    ("team/app:1.0", "docker.io", "team/app", "1.0", ""),
    ("store/foo/bar", "docker.io", "store/foo/bar", "latest", ""),
    ("test_com/foo", "docker.io", "test_com/foo", "latest", ""),
    ("dock__er/docker", "docker.io", "dock__er/docker", "latest", ""),
    ("docker---rules/docker", "docker.io", "docker---rules/docker", "latest", ""),
    # A host: a `.`, a `:port`, `localhost`, or an upper-case first component.
    ("test.com/foo", "test.com", "foo", "latest", ""),
    ("test.com:8080/foo", "test.com:8080", "foo", "latest", ""),
    ("test-com:8080/foo", "test-com:8080", "foo", "latest", ""),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", "latest", ""),
    ("127.0.0.1:5000/team/app:1", "127.0.0.1:5000", "team/app", "1", ""),
    ("127.0.0.1:5000/privatebase", "127.0.0.1:5000", "privatebase", "latest", ""),
    ("localhost/app", "localhost", "app", "latest", ""),
    ("localhost:5000/app:2", "localhost:5000", "app", "2", ""),
    ("[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", "latest", ""),
    ("Foo/bar", "Foo", "bar", "latest", ""),
    # registry-1.docker.io is another host in a reference (as in docker).
    ("registry-1.docker.io/library/busybox", "registry-1.docker.io", "library/busybox",
     "latest", ""),
    # A port is not a tag; a bare name with a colon is a tag, even `localhost:5000`.
    ("localhost:5000", "docker.io", "library/localhost", "5000", ""),
    # Digests: no default tag; a tag and a digest both kept.
    (f"redis@{DIGEST}", "docker.io", "library/redis", "", DIGEST),
    (f"busybox:latest@{DIGEST}", "docker.io", "library/busybox", "latest", DIGEST),
    (f"127.0.0.1:5000/app@{DIGEST}", "127.0.0.1:5000", "app", "", DIGEST),
    # 63 hex digits is a name; 64 is an image ID (refused below).
    (HEX64[:-1], "docker.io", f"library/{HEX64[:-1]}", "latest", ""),
    (f"docker.io/{HEX64}", "docker.io", f"library/{HEX64}", "latest", ""),
])
def test_a_reference_splits_as_docker_splits_it(text: str, registry: str, path: str, tag: str,
                                                digest: str) -> None:
    assert refs.parse(text) == refs.Reference(registry, path, tag, digest)


@pytest.mark.parametrize(("text", "normalized", "repository", "registry"), [
    ("redis", "redis:latest", "redis", "docker.io"),
    ("docker.io/library/redis:7", "redis:7", "redis", "docker.io"),
    ("index.docker.io/library/redis", "redis:latest", "redis", "docker.io"),
    ("team/app", "team/app:latest", "team/app", "docker.io"),
    ("docker.io/team/app:1", "team/app:1", "team/app", "docker.io"),
    ("library/foo/bar", "library/foo/bar:latest", "library/foo/bar", "docker.io"),
    ("127.0.0.1:5000/team/app", "127.0.0.1:5000/team/app:latest", "127.0.0.1:5000/team/app",
     "127.0.0.1:5000"),
    ("localhost:5000/app:2", "localhost:5000/app:2", "localhost:5000/app", "localhost:5000"),
    # Credentials: every name of Docker Hub is docker.io; hosts are compared in lower case.
    ("registry-1.docker.io/library/busybox", "registry-1.docker.io/library/busybox:latest",
     "registry-1.docker.io/library/busybox", "docker.io"),
    ("Foo/bar", "Foo/bar:latest", "Foo/bar", "foo"),
    # The digest wins over a tag, as docker's ParseDockerRef decides.
    (f"busybox:1@{DIGEST}", f"busybox@{DIGEST}", "busybox", "docker.io"),
    (f"ghcr.io/team/app@{DIGEST}", f"ghcr.io/team/app@{DIGEST}", "ghcr.io/team/app", "ghcr.io"),
])
def test_normalize_repository_and_registry_of(text: str, normalized: str, repository: str,
                                              registry: str) -> None:
    assert refs.normalize(text) == normalized
    assert refs.repository(text) == repository
    assert refs.registry_of(text) == registry


@pytest.mark.parametrize(("text", "split"), [
    ("app", ("app", "latest")),
    ("127.0.0.1:5000/app", ("127.0.0.1:5000/app", "latest")),
    ("127.0.0.1:5000/app:2", ("127.0.0.1:5000/app", "2")),
    ("docker.io/library/redis:7", ("redis", "7")),
    (f"redis:7@{DIGEST}", ("redis", DIGEST)),
])
def test_split_gives_the_engine_a_repository_and_a_tag_or_digest(
        text: str, split: tuple[str, str]) -> None:
    assert refs.split(text) == split


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    (HEX64, "image ID"),
    ("docker/Docker", "lower case"),
    ("docker.io/docker/Docker", "lower case"),
    ("Not_Lower:1", "lower case"),
    ("https://github.com/docker/docker", "docker reads"),
    ("-docker", "docker reads"),
    ("-docker/docker", "docker reads"),
    ("docker-/docker", "docker reads"),
    ("-docker.io/docker/docker", "docker reads"),
    ("docker///docker", "docker reads"),
    ("docker/", "docker reads"),
    ("____/____", "docker reads"),
    ("_docker/_docker", "docker reads"),
    ("dock..er/docker", "docker reads"),
    ("dock_.er/docker", "docker reads"),
    ("dock-.er/docker", "docker reads"),
    ("[fc00::1]", "docker reads"),
    ("[fc00::1]:5000", "docker reads"),
    ("fc00::1:5000/debian", "docker reads"),
    ("[fe80::1%eth0]:5000/debian", "docker reads"),
    ("redis:-7", "docker reads"),
    ("redis:" + "a" * 129, "docker reads"),
    ("redis@sha256:abc", "docker reads"),
    ("a/" + "b" * 255, "longer than 255"),
])
def test_what_docker_refuses_is_one_usage_error_saying_why(text: str, reason: str) -> None:
    with pytest.raises(refs.InvalidReference) as raised:
        refs.parse(text)
    assert isinstance(raised.value, UsageError)
    assert reason in raised.value.message and "[REGISTRY/]REPOSITORY" in raised.value.detail


@pytest.mark.parametrize(("name", "registry"), [
    (None, "docker.io"),
    ("", "docker.io"),
    ("docker.io", "docker.io"),
    ("index.docker.io", "docker.io"),
    ("registry-1.docker.io", "docker.io"),
    ("https://index.docker.io/v1/", "docker.io"),
    ("http://127.0.0.1:5000", "127.0.0.1:5000"),
    ("Registry.Example.com:443", "registry.example.com:443"),
    (" ghcr.io ", "ghcr.io"),
])
def test_normalize_registry_names_docker_hub_one_way(name: str | None, registry: str) -> None:
    assert refs.normalize_registry(name) == registry


@pytest.mark.parametrize(("text", "is_id"), [
    (DIGEST, True),
    (HEX64, True),
    (HEX64[:12], True),
    ("redis", False),
    ("team/app:1", False),
    (HEX64[:13], False),  # a name docker would pull, not a short ID
    ("", False),
])
def test_is_image_id(text: str, is_id: bool) -> None:
    assert refs.is_image_id(text) is is_id


def test_repo_digest_is_the_one_of_the_references_repository() -> None:
    other = "sha256:" + "1" * 64
    listed = ["<none>@<none>", f"127.0.0.1:5000/redis@{other}", f"redis@{DIGEST}"]
    assert refs.repo_digest(listed, "docker.io/library/redis:7") == DIGEST
    assert refs.repo_digest(listed, "127.0.0.1:5000/redis") == other
    assert refs.repo_digest(listed, "team/redis") == ""
