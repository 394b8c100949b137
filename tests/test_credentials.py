"""Registry credentials: the dockops config first, then docker's config.json; every reference
finds its registry's entry the way docker names registries (no engine needed)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from bot import credentials
from bot.errors import DockopsError
from bot.jobs.updates import _hint
from tests.conftest import ACCESS, make_settings

PASSWORD_ENV = "DOCKOPS_TEST_CREDENTIALS_PASSWORD"


@pytest.fixture(autouse=True)
def docker_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty docker config dir: the machine running the tests leaks nothing in."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    monkeypatch.setenv("DOCKER_CONFIG", str(directory))
    return directory


def configured(tmp_path: Path, key: str, **entry: str):
    lines = "\n".join(f'{name} = "{value}"' for name, value in entry.items())
    return make_settings(tmp_path, f'{ACCESS}\n[registries."{key}"]\n{lines}\n')


@pytest.mark.parametrize(("key", "reference"), [
    ("docker.io", "team/app:1"),
    ("https://index.docker.io/v1/", "redis"),
    ("registry-1.docker.io", "docker.io/team/app"),
    ("127.0.0.1:5000", "127.0.0.1:5000/team/app:1"),
])
def test_a_configured_entry_answers_for_the_references_registry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, reference: str) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    settings = configured(tmp_path, key, username="ci", password_env=PASSWORD_ENV)
    auth = credentials.auth_config(settings, reference)
    assert auth is not None and auth["username"] == "ci" and auth["password"] == "s3cret"
    hub = credentials.server_address("docker.io")
    assert auth["serveraddress"] == (hub if "docker" in key else "127.0.0.1:5000")
    found = credentials.resolve(settings, "docker.io" if "docker" in key else "127.0.0.1:5000")
    assert found is not None and PASSWORD_ENV in found.source and "s3cret" not in repr(found)


def test_a_namespace_is_not_a_registry(tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`[registries."team"]` is never read for team/app: team is a Docker Hub namespace."""
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    settings = configured(tmp_path, "team", username="ci", password_env=PASSWORD_ENV)
    assert credentials.auth_config(settings, "team/app:1") is None


def test_docker_config_json_auths_are_read_when_the_config_has_none(
        tmp_path: Path, docker_config: Path) -> None:
    token = base64.b64encode(b"robot:from-config-json").decode()
    (docker_config / "config.json").write_text(json.dumps(
        {"auths": {"https://index.docker.io/v1/": {"auth": token}}}))
    settings = make_settings(tmp_path)
    auth = credentials.auth_config(settings, "team/app")
    assert auth is not None and auth["username"] == "robot"
    assert auth["password"] == "from-config-json"
    assert "config.json" in credentials.configured_source(settings, "docker.io")
    assert credentials.auth_config(settings, "127.0.0.1:5000/team/app") is None


def test_no_credentials_says_where_to_put_them_for_docker_hub(tmp_path: Path) -> None:
    with pytest.raises(DockopsError) as raised:
        credentials.require(make_settings(tmp_path), "docker.io")
    assert '[registries."docker.io"]' in raised.value.detail


@pytest.mark.parametrize(("reference", "registry"), [
    ("team/app:latest", "docker.io"),
    ("redis:latest", "docker.io"),
    ("127.0.0.1:5000/team/app:latest", "127.0.0.1:5000"),
])
def test_an_update_check_refused_by_the_registry_names_the_entry_to_configure(
        reference: str, registry: str) -> None:
    """The update job used to tell a user of team/app to configure [registries."team"]."""
    hint = _hint("unauthorized: authentication required.", reference)
    assert f'[registries."{registry}"]' in hint and f"credentials for {registry}:" in hint
    assert '[registries."team"]' not in hint
