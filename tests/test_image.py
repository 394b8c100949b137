"""The bot's image builds from deploy/Dockerfile on the local engine and runs: --version, /healthz.

No Docker Hub here: the base is `dockops/python:3.11-slim`, made by deploy/make-base-image.sh
with debootstrap (cached: the script does nothing when the image exists). The builder stage
installs from a wheelhouse made on this machine and served on loopback (pip's PIP_FIND_LINKS
and PIP_NO_INDEX build args), so the build needs no index of its own.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot
from tests.support import RUN_ID, TEST_LABEL, unique, wait_for

ROOT = Path(__file__).resolve().parent.parent
BASE = "dockops/python:3.11-slim"
MIRROR_UNREACHABLE = 3  # make-base-image.sh's exit status when debootstrap cannot reach Debian
LABEL = f"{TEST_LABEL}={RUN_ID}"

pytestmark = [pytest.mark.timeout(600), pytest.mark.image]


def docker(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    # The classic builder: its plain "Step N/M" output is what builder_stage() reads.
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                            env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} failed:\n{result.stdout[-3000:]}\n"
                             f"{result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="module")
def base_image() -> str:
    result = subprocess.run(["bash", str(ROOT / "deploy" / "make-base-image.sh"), BASE],
                            capture_output=True, text=True, timeout=480)
    if result.returncode == MIRROR_UNREACHABLE:
        pytest.skip(f"debootstrap cannot reach the Debian mirror: {result.stderr.strip()}")
    assert result.returncode == 0, result.stdout + result.stderr
    return BASE


@pytest.fixture(scope="module")
def wheelhouse_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """dockops and its dependencies as wheels, served over HTTP on loopback for the build."""
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(wheels), str(ROOT),
                    "setuptools>=77", "wheel"], check=True, capture_output=True, timeout=300)
    handler = functools.partial(_QuietHandler, directory=str(wheels))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def build_context(where: Path) -> Path:
    """Only what the Dockerfile copies (the tree also holds .venv and data)."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, where / name)
    shutil.copytree(ROOT / "bot", where / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    (where / "deploy").mkdir()
    shutil.copy(ROOT / "deploy" / "Dockerfile", where / "deploy" / "Dockerfile")
    return where


def builder_stage(output: str) -> str | None:
    """The builder stage's image in classic `docker build` output: the last ID before FROM #2."""
    froms = [m.start() for m in re.finditer(r"^Step \d+/\d+ : FROM ", output, re.M)]
    if len(froms) < 2:
        return None
    ids = re.findall(r"^ ---> ([0-9a-f]{12})$", output[:froms[1]], re.M)
    return ids[-1] if ids else None


@pytest.fixture(scope="module")
def image(base_image: str, wheelhouse_url: str, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[str]:
    tag = f"dockops-test/bot:{RUN_ID}"
    context = build_context(tmp_path_factory.mktemp("context"))
    result = docker("build", "--network", "host", "--build-arg", f"BASE={base_image}",
                    "--build-arg", "PIP_NO_INDEX=1", "--build-arg",
                    f"PIP_FIND_LINKS={wheelhouse_url}", "--label", LABEL, "--rm", "--force-rm",
                    "-t", tag, "-f", str(context / "deploy" / "Dockerfile"), str(context),
                    timeout=480)
    try:
        yield tag
    finally:
        docker("rmi", "-f", tag, check=False)
        builder = builder_stage(result.stdout)
        if builder:  # untagged, made by this build: not left behind
            docker("rmi", builder, check=False)


def test_image_runs_dockops_version(image: str) -> None:
    result = docker("run", "--rm", "--label", LABEL, image, "--version")
    assert result.stdout.strip() == f"dockops {bot.__version__}"


def test_image_runs_as_a_non_root_user_with_a_healthcheck(image: str) -> None:
    config = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", image).stdout)
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["dockops"]
    assert "DOCKOPS_HEALTH_URL" in " ".join(config["Healthcheck"]["Test"])
    assert "DOCKOPS_HEALTH_URL=http://127.0.0.1:9300/healthz" in config["Env"]
    assert docker("run", "--rm", "--label", LABEL, "--entrypoint", "id", image, "-u").stdout \
        .strip() == "10001"


def test_bot_in_the_image_answers_healthz_with_the_engine_socket_and_stops_cleanly(image: str
                                                                                    ) -> None:
    name = unique("image")
    socket = "/var/run/docker.sock"
    docker("run", "-d", "--name", name, "--label", LABEL,
           "--group-add", str(os.stat(socket).st_gid), "-v", f"{socket}:{socket}",
           "-e", "SLACK_BOT_TOKEN=xoxb-0-test", "-e", "SLACK_SIGNING_SECRET=test-secret",
           "-e", "SLACK_API_URL=http://127.0.0.1:9/api/",  # nothing listens there
           image, "serve", "--http", "--port", "3000", "--metrics-port", "9300")
    try:
        probe = ("import urllib.request; print(urllib.request.urlopen("
                 "'http://127.0.0.1:9300/healthz', timeout=5).read().decode())")

        def healthz() -> dict | None:
            result = docker("exec", name, "python3", "-c", probe, check=False)
            return json.loads(result.stdout) if result.returncode == 0 else None

        body = wait_for(healthz, timeout=60, interval=0.5, what="/healthz inside the container")
        assert body == {"ok": True, "engines": {"local": {"reachable": True}}}
        # The image's own HEALTHCHECK command passes too.
        test = json.loads(docker("inspect", "-f", "{{json .Config.Healthcheck.Test}}", name).stdout)
        assert test[0] == "CMD"
        assert docker("exec", name, *test[1:], check=False).returncode == 0
        docker("stop", "-t", "30", name)
        state = json.loads(docker("inspect", "-f", "{{json .State}}", name).stdout)
        assert state["ExitCode"] == 0
        assert "stopped" in docker("logs", name).stderr
    finally:
        docker("rm", "-f", "-v", name, check=False)  # -v: the image declares VOLUME /data


def test_compose_file_runs_the_image_with_socket_data_volume_env_file_and_healthcheck() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    service = compose["services"]["dockops"]
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert service["restart"] == "unless-stopped"
    assert service["env_file"] == ["dockops.env"]
    assert (ROOT / "deploy" / "dockops.env.example").exists()
    volumes = service["volumes"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in volumes
    assert "dockops-data:/data" in volumes and "dockops-data" in compose["volumes"]
    assert service["environment"]["DOCKOPS_DATA_DIR"] == "/data"
    assert any("DOCKER_GID" in group for group in service["group_add"])  # non-root + socket
    assert "healthz" in " ".join(service["healthcheck"]["test"])
    # Shutdown waits up to shutdown_grace_seconds (20 s by default): compose must wait longer.
    assert int(service["stop_grace_period"].rstrip("s")) > 20


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = (ROOT / "deploy" / "dockops.service").read_text()
    assert "EnvironmentFile=/etc/dockops/dockops.env" in unit and "SupplementaryGroups=docker" in unit
    # verify wants the executable to exist: point it at this checkout's dockops.
    dockops = Path(sys.executable).with_name("dockops")
    (tmp_path / "dockops.service").write_text(unit.replace("/opt/dockops/bin/dockops", str(dockops)))
    result = subprocess.run([analyze, "verify", str(tmp_path / "dockops.service")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
