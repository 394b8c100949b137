"""A `tcp://` host with TLS, for real: the second engine behind `--tlsverify`, our own CA."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import certifi
import docker
import pytest

from tests.engines_rig import (
    LABEL,
    LOCAL,
    TLS_PORT,
    Bot,
    SecondEngine,
    by_host,
    check_writes_reach,
    make_certs,
)


def tls_table(name: str, url: str, ca: Path, cert: Path | None = None,
              key: Path | None = None) -> str:
    lines = [f"[hosts.{name}]", f'url = "{url}"', f'tls_ca = "{ca}"']
    if cert and key:
        lines += [f'tls_cert = "{cert}"', f'tls_key = "{key}"']
    return "\n".join(lines) + "\n"


@pytest.fixture
def tls_bot(multi: Callable[[str], Bot], second_engine: SecondEngine, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Bot:
    """local, `secure` (TLS with a client certificate), `stranger` (a CA the engine never
    signed with) and `anonymous` (right CA, no client certificate)."""
    # Many machines set this; requests would let it replace the host's CA (it must not).
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    certs = second_engine.certs
    assert certs is not None
    other = make_certs(tmp_path / "other-ca", second_engine.address, name="someone-else")
    url = second_engine.tls_url
    toml = "\n".join([
        "[access]", 'console_role = "admin"', "",
        f'[hosts.local]\nurl = "{LOCAL}"\ndefault = true\n',
        tls_table("secure", url, certs.ca, certs.client_cert, certs.client_key),
        tls_table("stranger", url, other.ca, other.client_cert, other.client_key),
        tls_table("anonymous", url, certs.ca),
    ])
    return multi(toml)


def test_a_tls_host_lists_and_changes_the_engine_behind_it(
        tls_bot: Bot, second_engine: SecondEngine, docker_client: docker.DockerClient,
        make_remote_container) -> None:
    there = make_remote_container()
    outcome, sent = tls_bot.run(f"--host secure ps --filter label={LABEL}")
    assert outcome.ok, sent.text()
    assert there.name in sent.text()
    assert f"tcp://{second_engine.address}:{TLS_PORT}" == tls_bot.services.hosts.get("secure").url
    check_writes_reach(tls_bot, "secure", second_engine, docker_client)


def test_tls_failures_show_as_unreachable_with_the_reason(tls_bot: Bot,
                                                           make_remote_container) -> None:
    there = make_remote_container()
    _, sent = tls_bot.run(f"ps --host secure,stranger,anonymous --filter label={LABEL}")
    parts = by_host(sent.last)
    assert there.name in parts["secure"]
    assert "unreachable (TLS: certificate verify failed: unable to get local issuer " \
        "certificate)" in parts["stranger"]
    # The engine runs --tlsverify: without a client certificate it ends the handshake.
    assert "unreachable (TLS: " in parts["anonymous"] and there.name not in parts["anonymous"]
    outcome, sent = tls_bot.run("hosts")
    assert outcome.ok
    assert "Docker hosts: 2 of 4 reachable" in sent.text()
