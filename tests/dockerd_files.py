"""The files of a private dockerd started by a test rig."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import docker


class DockerdFiles:
    """Where a private dockerd keeps its socket and log, under its own `directory`."""

    directory: Path

    @property
    def socket_path(self) -> Path:
        return self.directory / "docker.sock"

    @property
    def socket_url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def log_path(self) -> Path:
        return self.directory / "dockerd.log"

    def client(self, timeout: int = 30) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.socket_url, timeout=timeout)

    def _kill_leftovers(self) -> None:
        """containerd and shims this engine started (their command lines name our directory)."""
        marker = str(self.directory).encode()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            with contextlib.suppress(OSError):
                if marker in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(int(pid), signal.SIGKILL)
