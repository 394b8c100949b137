"""A real Swarm for the Swarm tests: `docker swarm init` on a private dockerd in its own netns.

Measured here (2026-11-30, dockerd 20.10, kernel without IP_VS): a private engine from
tests/engines_rig.py (own netns, a veth with a link-local address) initialises Swarm with
`--advertise-addr` on that address, and a service without published ports reaches Running in
about a second. The main engine is never touched. The rig's registry on the host's 127.0.0.1
is not reachable from the namespace, so a registry runs INSIDE it, on 0.0.0.0:5000: the private
engine pushes and pulls `127.0.0.1:5000/...` (loopback is trusted as insecure) and the host
checks it at ADDR:5000. Images are built on the private engine from the busybox test image.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import docker
import pytest

from tests.engines_rig import SecondEngine, _end
from tests.registry_rig import free_port, htpasswd_line
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, unique, wait_for

REGISTRY_BINARY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
# A port free on the host too: the bot's direct registry check (from the host) is refused
# there and falls back to the engine's distribution API, which runs in the namespace.
REGISTRY_PORT = free_port()
REPO = f"127.0.0.1:{REGISTRY_PORT}/dockops/swarm-app"  # as the private engine names it


@dataclass
class SwarmRig:
    """A one-node Swarm (the manager is `engine`), a registry beside it, test images in it."""

    engine: SecondEngine
    registries: list[subprocess.Popen[bytes]] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)  # "v1", "v2", "broken" -> REPO:TAG

    @property
    def url(self) -> str:
        return self.engine.socket_url

    def client(self, timeout: int = 60) -> docker.DockerClient:
        return self.engine.client(timeout=timeout)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The docker CLI against the Swarm manager (the reference the tests compare to)."""
        return subprocess.run(["docker", "-H", self.url, *args], capture_output=True, text=True,
                              check=check, timeout=120)

    def start(self, source: docker.DockerClient) -> None:
        self.engine.start()
        self.engine.load_image(source, BUSYBOX)
        client = self.client()
        client.swarm.init(advertise_addr=self.engine.address,
                          listen_addr=f"{self.engine.address}:2377")
        self._start_registry()
        for tag, extra in (("v1", ""), ("v2", "LABEL dockops.test.version=2\n"),
                           ("broken", 'CMD ["sh", "-c", "exit 3"]\n')):
            dockerfile = f'FROM {BUSYBOX}\nCMD ["sleep", "3600"]\n{extra}'
            self.images[tag] = self.push(tag, dockerfile)
        client.close()

    def push(self, tag: str, dockerfile: str, *, repo: str = REPO,
             auth: dict[str, str] | None = None) -> str:
        """Build `dockerfile` on the private engine and push it as repo:tag; the reference."""
        client = self.client()
        reference = f"{repo}:{tag}"
        client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=reference, rm=True,
                            forcerm=True, labels={TEST_LABEL: RUN_ID})
        for chunk in client.api.push(reference, stream=True, decode=True, auth_config=auth):
            if "error" in chunk:
                raise AssertionError(f"push {reference}: {chunk['error']}")
        client.close()
        return reference

    def _start_registry(self, port: int = REGISTRY_PORT, htpasswd: str = "",
                        name: str = "registry") -> subprocess.Popen[bytes]:
        """`docker-registry serve` inside the namespace on 0.0.0.0:`port` (htpasswd: auth)."""
        root = self.engine.directory / name
        (root / "data").mkdir(parents=True)
        auth = ""
        if htpasswd:
            (root / "htpasswd").write_text(htpasswd)
            auth = (f"auth:\n  htpasswd:\n    realm: dockops-test\n"
                    f"    path: {root / 'htpasswd'}\n")
        (root / "config.yml").write_text(
            "version: 0.1\nlog:\n  level: warn\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: 0.0.0.0:{port}\n  secret: {secrets.token_hex(16)}\n{auth}")
        with (root / "registry.log").open("wb") as log:
            process = subprocess.Popen(
                self.engine.in_netns(REGISTRY_BINARY, "serve", str(root / "config.yml")),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        self.registries.append(process)
        wait_for(lambda: self._registry_answers(process, port), timeout=20,
                 what=f"the {name} in the Swarm namespace")
        return process

    def start_auth_registry(self, username: str, password: str) -> str:
        """A second registry in the namespace that wants a password; its host:port."""
        port = free_port()
        self._start_registry(port, htpasswd_line(username, password), name="auth-registry")
        return f"127.0.0.1:{port}"

    def _registry_answers(self, process: subprocess.Popen[bytes], port: int) -> bool:
        if process.poll() is not None:
            raise AssertionError("docker-registry exited in the namespace")
        try:
            with urllib.request.urlopen(f"http://{self.engine.address}:{port}/v2/", timeout=1):
                return True
        except urllib.error.HTTPError as error:
            return error.code == 401  # up, wants credentials
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        with contextlib.suppress(docker.errors.DockerException, OSError):
            client = self.client(timeout=10)
            for service in client.api.services():
                client.api.remove_service(service["ID"])
            with contextlib.suppress(docker.errors.APIError):
                client.swarm.leave(force=True)
            client.close()
        for process in self.registries:
            _end(process, grace=5)
        self.engine.stop()

    # -- services the tests make -----------------------------------------------------------

    def make_service(self, image: str, *, replicas: int = 1, name: str | None = None,
                     rollback_on_failure: bool = True, labels: dict[str, str] | None = None,
                     monitor_seconds: float = 1.0, command: list[str] | None = None) -> str:
        """A labelled replicated service with a fast rolling update; its name."""
        name = name or unique("svc")
        ns = 1_000_000_000
        update = docker.types.UpdateConfig(
            parallelism=1, delay=0, monitor=int(monitor_seconds * ns),
            failure_action="rollback" if rollback_on_failure else "pause", max_failure_ratio=0,
            order="stop-first")
        rollback = docker.types.RollbackConfig(parallelism=0, delay=0, monitor=int(ns),
                                               failure_action="pause", order="stop-first")
        restart = docker.types.RestartPolicy(condition="on-failure", delay=int(0.2 * ns),
                                             max_attempts=0)
        task = docker.types.TaskTemplate(
            container_spec=docker.types.ContainerSpec(image=image, command=command,
                                                      stop_grace_period=ns),
            restart_policy=restart)
        client = self.client()
        client.api.create_service(
            task, name=name, labels={TEST_LABEL: RUN_ID, **(labels or {})},
            mode=docker.types.ServiceMode("replicated", replicas=replicas),
            update_config=update, rollback_config=rollback)
        client.close()
        return name

    def running(self, name: str) -> list[dict[str, Any]]:
        client = self.client()
        try:
            tasks = client.api.tasks(filters={"service": [name], "desired-state": ["running"]})
        finally:
            client.close()
        return [t for t in tasks if t["Status"]["State"] == "running"]

    def wait_running(self, name: str, count: int, timeout: float = 60) -> list[dict[str, Any]]:
        return wait_for(lambda: (found := self.running(name)) and len(found) == count and found,
                        timeout=timeout, what=f"{count} running task(s) of {name}")

    def image_of(self, name: str) -> str:
        client = self.client()
        try:
            return str(client.api.inspect_service(name)["Spec"]["TaskTemplate"]["ContainerSpec"]
                       ["Image"])
        finally:
            client.close()

    def toml(self, host: str = "swarm", *, swarm_key: bool = True, extra: str = "") -> str:
        """A hosts config naming the manager (the test roles come from make_pipeline)."""
        lines = [f"[hosts.{host}]", f'url = "{self.url}"', "default = true"]
        if swarm_key:
            lines.append("swarm = true")
        return "\n".join(lines) + "\n" + extra


@pytest.fixture(scope="session")
def swarm_rig(docker_client: docker.DockerClient, busybox: str) -> Iterator[SwarmRig]:
    """One Swarm manager in its own namespace for the session; torn down at the end."""
    rig = SwarmRig(SecondEngine.create())
    try:
        started = time.monotonic()
        rig.start(docker_client)
        rig.engine.started_seconds = time.monotonic() - started
        yield rig
    finally:
        rig.stop()


@pytest.fixture
def make_service(swarm_rig: SwarmRig) -> Iterator[Callable[..., str]]:
    """`make_service(image, replicas=...)`: a service removed after the test."""
    made: list[str] = []

    def make(image: str | None = None, **kwargs: Any) -> str:
        made.append(swarm_rig.make_service(image or swarm_rig.images["v1"], **kwargs))
        return made[-1]

    yield make
    client = swarm_rig.client()
    for name in made:
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_service(name)
    client.close()
