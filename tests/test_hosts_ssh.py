"""An `ssh://` host for real: Debian's sshd in the second engine's namespace, our own keys.

docker-py (use_ssh_client=True) runs `ssh -p PORT -l root ADDR -- docker system dial-stdio`;
sshd there sets DOCKER_HOST to the second engine's socket, as a remote host's own engine.
The bot user's ssh settings (key, known_hosts) come from a `ssh` wrapper first on PATH, as
~/.ssh/config would give them to a deployed bot.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

import docker
import pytest

from tests.engines_rig import (
    LABEL,
    LOCAL,
    Bot,
    SecondEngine,
    SshAccess,
    by_host,
    check_writes_reach,
    write_ssh_wrapper,
)
from tests.support import unique


@pytest.fixture
def ssh_bot(multi: Callable[[str], Bot], ssh_access: SshAccess,
            monkeypatch: pytest.MonkeyPatch) -> Bot:
    monkeypatch.setenv("PATH", f"{ssh_access.bin_dir}:{os.environ['PATH']}")
    return multi(f'[access]\nconsole_role = "admin"\n\n[hosts.local]\nurl = "{LOCAL}"\n'
                 f'default = true\n\n[hosts.remote]\nurl = "{ssh_access.url}"\ntimeout = 10\n')


def test_an_ssh_host_lists_and_changes_the_engine_behind_it(
        ssh_bot: Bot, second_engine: SecondEngine, docker_client: docker.DockerClient,
        make_remote_container) -> None:
    there = make_remote_container()
    outcome, sent = ssh_bot.run(f"ps --host local,remote --filter label={LABEL}")
    assert outcome.ok, sent.text()
    parts = by_host(sent.last)
    assert there.name in parts["remote"] and there.name not in parts["local"]
    check_writes_reach(ssh_bot, "remote", second_engine, docker_client)
    outcome, sent = ssh_bot.run("hosts")
    assert "Docker hosts: 2 of 2 reachable" in sent.text()


def test_an_ssh_key_the_host_does_not_know_shows_as_unreachable(
        multi: Callable[[str], Bot], ssh_access: SshAccess,
        monkeypatch: pytest.MonkeyPatch) -> None:
    stranger_key = ssh_access.directory / f"stranger_key_{unique('k')}"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger_key)],
                   check=True)
    bin_dir = write_ssh_wrapper(ssh_access.directory, stranger_key)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    bot = multi(f'[access]\nconsole_role = "admin"\n\n[hosts.local]\nurl = "{LOCAL}"\n'
                f'\n[hosts.remote]\nurl = "{ssh_access.url}"\ntimeout = 10\n')
    outcome, sent = bot.run("ps --host all")
    parts = by_host(sent.last)
    assert "unreachable (ssh ended the connection: check the key, known_hosts and that " \
           "`docker` runs there)" in parts["remote"]
    assert "CONTAINER ID" in parts["local"] or "No running containers" in parts["local"]
    assert outcome.result == "error"
