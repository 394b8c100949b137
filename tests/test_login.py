"""login/logout against a real htpasswd registry; passwords typed in Slack are refused unseen."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.commands.secrets import carries_password
from bot.pipeline import Outcome, Pipeline
from bot.policy import Actor
from bot.services import Services
from tests.conftest import ACCESS, MakePipeline
from tests.registry_rig import RegistryRig
from tests.support import RecordingResponder, wait_for

PASSWORD_ENV = "DOCKOPS_TEST_REGISTRY_PASSWORD"
TYPED = "Typed-S3cret-Zq9"


def registry_toml(host: str, **entry: str) -> str:
    lines = "\n".join(f'{key} = "{value}"' for key, value in entry.items())
    return f'{ACCESS}\n[registries."{host}"]\n{lines}\n'


Run = tuple[Outcome, RecordingResponder, Services]


def again(services: Services, text: str, *, user: str = "console", source: str = "console") -> Run:
    """Run a command on services that already exist (same engine client, same store)."""
    responder = RecordingResponder()
    actor = Actor(user_id=user, channel_id="C0OPS", source=source)  # type: ignore[arg-type]
    return Pipeline(services).execute(text, actor, responder), responder, services


@pytest.fixture
def run_as(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_pipeline: MakePipeline
           ) -> Callable[..., Run]:
    """Run one command with a given TOML config (fresh services each time)."""

    def run(text: str, toml: str = ACCESS, *, user: str = "console", source: str = "console"
            ) -> Run:
        return again(make_pipeline(toml, access="").services, text, user=user, source=source)

    # No docker config.json of the machine running the tests leaks in.
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    return run


@pytest.fixture
def good_config(auth_registry: RegistryRig, monkeypatch: pytest.MonkeyPatch) -> str:
    """The auth registry's right credentials, the password in an environment variable."""
    monkeypatch.setenv(PASSWORD_ENV, auth_registry.password or "")
    return registry_toml(auth_registry.host, username=auth_registry.username or "",
                         password_env=PASSWORD_ENV)


def test_login_with_the_configured_password_says_it_works(run_as, auth_registry: RegistryRig,
                                                            good_config: str) -> None:
    outcome, responder, _ = run_as(f"login {auth_registry.host}", good_config)
    assert outcome.ok, responder.text()
    said = responder.text()
    assert "work" in said and auth_registry.username in said and PASSWORD_ENV in said
    assert auth_registry.password not in said


def test_login_with_a_password_file(run_as, auth_registry: RegistryRig, tmp_path: Path) -> None:
    secret = tmp_path / "registry-password"
    secret.write_text(auth_registry.password + "\n")
    toml = registry_toml(auth_registry.host, username=auth_registry.username,
                         password_file=str(secret))
    outcome, responder, _ = run_as(f"login {auth_registry.host}", toml)
    assert outcome.ok, responder.text()
    assert str(secret) in responder.text()


def test_a_wrong_password_is_rejected_even_after_a_good_login(
        run_as, auth_registry: RegistryRig, good_config: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    outcome, _, services = run_as(f"login {auth_registry.host}", good_config)
    assert outcome.ok
    # Same services (same docker-py client, which caches logins): only reauth notices.
    monkeypatch.setenv(PASSWORD_ENV, "wrong-password")
    mark = auth_registry.mark()
    outcome, responder, _ = again(services, f"login {auth_registry.host}")
    assert not outcome.ok
    said = responder.text()
    assert "rejected" in said and auth_registry.username in said
    assert "wrong-password" not in said
    # The engine really asked the registry (no cached answer).
    wait_for(lambda: any(r.status == 401 for r in auth_registry.requests(since=mark)),
             what="a 401 from the registry")


def test_login_without_credentials_says_where_to_put_them(run_as, auth_registry: RegistryRig
                                                          ) -> None:
    outcome, responder, _ = run_as(f"login {auth_registry.host}")
    assert not outcome.ok
    said = responder.text()
    assert f'[registries."{auth_registry.host}"]' in said and "password_env" in said


def test_login_names_an_unset_password_variable(run_as, auth_registry: RegistryRig,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKOPS_TEST_UNSET_PASSWORD", raising=False)
    toml = registry_toml(auth_registry.host, username="dockops",
                         password_env="DOCKOPS_TEST_UNSET_PASSWORD")
    outcome, responder, _ = run_as(f"login {auth_registry.host}", toml)
    assert not outcome.ok
    assert "DOCKOPS_TEST_UNSET_PASSWORD" in responder.text() and "not set" in responder.text()


def test_login_reads_the_docker_config_json(run_as, auth_registry: RegistryRig,
                                            tmp_path: Path) -> None:
    config_dir = tmp_path / "docker-config"
    config_dir.mkdir()
    token = base64.b64encode(f"{auth_registry.username}:{auth_registry.password}".encode()).decode()
    (config_dir / "config.json").write_text(json.dumps({"auths": {auth_registry.host: {"auth": token}}}))
    outcome, responder, _ = run_as(f"login {auth_registry.host}")
    assert outcome.ok, responder.text()
    assert "config.json" in responder.text()


def test_logout_forgets_the_credentials_held_in_memory(run_as, auth_registry: RegistryRig,
                                                      good_config: str) -> None:
    outcome, _, services = run_as(f"login {auth_registry.host}", good_config)
    assert outcome.ok
    api = services.hosts.get().api
    assert api._auth_configs.resolve_authconfig(auth_registry.host)
    outcome, responder, _ = again(services, f"logout {auth_registry.host}")
    assert outcome.ok
    assert "Forgot" in responder.text() and "still come from" in responder.text()
    assert not api._auth_configs.resolve_authconfig(auth_registry.host)


@pytest.mark.parametrize("text", [
    f"login -u dockops -p {TYPED} 127.0.0.1:5000",
    f"login --password {TYPED} 127.0.0.1:5000",
    f"login --password={TYPED}",
    f"login -p{TYPED}",
    f"login -u dockops -p '{TYPED}",  # broken quoting: refused before any parse error
    f"--host nowhere login -p {TYPED}",  # before the host is looked up
    f"push --password {TYPED} app:1",  # before the unknown flag is reported
    "login --password-stdin",
])
def test_a_typed_password_is_refused_and_never_repeated(
        text: str, run_as, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    # A viewer from Slack: the password refusal comes before the role check.
    outcome, responder, services = run_as(text, user="U0VIEW", source="slack")
    assert outcome.result == "refused"
    said = responder.text()
    assert "carries a password" in said
    assert TYPED not in said
    assert TYPED not in caplog.text
    rows = services.store.audit_rows()
    assert rows and all(TYPED not in (row.text + row.message) for row in rows)


def test_nothing_reaches_the_registry_when_a_password_is_typed(run_as, auth_registry: RegistryRig
                                                               ) -> None:
    mark = auth_registry.mark()
    outcome, _, _ = run_as(f"login -u {auth_registry.username} -p {auth_registry.password} "
                           f"{auth_registry.host}")
    assert outcome.result == "refused"
    assert auth_registry.requests(since=mark) == []


@pytest.mark.parametrize(("text", "carries"), [
    ("run -d -p 8080:80 busybox", False),  # -p publishes ports outside login
    ("run -e DB_PASSWORD_FILE=/run/secret busybox", False),
    ("login 127.0.0.1:5000", False),
    ("login -u bob 127.0.0.1:5000", False),
    ("login -p x", True),
    ("-H prod login -px", True),
    ("run --password x busybox", True),
    ("login “--password=x”", True),
])
def test_what_counts_as_a_typed_password(text: str, carries: bool) -> None:
    assert carries_password(text) is carries


def test_a_password_typed_in_slack_goes_nowhere(start_bot, slack, auth_registry: RegistryRig
                                               ) -> None:
    bot = start_bot()
    answer = bot.command(f"login -u {auth_registry.username} -p {TYPED} {auth_registry.host}",
                         user_id="U0ADMIN")
    body = bot.answers(answer)[0]
    assert "carries a password" in body["text"]
    every_call = json.dumps([call.params for call in slack.calls], default=str)
    assert TYPED not in every_call
    assert TYPED not in bot.log()
