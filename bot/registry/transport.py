"""How the engine reaches a registry, copied in its rules: HTTPS verified with the CAs and
client pair in /etc/docker/certs.d/HOST/, plain HTTP only for registries the daemon calls
insecure (127.0.0.0/8 by default, plus its `insecure-registries`).
"""

from __future__ import annotations

import ipaddress
import socket
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.refs import DOCKER_HUB

CERTS_DIR = Path("/etc/docker/certs.d")
HUB_API = "registry-1.docker.io"
LOOPBACK = "127.0.0.0/8"


def api_host(registry: str) -> str:
    """The host that serves a registry's /v2/ API: Docker Hub's is registry-1.docker.io."""
    return HUB_API if registry == DOCKER_HUB else registry


@dataclass(frozen=True)
class Insecure:
    """The daemon's insecure registries: CIDRs and host names (info's RegistryConfig)."""

    cidrs: tuple[str, ...] = (LOOPBACK,)
    names: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_info(cls, configs: Iterable[dict]) -> Insecure:
        """Union of several daemons' `RegistryConfig` (every host that may pull the image)."""
        cidrs: set[str] = {LOOPBACK}
        names: set[str] = set()
        for config in configs:
            cidrs.update(config.get("InsecureRegistryCIDRs") or ())
            names.update(name for name, index in (config.get("IndexConfigs") or {}).items()
                         if not (index or {}).get("Secure", True))
        return cls(tuple(sorted(cidrs)), frozenset(names))

    def allows_http(self, registry: str) -> bool:
        if registry in self.names:
            return True
        if registry == DOCKER_HUB:
            return False  # never plain HTTP, and no DNS lookup for it
        networks = [ipaddress.ip_network(cidr, strict=False) for cidr in self.cidrs]
        return any(address in network for address in _addresses(_hostname(registry))
                   for network in networks)


def _hostname(registry: str) -> str:
    if registry.startswith("["):
        return registry[1:registry.index("]")]
    return registry.rsplit(":", 1)[0] if registry.count(":") == 1 else registry


@lru_cache(maxsize=256)
def _addresses(host: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return ()
    return tuple({ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found})


@dataclass(frozen=True)
class TLS:
    """What requests needs for one registry: `verify` (True or a CA bundle) and `cert`."""

    verify: bool | str = True
    cert: tuple[str, str] | None = None


def tls_for(registry: str, certs_dir: Path = CERTS_DIR) -> TLS:
    """The engine's per-registry TLS files: every *.crt is a CA, NAME.cert + NAME.key a client
    pair. With no directory, the system's CAs."""
    folder = certs_dir / registry
    if not folder.is_dir():
        return TLS()
    cas = sorted(folder.glob("*.crt"))
    verify: bool | str = True
    if len(cas) == 1:
        verify = str(cas[0])
    elif cas:
        verify = _bundle(tuple(str(path) for path in cas))
    pairs = [(str(cert), str(cert.with_suffix(".key"))) for cert in sorted(folder.glob("*.cert"))
             if cert.with_suffix(".key").exists()]
    return TLS(verify, pairs[0] if pairs else None)


@lru_cache(maxsize=32)
def _bundle(paths: tuple[str, ...]) -> str:
    """Several CA files as one bundle (requests takes one path)."""
    with tempfile.NamedTemporaryFile("w", prefix="dockops-ca-", suffix=".pem",
                                     delete=False) as out:
        for path in paths:
            out.write(Path(path).read_text() + "\n")
    return out.name
