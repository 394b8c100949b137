"""A private Docker Engine the fault tests may kill and start again, never the shared one.

Recipe from ENGINE-NOTES.md: its own network namespace (`ip netns add`), then `nsenter
--net=... dockerd` with its own data-root, exec-root, pidfile and unix socket (no
`--bridge none`). `kill()` is a crash (SIGKILL to dockerd, its containerd and shims);
`start()` brings it back on the same data. The session fixture tears everything down, even
when a test fails. (tests/engines_rig.py's SecondEngine also adds TLS and a veth, and its
start() builds the namespace each time: not something to restart in place.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.dockerd_files import DockerdFiles
from tests.support import BUSYBOX, RUN_ID, wait_for


def _ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


class FaultEngine(DockerdFiles):
    """dockerd in netns `netns`, reachable at `socket_url`; `kill()` and `start()` at will."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:6]
        # Short: containerd's sockets under exec-root must fit in 108 bytes.
        self.directory = Path(tempfile.mkdtemp(prefix=f"dkf-{tag}-", dir="/tmp"))
        self.netns = f"dockops-fault-{RUN_ID}-{tag}"
        self.process: subprocess.Popen[bytes] | None = None
        self._netns_made = False

    def start(self) -> None:
        """Start dockerd (the namespace on first use) and wait until it answers."""
        if not self._netns_made:
            _ip("netns", "add", self.netns)
            self._netns_made = True
            _ip("-n", self.netns, "link", "set", "lo", "up")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["nsenter", f"--net=/var/run/netns/{self.netns}", "dockerd",
                 "--data-root", str(self.directory / "data"),
                 "--exec-root", str(self.directory / "exec"),
                 "--pidfile", str(self.directory / "dockerd.pid"), "-H", self.socket_url],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        wait_for(self.answers, timeout=60, interval=0.1, what=f"the fault dockerd ({self.log_path})")

    def answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"the fault dockerd exited with {self.process.returncode}:\n"
                                 + self.log_path.read_text(errors="replace")[-3000:])
        return self._reachable()

    def kill(self) -> None:
        """Crash the engine: SIGKILL dockerd, its containerd and every shim it started."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self._kill_leftovers()
        # The killed containerd may linger unreaped: dockerd would wait for it forever.
        (self.directory / "exec" / "containerd" / "containerd.pid").unlink(missing_ok=True)
        wait_for(lambda: not self._reachable(), timeout=10, what="the fault dockerd to be gone")

    def _reachable(self) -> bool:
        """A ping answered within a second."""
        try:
            with contextlib.closing(self.client(timeout=1)) as client:
                return bool(client.ping())
        except (docker.errors.DockerException, OSError):
            return False

    def load_busybox(self, source: docker.DockerClient) -> None:
        """`docker save | docker -H unix://... load` of the test image."""
        data = b"".join(source.images.get(BUSYBOX).save(named=True))
        with contextlib.closing(self.client()) as client:
            client.images.load(data)

    def destroy(self) -> None:
        """Kill the engine, unmount what it left, delete the namespace and the directory."""
        self.kill()
        prefix = str(self.directory) + "/"
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
        for mount in sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True):
            subprocess.run(["umount", "-l", mount], capture_output=True)
        if self._netns_made:
            _ip("netns", "del", self.netns, check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def fault_engine(docker_client: docker.DockerClient, busybox: str) -> Iterator[FaultEngine]:
    """A private dockerd with the busybox image, for tests that crash and restart it."""
    engine = FaultEngine()
    try:
        started = time.monotonic()
        engine.start()
        engine.load_busybox(docker_client)
        print(f"fault engine up in {time.monotonic() - started:.1f} s")
        yield engine
    finally:
        engine.destroy()
