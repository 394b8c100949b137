"""A second real Docker Engine for multi-host tests, in its own network namespace.

Recipe from ENGINE-NOTES.md: `ip netns add`, then `nsenter --net=... dockerd` with its own
data-root, exec-root, pidfile and unix socket (never `--bridge none` beside the first
engine, never `ip netns exec ... dockerd`). A veth pair with link-local addresses we pick
(169.254.X.Y/30) joins the namespace to the host, so the same engine is also reachable as
`tcp://ADDR:2376` with TLS (certificates made here) and, with Debian's sshd started in the
namespace, as `ssh://root@ADDR:2222`. Everything is torn down even when a test fails.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import docker
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bot.views.message import Message
from tests.dockerd_files import DockerdFiles
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, RecordingResponder, Runner, unique, wait_for

TLS_PORT = 2376
SSH_PORT = 2222


def _run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=check, capture_output=True, text=True)


# -- certificates ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Certs:
    """A CA and the PEM files signed by it: the daemon's (for ADDR) and a client's."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _write_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return key


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
                 issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool = False,
                 usage: x509.ObjectIdentifier | None = None, ip: str = "") -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                          content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, encipher_only=False,
                          decipher_only=False), critical=True)
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_certs(directory: Path, server_ip: str, name: str = "dockops-test-ca") -> Certs:
    """A fresh CA, a server certificate for `server_ip` and a client certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    pem = serialization.Encoding.PEM
    ca_key = _write_key(directory / "ca-key.pem")
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    ca_cert = _certificate(name, ca_key, ca_name, ca_key, ca=True)
    (directory / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    for role, usage, ip in (("server", ExtendedKeyUsageOID.SERVER_AUTH, server_ip),
                            ("client", ExtendedKeyUsageOID.CLIENT_AUTH, "")):
        key = _write_key(directory / f"{role}-key.pem")
        cert = _certificate(f"dockops-test-{role}", key, ca_name, ca_key, usage=usage, ip=ip)
        (directory / f"{role}-cert.pem").write_bytes(cert.public_bytes(pem))
    return Certs(directory / "ca.pem", directory / "server-cert.pem",
                 directory / "server-key.pem", directory / "client-cert.pem",
                 directory / "client-key.pem")


# -- the second engine -------------------------------------------------------------------------

def _free_link_local_net() -> tuple[str, str]:
    """A /30 in 169.254.0.0/16 that no interface here uses: (host address, namespace address)."""
    used = _run("ip", "-o", "-4", "addr", "show").stdout
    for _ in range(200):
        base = f"169.254.{random.randint(1, 254)}.{random.randrange(0, 256, 4)}"
        prefix = base.rsplit(".", 1)[0] + "."
        if prefix not in used:
            last = int(base.rsplit(".", 1)[1])
            return f"{prefix}{last + 1}", f"{prefix}{last + 2}"
    raise RuntimeError("no free 169.254.X.Y/30 for the test namespace")


@dataclass
class SecondEngine(DockerdFiles):
    """A dockerd in network namespace `netns`, at `socket_url` and at `tls_url` (TLS)."""

    directory: Path
    netns: str
    host_veth: str
    host_address: str = ""
    address: str = ""
    certs: Certs | None = None
    dockerd: subprocess.Popen[bytes] | None = None
    sshd: subprocess.Popen[bytes] | None = None
    started_seconds: float = 0.0
    _steps: list[str] = field(default_factory=list)

    @classmethod
    def create(cls) -> SecondEngine:
        # A short directory: containerd's sockets under exec-root must fit in 108 bytes.
        tag = uuid.uuid4().hex[:6]
        directory = Path(tempfile.mkdtemp(prefix=f"dk7-{tag}-", dir="/tmp"))
        return cls(directory, f"dockops-{RUN_ID}-{tag}", f"dk7{tag}h")

    @property
    def tls_url(self) -> str:
        return f"tcp://{self.address}:{TLS_PORT}"

    def in_netns(self, *command: str) -> list[str]:
        return ["nsenter", f"--net=/var/run/netns/{self.netns}", *command]

    def start(self) -> None:
        """Namespace, veth, certificates, dockerd (unix + TLS tcp); waits until it answers."""
        started = time.monotonic()
        self.host_address, self.address = _free_link_local_net()
        ns_veth = self.host_veth[:-1] + "n"
        _run("ip", "netns", "add", self.netns)
        self._steps.append("netns")
        _run("ip", "-n", self.netns, "link", "set", "lo", "up")
        _run("ip", "link", "add", self.host_veth, "type", "veth", "peer", "name", ns_veth)
        self._steps.append("veth")
        _run("ip", "link", "set", ns_veth, "netns", self.netns)
        _run("ip", "addr", "add", f"{self.host_address}/30", "dev", self.host_veth)
        _run("ip", "link", "set", self.host_veth, "up")
        _run("ip", "-n", self.netns, "addr", "add", f"{self.address}/30", "dev", ns_veth)
        _run("ip", "-n", self.netns, "link", "set", ns_veth, "up")
        self.certs = make_certs(self.directory / "tls", self.address)
        with self.log_path.open("wb") as log:
            self.dockerd = subprocess.Popen(
                self.in_netns(
                    "dockerd", "--data-root", str(self.directory / "data"),
                    "--exec-root", str(self.directory / "exec"),
                    "--pidfile", str(self.directory / "dockerd.pid"),
                    "-H", self.socket_url, "-H", self.tls_url,
                    "--tlsverify", "--tlscacert", str(self.certs.ca),
                    "--tlscert", str(self.certs.server_cert),
                    "--tlskey", str(self.certs.server_key)),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        wait_for(self._answers, timeout=60, what=f"the second dockerd ({self.log_path})")
        self.started_seconds = time.monotonic() - started

    def _answers(self) -> bool:
        assert self.dockerd is not None
        if self.dockerd.poll() is not None:
            raise AssertionError(f"the second dockerd exited with {self.dockerd.returncode}:\n"
                                 + self.log_path.read_text(errors="replace")[-3000:])
        if not self.socket_path.exists():
            return False
        try:
            with contextlib.closing(self.client(timeout=2)) as client:
                return bool(client.ping())
        except (docker.errors.DockerException, OSError):
            return False

    def load_image(self, source: docker.DockerClient, image: str = BUSYBOX) -> None:
        """`docker save | docker -H unix://... load`, through the two engines' APIs."""
        data = b"".join(source.images.get(image).save(named=True))
        with contextlib.closing(self.client()) as client:
            client.images.load(data)

    def start_sshd(self) -> SshAccess:
        """Debian's sshd inside the namespace; `docker system dial-stdio` there reaches us."""
        sshd = ensure_sshd()
        ssh_dir = self.directory / "ssh"
        ssh_dir.mkdir(mode=0o700)
        for key in ("host_key", "client_key"):
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh_dir / key))
        (ssh_dir / "authorized_keys").write_text((ssh_dir / "client_key.pub").read_text())
        config = ssh_dir / "sshd_config"
        config.write_text("\n".join([
            f"ListenAddress {self.address}:{SSH_PORT}",
            f"HostKey {ssh_dir / 'host_key'}",
            f"PidFile {ssh_dir / 'sshd.pid'}",
            f"AuthorizedKeysFile {ssh_dir / 'authorized_keys'}",
            "PermitRootLogin prohibit-password", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no", "PrintMotd no",
            # The remote `docker system dial-stdio` finds this engine, as DOCKER_HOST would.
            f"SetEnv DOCKER_HOST={self.socket_url}", ""]))
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        log = (self.directory / "sshd.log").open("wb")
        self.sshd = subprocess.Popen(self.in_netns(sshd, "-D", "-e", "-f", str(config)),
                                     stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        wait_for(lambda: self._ssh_listening(), timeout=20, what="sshd in the namespace")
        host_key = (ssh_dir / "host_key.pub").read_text().split()
        (ssh_dir / "known_hosts").write_text(f"[{self.address}]:{SSH_PORT} {host_key[0]} "
                                             f"{host_key[1]}\n")
        return SshAccess(f"ssh://root@{self.address}:{SSH_PORT}",
                         write_ssh_wrapper(ssh_dir, ssh_dir / "client_key"), ssh_dir)

    def _ssh_listening(self) -> bool:
        assert self.sshd is not None
        if self.sshd.poll() is not None:
            raise AssertionError("sshd exited:\n" + (self.directory / "sshd.log").read_text())
        with contextlib.suppress(OSError), socket.create_connection((self.address, SSH_PORT), 1):
            return True
        return False

    def stop(self) -> None:
        """Tear everything down, whatever state start() reached. Safe to call twice."""
        if self.dockerd is not None and self.dockerd.poll() is None:
            with contextlib.suppress(docker.errors.DockerException, OSError), \
                    contextlib.closing(self.client(timeout=10)) as client:
                for item in client.api.containers(all=True):  # all ours: the engine is ours
                    client.api.remove_container(item["Id"], force=True)
        for process in (self.sshd, self.dockerd):
            _end(process)
        self._kill_leftovers()
        for mount in _mounts_under(self.directory):
            _run("umount", "-l", mount, check=False)
        if "veth" in self._steps:
            _run("ip", "link", "del", self.host_veth, check=False)
        if "netns" in self._steps:
            _run("ip", "netns", "del", self.netns, check=False)
        self._steps.clear()
        shutil.rmtree(self.directory, ignore_errors=True)


def _end(process: subprocess.Popen[bytes] | None, grace: float = 20) -> None:
    """SIGTERM, then SIGKILL to the process group (containerd goes with dockerd)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def _mounts_under(directory: Path) -> list[str]:
    prefix = str(directory) + "/"
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    return sorted((m for m in mounts if m.startswith(prefix)), key=len, reverse=True)


# -- ssh --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SshAccess:
    """How to reach the second engine over ssh: the URL, and the PATH that finds our ssh."""

    url: str
    bin_dir: Path
    directory: Path


def ensure_sshd() -> str:
    """The sshd binary; Debian's openssh-server is installed when missing (services stay off)."""
    found = shutil.which("sshd") or ("/usr/sbin/sshd" if Path("/usr/sbin/sshd").exists() else "")
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
               "-o", "DPkg::Lock::Timeout=120", "openssh-server"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        done = subprocess.run(install, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            pytest.fail(f"cannot install openssh-server for the ssh:// test: {done.stderr[-800:]}")
    return shutil.which("sshd") or "/usr/sbin/sshd"


def write_ssh_wrapper(directory: Path, key: Path) -> Path:
    """A `bin/ssh` that runs the real ssh with our key and known_hosts (docker-py runs `ssh`).

    A deployed bot gets the same from the bot user's ~/.ssh/config.
    """
    config = directory / f"config-{key.name}"
    config.write_text("\n".join([
        "Host *", f"  IdentityFile {key}", "  IdentitiesOnly yes",
        f"  UserKnownHostsFile {directory / 'known_hosts'}", "  StrictHostKeyChecking yes",
        "  BatchMode yes", "  ConnectTimeout 5", "  LogLevel ERROR", ""]))
    bin_dir = directory / f"bin-{key.name}"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {config} "$@"\n')
    wrapper.chmod(0o755)
    return bin_dir


# -- a host that accepts and never answers ------------------------------------------------------

class SilentListener:
    """A TCP port that accepts connections and never says a word (a hung engine)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.held.append(self.sock.accept()[0])

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def closed_port_url() -> str:
    """A tcp:// URL on loopback where nobody listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{sock.getsockname()[1]}"


# -- a bot over several hosts, and reading its grouped answers ---------------------------------

LABEL = f"{TEST_LABEL}={RUN_ID}"
SILENT_TIMEOUT = 2
DEAD = "unix:///nonexistent-dockops.sock"
LOCAL = "unix:///var/run/docker.sock"
_HEADER = re.compile(r"^:(large_green_circle|red_circle|warning): \*([^*]+)\*")


Bot = Runner  # a pipeline over one hosts config: `bot.run(text)` as console admin or a Slack user


def hosts_toml(*, default: str = "", extra: str = "", **urls: str) -> str:
    """`[hosts.NAME] url = ...` tables (NAME=URL keywords), with the test roles."""
    tables = []
    for name, url in urls.items():
        lines = [f"[hosts.{name}]", f'url = "{url}"']
        if name == "silent":
            lines.append(f"timeout = {SILENT_TIMEOUT}")
        if name == default:
            lines.append("default = true")
        tables.append("\n".join(lines))
    from tests.conftest import ACCESS

    return ACCESS + "\n" + "\n\n".join(tables) + "\n" + extra


@pytest.fixture
def multi(make_pipeline: Callable[..., Bot]) -> Callable[[str], Bot]:
    """Build a bot for a hosts config (TOML with the test roles, as hosts_toml writes it)."""
    return lambda toml: make_pipeline(toml, access="")


def by_host(message: Message) -> dict[str, str]:
    """A grouped answer's text per host: each host's header line and the blocks under it."""
    parts: dict[str, list[str]] = {}
    current = ""
    for block in message.blocks:
        text = block.get("text", {}).get("text", "") if block.get("type") == "section" else ""
        found = _HEADER.match(text)
        if found:
            current = found.group(2)
            parts[current] = [text]
        elif current:
            parts[current].append(json.dumps(block))
    return {host: "\n".join(lines) for host, lines in parts.items()}


def raw(sent: RecordingResponder) -> str:
    """Everything sent, as Slack gets it (mrkdwn with its backticks)."""
    return "\n".join(m.text + json.dumps(m.blocks) for m in sent.sent)


def engine_names(client: docker.DockerClient, **filters: str) -> set[str]:
    return {c["Names"][0].lstrip("/") for c in client.api.containers(all=True, filters=filters)}


def check_writes_reach(bot: Bot, host: str, engine: SecondEngine,
                       local: docker.DockerClient) -> None:
    """`--host HOST run -d` then `stop`: the container is made and stopped on the second
    engine only (HOST reaches it), never on the local one."""
    name = unique(host)
    remote = engine.client()
    try:
        outcome, sent = bot.run(f"--host {host} run -d --name {name} --label {LABEL} "
                                f"{BUSYBOX} sleep 300")
        assert outcome.ok, sent.text()
        assert engine_names(remote, name=name) == {name}
        assert engine_names(local, name=name) == set()
        outcome, sent = bot.run(f"-H {host} stop -t 0 {name}")
        assert outcome.ok, sent.text()
        assert remote.api.inspect_container(name)["State"]["Status"] == "exited"
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            remote.api.remove_container(name, force=True)
        remote.close()


# -- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def second_engine(docker_client: docker.DockerClient, busybox: str) -> Iterator[SecondEngine]:
    """A second dockerd in its own netns, with the busybox test image; torn down at the end."""
    engine = SecondEngine.create()
    try:
        engine.start()
        engine.load_image(docker_client, busybox)
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def ssh_access(second_engine: SecondEngine) -> SshAccess:
    """sshd in the second engine's namespace; its `docker` dials the second engine."""
    return second_engine.start_sshd()


@pytest.fixture(scope="session")
def silent_host() -> Iterator[SilentListener]:
    listener = SilentListener()
    yield listener
    listener.close()


@pytest.fixture
def make_remote_container(second_engine: SecondEngine
                          ) -> Iterator[Callable[..., docker.models.containers.Container]]:
    """Labelled busybox containers on the second engine; removed after the test."""
    client = second_engine.client()
    made: list[str] = []

    def make(command: str = "sleep 300", *, name: str | None = None
             ) -> docker.models.containers.Container:
        container = client.containers.run(BUSYBOX, command, name=name or unique("e2"),
                                          labels={TEST_LABEL: RUN_ID}, detach=True)
        made.append(container.id)
        return container

    yield make
    for container_id in made:
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_container(container_id, force=True)
    client.close()
