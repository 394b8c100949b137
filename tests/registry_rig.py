"""Real `docker-registry` (distribution v2) instances on 127.0.0.1 for push/pull/login tests.

Fixtures: `registry` (no auth), `auth_registry` (htpasswd) and `token_registry` (`auth:
token` with tests/token_issuer.py), all session-scoped, and
`make_registry` for a private instance a test may stop without disturbing others.
Each is a `RegistryRig`: `.host` ("127.0.0.1:PORT"), `.username/.password` (auth only),
`.stop()`, `.start()` (same port and storage), `.requests()` (the parsed access log).
The engine trusts 127.0.0.0/8 as an insecure registry, so plain HTTP works.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import pytest

from tests.token_issuer import ISSUER, SERVICE, TokenIssuer

REGISTRY_BINARY = shutil.which("docker-registry") or "/usr/bin/docker-registry"
START_TIMEOUT = 15.0

# Combined log format, as the registry's access log writes it to stdout.
_ACCESS_LINE = re.compile(
    r'^\S+ \S+ \S+ \[[^\]]+\] "(?P<method>[A-Z]+) (?P<path>\S+) [^"]*" (?P<status>\d{3}) ')


@dataclass(frozen=True)
class RegistryRequest:
    """One line of the registry's access log."""

    method: str
    path: str
    status: int

    @property
    def is_manifest(self) -> bool:
        return "/manifests/" in self.path

    @property
    def is_blob(self) -> bool:
        return "/blobs/" in self.path and "/uploads/" not in self.path


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def htpasswd_line(username: str, password: str) -> str:
    """An htpasswd entry with a bcrypt hash, the only scheme the registry accepts."""
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    return f"{username}:{hashed}\n"


class RegistryRig:
    """One `docker-registry serve` process with its own port, storage and access log."""

    def __init__(self, root: Path, *, username: str | None = None, password: str | None = None,
                 token: TokenIssuer | None = None) -> None:
        self.root = root
        self.token = token  # `auth: token` with this issuer (tests/token_issuer.py)
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.username = username
        self.password = password
        self.access_log = root / "access.log"
        self.app_log = root / "registry.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._write_config()

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _write_config(self) -> None:
        auth = ""
        if self.username is not None and self.password is not None:
            htpasswd = self.root / "htpasswd"
            htpasswd.write_text(htpasswd_line(self.username, self.password))
            auth = f"auth:\n  htpasswd:\n    realm: dockops-test\n    path: {htpasswd}\n"
        if self.token is not None:
            auth = (f"auth:\n  token:\n    realm: {self.token.realm}\n    service: {SERVICE}\n"
                    f"    issuer: {ISSUER}\n    rootcertbundle: {self.token.cert_path}\n")
        (self.root / "data").mkdir(exist_ok=True)
        (self.root / "config.yml").write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n  accesslog:\n    disabled: false\n"
            f"storage:\n  filesystem:\n    rootdirectory: {self.root / 'data'}\n"
            "  delete:\n    enabled: true\n"
            # A fixed secret keeps upload sessions valid across stop()/start().
            f"http:\n  addr: {self.host}\n  secret: {secrets.token_hex(16)}\n"
            f"{auth}"
        )

    def start(self) -> RegistryRig:
        """Start the registry (same port and storage as before) and wait until /v2/ answers."""
        if self.running:
            return self
        with open(self.access_log, "ab") as out, open(self.app_log, "ab") as err:
            self._process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(self.root / "config.yml")],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while not self._answers():
            if self._process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.app_log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"docker-registry on {self.host} did not answer in {START_TIMEOUT}s")
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/v2/", timeout=1):
                return True
        except urllib.error.HTTPError as error:
            return error.code == 401  # auth registry: up, wants credentials
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the registry process; storage is kept for a later start()."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)

    def requests(self, since: int = 0) -> list[RegistryRequest]:
        """Parsed access-log entries, oldest first; `since` skips the first N (see mark())."""
        if not self.access_log.exists():
            return []
        entries = []
        for line in self.access_log.read_text(errors="replace").splitlines():
            match = _ACCESS_LINE.match(line)
            if match:
                entries.append(RegistryRequest(match["method"], match["path"], int(match["status"])))
        return entries[since:]

    def mark(self) -> int:
        """How many requests are logged so far: pass it to requests(since=...) later.

        The registry logs a request just after answering it: poll (wait_for) before counting.
        """
        return len(self.requests())

    def image(self, repository: str, tag: str = "latest") -> str:
        """A full reference into this registry, e.g. 127.0.0.1:PORT/team/app:1.0."""
        return f"{self.host}/{repository}:{tag}"


def _rig(tmp: Path, **auth: str) -> Iterator[RegistryRig]:
    rig = RegistryRig(tmp, **auth).start()
    try:
        yield rig
    finally:
        rig.stop()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryRig]:
    """A registry without auth, shared by the session. Restart it if you stop it."""
    yield from _rig(tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="session")
def auth_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryRig]:
    """A registry with htpasswd auth (`.username`, `.password`), shared by the session."""
    yield from _rig(tmp_path_factory.mktemp("auth-registry"),
                    username="dockops", password=secrets.token_urlsafe(12))


@pytest.fixture(scope="session")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryRig]:
    """A registry with `auth: token` (`.token` is its TokenIssuer: user `dockops` with
    `.username/.password` may push; anonymous callers may pull), shared by the session."""
    root = tmp_path_factory.mktemp("token-registry")
    password = secrets.token_urlsafe(12)
    issuer = TokenIssuer(root, {"dockops": password})
    rig = RegistryRig(root, token=issuer)
    rig.username, rig.password = "dockops", password
    rig.start()
    try:
        yield rig
    finally:
        rig.stop()
        issuer.stop()


@pytest.fixture
def make_registry() -> Iterator[Callable[..., RegistryRig]]:
    """Start private registries (optionally with username=/password=); all stopped after the test."""
    made: list[RegistryRig] = []
    dirs: list[str] = []

    def make(**auth: str) -> RegistryRig:
        root = tempfile.mkdtemp(prefix="dockops-registry-")
        dirs.append(root)
        rig = RegistryRig(Path(root), **auth).start()
        made.append(rig)
        return rig

    yield make
    for rig in made:
        rig.stop()
    for root in dirs:
        shutil.rmtree(root, ignore_errors=True)
