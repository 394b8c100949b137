"""Deployment works as written: deploy/compose.yaml under Debian's docker-compose 1.29 (up, /healthz,
down leaves nothing), the env examples, what git and the image build ignore, the systemd unit's
start limit and hardening, and an install that prints no setuptools warning.

The compose test runs the repository's compose file unchanged, from a copy of the repository
layout (so its `..` build context, `dockops.env`, `dockops.toml` and `.env` are the test's own
files, never the tree's), plus a test-only override that only adds the offline wheelhouse and
labels. The bot runs in Socket Mode against the Slack stand-in, which listens on the docker0
gateway address: reachable from the container, and from nothing beyond this machine.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bot_rig import free_port
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn
from tests.support import RUN_ID, TEST_LABEL, wait_for
from tests.test_image import base_image, build_context, builder_stage, docker, wheelhouse_url

__all__ = ["base_image", "wheelhouse_url"]  # fixtures, used by name

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SOCKET = "/var/run/docker.sock"


def env_file_keys(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file (comments and blank lines skipped)."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines()
             if "=" in line and not line.lstrip().startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


# -- the compose file, for real ------------------------------------------------------------------


def compose(project: str, workdir: Path, *args: str, timeout: float = 300
            ) -> subprocess.CompletedProcess[str]:
    # Only deploy/.env sets the file's ${...}: the caller's environment must not override it.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DOCKOPS_", "DOCKER_GID", "COMPOSE_"))}
    env["DOCKER_BUILDKIT"] = "0"  # classic build output: builder_stage() reads it
    return subprocess.run(["docker-compose", "-p", project, "-f", "compose.yaml",
                           "-f", "compose.test.yaml", *args],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)


def project_leftovers(project: str) -> list[str]:
    """Containers, networks and volumes compose labelled with this project."""
    label = f"label=com.docker.compose.project={project}"
    found = []
    for kind, listing in (("container", ["ps", "-a", "-q"]), ("network", ["network", "ls", "-q"]),
                          ("volume", ["volume", "ls", "-q"])):
        ids = docker(*listing, "--filter", label).stdout.split()
        found += [f"{kind} {each}" for each in ids]
    return found


def docker0_address() -> str:
    """The host's address on the default bridge (docker0): containers on any bridge reach it.

    The engine's IPAM config does not always name the gateway, so ask the interface."""
    bridge = docker("network", "inspect", "bridge", "-f",
                    '{{index .Options "com.docker.network.bridge.name"}}').stdout.strip()
    shown = subprocess.run(["ip", "-4", "-o", "addr", "show", "dev", bridge or "docker0"],
                           capture_output=True, text=True, timeout=30).stdout
    found = re.search(r"\binet (\d+\.\d+\.\d+\.\d+)/", shown)
    assert found, f"no IPv4 address on the docker bridge: {shown!r}"
    return found.group(1)


@pytest.fixture
def slack_on_docker0() -> Iterator[SlackStandIn]:
    with SlackStandIn(host=docker0_address(), socket_ping_interval=0.2) as standin:
        yield standin
        assert standin.violations == [], standin.violations


@pytest.mark.image
@pytest.mark.timeout(600)
def test_compose_file_goes_up_answers_healthz_and_comes_down_leaving_nothing(
        base_image: str, wheelhouse_url: str, slack_on_docker0: SlackStandIn, tmp_path: Path
) -> None:
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is not installed: run scripts/rig.sh (it installs it)")
    slack = slack_on_docker0
    project = f"dockops-test-{RUN_ID}-compose"
    tag = f"dockops-test/compose:{RUN_ID}"
    metrics_port = free_port()
    (tmp_path / "repo").mkdir()
    workdir = build_context(tmp_path / "repo") / "deploy"
    shutil.copy(DEPLOY / "compose.yaml", workdir / "compose.yaml")
    # The documented steps: .env from its example with the socket's group, then the bot's env
    # file and settings file, all before `up`.
    dot_env = (DEPLOY / ".env.example").read_text()
    dot_env = re.sub(r"^DOCKER_GID=.*$", f"DOCKER_GID={os.stat(SOCKET).st_gid}", dot_env, flags=re.M)
    dot_env += f"DOCKOPS_IMAGE={tag}\nDOCKOPS_BASE={base_image}\nDOCKOPS_METRICS_PORT={metrics_port}\n"
    (workdir / ".env").write_text(dot_env)
    (workdir / "dockops.env").write_text(
        f"SLACK_BOT_TOKEN={slack.bot_token}\nSLACK_APP_TOKEN={slack.app_token}\n"
        f"SLACK_API_URL={slack.api_url}\n")
    (workdir / "dockops.toml").write_text(ACCESS)
    label = f"{TEST_LABEL}: \"{RUN_ID}\""
    (workdir / "compose.test.yaml").write_text(
        "services:\n  dockops:\n    build:\n      network: host\n      args:\n"
        f"        PIP_NO_INDEX: \"1\"\n        PIP_FIND_LINKS: \"{wheelhouse_url}\"\n"
        f"      labels:\n        {label}\n    labels:\n      {label}\n")

    timings: dict[str, float] = {}
    built = ""
    down_done = False
    try:
        started = time.monotonic()
        build = compose(project, workdir, "build", timeout=480)
        built = build.stdout
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        timings["build"] = time.monotonic() - started

        started = time.monotonic()
        up = compose(project, workdir, "up", "-d")
        assert up.returncode == 0, up.stderr[-3000:]
        timings["up"] = time.monotonic() - started

        container = compose(project, workdir, "ps", "-q", "dockops").stdout.strip()
        assert container, "compose ps shows no dockops container"

        def healthy() -> dict | None:
            state = docker("inspect", "-f", "{{json .State}}", container, check=False)
            if state.returncode == 0 and json.loads(state.stdout)["Status"] == "exited":
                logs = compose(project, workdir, "logs", "--no-color")
                raise AssertionError(f"the bot exited:\n{logs.stdout[-3000:]}")
            if slack.socket_mode.client_count == 0:
                return None
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/healthz",
                                            timeout=5) as response:
                    return json.loads(response.read())
            except (OSError, urllib.error.HTTPError):
                return None

        started = time.monotonic()
        try:
            body = wait_for(healthy, timeout=60, interval=0.5, what="/healthz through compose")
        except AssertionError as exc:
            logs = compose(project, workdir, "logs", "--no-color").stdout[-4000:]
            raise AssertionError(f"{exc}; Socket Mode clients: "
                                 f"{slack.socket_mode.client_count}; logs:\n{logs}") from None
        timings["healthz"] = time.monotonic() - started
        assert body["ok"] is True, body
        # The compose healthcheck's own command passes inside the container.
        test = json.loads(docker("inspect", "-f", "{{json .Config.Healthcheck.Test}}",
                                 container).stdout)
        assert test[0] == "CMD"
        assert docker("exec", container, *test[1:], check=False).returncode == 0
        # Non-root with the socket's group, as compose.yaml promises.
        ids = docker("exec", container, "id").stdout
        assert "uid=10001" in ids and f"{os.stat(SOCKET).st_gid}" in ids, ids

        started = time.monotonic()
        down = compose(project, workdir, "down", "--volumes", "--rmi", "all", "--remove-orphans")
        down_done = True
        assert down.returncode == 0, down.stderr[-3000:]
        timings["down"] = time.monotonic() - started
        assert project_leftovers(project) == []
        assert docker("image", "inspect", tag, check=False).returncode != 0
        print("compose timings (s):", {key: round(value, 1) for key, value in timings.items()})
    finally:
        if not down_done:
            compose(project, workdir, "down", "--volumes", "--rmi", "all", "--remove-orphans")
        docker("rmi", "-f", tag, check=False)
        builder = builder_stage(built)
        if builder:  # untagged, made by this build: not left behind
            docker("rmi", builder, check=False)


# -- files, read statically -------------------------------------------------------------------


def test_compose_file_stays_inside_what_docker_compose_1_29_accepts() -> None:
    import yaml

    compose_file = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert "name" not in compose_file  # 1.29 rejects a top-level name: the project name is -p
    service = compose_file["services"]["dockops"]
    [group] = service["group_add"]
    assert group.startswith("${DOCKER_GID:?")  # a clear error when deploy/.env does not set it


def test_env_examples_give_the_socket_group_and_the_bot_tokens() -> None:
    assert "DOCKER_GID" in env_file_keys(DEPLOY / ".env.example")
    bot_env = env_file_keys(DEPLOY / "dockops.env.example")
    assert {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"} <= bot_env.keys()


def test_git_and_the_image_build_ignore_the_filled_in_env_files() -> None:
    dockerignore = (ROOT / ".dockerignore").read_text().splitlines()
    for path in ("deploy/dockops.env", "deploy/.env"):
        assert path in dockerignore, f".dockerignore does not list {path}"
        if shutil.which("git") and (ROOT / ".git").exists():
            ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, timeout=30)
            assert ignored.returncode == 0, f"git does not ignore {path}"
    if shutil.which("git") and (ROOT / ".git").exists():
        for example in ("deploy/dockops.env.example", "deploy/.env.example"):
            assert subprocess.run(["git", "check-ignore", "-q", example], cwd=ROOT,
                                  timeout=30).returncode == 1, f"git ignores {example}"


def unit_sections() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string((DEPLOY / "dockops.service").read_text())
    return parser


def test_systemd_unit_limits_restarts_and_keeps_its_hardening() -> None:
    unit = unit_sections()
    # Start limits belong in [Unit]: systemd ignores them in [Service] (with a warning).
    assert int(unit["Unit"]["StartLimitBurst"]) >= 1
    assert unit["Unit"]["StartLimitIntervalSec"]
    assert "StartLimitBurst" not in unit["Service"]
    service = unit["Service"]
    for key, value in {"NoNewPrivileges": "true", "ProtectSystem": "strict",
                       "ProtectHome": "true", "PrivateTmp": "true", "PrivateDevices": "true",
                       "RestrictSUIDSGID": "true", "CapabilityBoundingSet": "",
                       "SystemCallFilter": "@system-service", "Restart": "on-failure"}.items():
        assert service.get(key) == value, f"{key}={service.get(key)!r}"


def test_systemd_analyze_security_rates_the_unit_ok(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / "dockops.service"
    unit.write_text((DEPLOY / "dockops.service").read_text()
                    .replace("/opt/dockops/bin/dockops", str(Path(sys.executable).with_name("dockops"))))
    result = subprocess.run([analyze, "security", "--offline=true", "--no-pager", str(unit)],
                            capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    if found is None:
        pytest.skip(f"systemd-analyze security --offline is not supported here: {result.stderr[-300:]}")
    assert float(found.group(1)) <= 2.5, result.stdout[-1500:]


# -- packaging ----------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_editable_install_prints_no_setuptools_warning(tmp_path: Path) -> None:
    # A copy of what the build reads, so the tree's own egg-info is not rewritten under others.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "bot", source / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=60)
    # The test venv's pip, installing into the throwaway venv (no second pip to bootstrap).
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-v",
         "--no-deps", "-e", str(source)],
        capture_output=True, text=True, timeout=110)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout + result.stderr
    # setuptools prints an "Editable installation." notice (InformationOnly) for every editable
    # install whatever the project says: not a warning about pyproject.toml.
    warnings = [line for line in output.splitlines()
                if re.search(r"\w+Warning\b|^\s*warning:", line)
                and "Warning: Editable installation." not in line]
    assert warnings == [], "\n".join(warnings)


def test_make_run_installs_the_bot_without_the_test_extras(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    fresh = tmp_path / "venv"  # a fresh machine: no venv, no stamps; -n prints, runs nothing
    run = subprocess.run(["make", "-n", "run", f"VENV={fresh}"], cwd=ROOT, capture_output=True,
                         text=True, timeout=30).stdout
    test = subprocess.run(["make", "-n", "test", f"VENV={fresh}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=30).stdout
    assert "pip install -q -e .\n" in run and "[test]" not in run, run
    assert 'pip install -q -e ".[test]"' in test and "ruff check" in test, test
