"""The console: destructive commands preview, then ask y/N on a terminal, take --yes, or refuse."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from bot.console import Console
from bot.services import Services
from bot.store import Store
from tests.confirm_support import rm_command  # noqa: F401  (rm_command: a fixture)
from tests.conftest import ACCESS, ROOT
from tests.support import container_exists

Make = Callable[..., docker.models.containers.Container]


class Terminal(io.StringIO):
    """Typed answers, on what claims to be a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def stopped(make_container: Make) -> docker.models.containers.Container:
    return make_container("true", start=False)


def console(services: Services, stdin: io.StringIO, *, yes: bool = False) -> tuple[Console,
                                                                                  io.StringIO]:
    out = io.StringIO()
    return Console(services, assume_yes=yes, out=out, stdin=stdin), out


@pytest.mark.usefixtures("rm_command")
@pytest.mark.parametrize("answer", ["y\n", "yes\n", "Y\n"])
def test_a_terminal_yes_confirms(services: Services, stopped, docker_client,
                                 answer: str) -> None:
    shell, out = console(services, Terminal(answer))
    outcome = shell.run_one(f"rm {stopped.name}")
    assert outcome.ok, out.getvalue()
    assert "Proceed? [y/N]" in out.getvalue()
    assert "[Confirm]" not in out.getvalue()  # no buttons in a terminal
    assert not container_exists(docker_client, stopped.id)


@pytest.mark.usefixtures("rm_command")
@pytest.mark.parametrize("answer", ["n\n", "\n", "", "maybe\n"])
def test_anything_but_yes_cancels(services: Services, stopped, docker_client,
                                  answer: str) -> None:
    shell, out = console(services, Terminal(answer))
    outcome = shell.run_one(f"rm {stopped.name}")
    assert outcome.result == "cancelled" and not outcome.ok
    assert f"Cancelled by {shell.actor.display}: docker rm {stopped.name} was not run." \
        in out.getvalue()
    assert container_exists(docker_client, stopped.id)


@pytest.mark.usefixtures("rm_command")
def test_yes_flag_confirms_without_asking(services: Services, stopped, docker_client) -> None:
    shell, out = console(services, io.StringIO(""), yes=True)
    assert shell.run_one(f"rm {stopped.name}").ok
    assert "Proceed?" not in out.getvalue()
    assert not container_exists(docker_client, stopped.id)


@pytest.mark.usefixtures("rm_command")
def test_without_a_terminal_or_yes_it_refuses_and_says_to_add_yes(services: Services, stopped,
                                                                   docker_client) -> None:
    shell, out = console(services, io.StringIO("y\n"))  # piped input is not an answer
    outcome = shell.run_one(f"rm {stopped.name}")
    assert outcome.result == "refused"
    text = out.getvalue()
    assert "no terminal to ask on" in text and "--yes" in text
    assert f"dockops console --yes -c 'rm {stopped.name}'" in text
    assert "Proceed?" not in text
    assert container_exists(docker_client, stopped.id)
    pending = shell.pipeline.confirmations.get(outcome.token)
    assert pending is not None and pending.state == "cancelled"


def test_commands_that_destroy_nothing_never_ask(services: Services) -> None:
    shell, out = console(services, Terminal(""))
    assert shell.run_one("version").ok
    assert "Proceed?" not in out.getvalue()


@pytest.mark.usefixtures("rm_command")
def test_a_piped_script_refuses_destructive_lines_and_runs_the_rest(services: Services, stopped,
                                                                     docker_client) -> None:
    shell, out = console(services, io.StringIO(f"version\nrm {stopped.name}\nversion\n"))
    assert shell.repl() == 1  # one line failed
    assert "--yes" in out.getvalue()
    assert container_exists(docker_client, stopped.id)


# -- the real command line -----------------------------------------------------------------

def dockops(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "dockops.toml"
    config.write_text(ACCESS)
    env = {**os.environ, "DOCKOPS_CONFIG": str(config), "DOCKOPS_DATA_DIR": str(tmp_path / "data")}
    env.pop("SLACK_BOT_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def test_console_c_without_a_terminal_refuses(tmp_path: Path, stopped, docker_client) -> None:
    done = dockops(tmp_path, "console", "-c", f"rm {stopped.name}")
    assert done.returncode == 1, done.stderr
    assert "--yes" in done.stdout and "nothing was done" in done.stdout
    assert container_exists(docker_client, stopped.id)
    store = Store(tmp_path / "data")
    try:
        outcomes = [row.outcome for row in reversed(store.audit_rows())]
    finally:
        store.close()
    assert outcomes == ["preview", "cancelled"]


def test_console_yes_c_confirms(tmp_path: Path, stopped, docker_client) -> None:
    from bot.handlers import HANDLERS

    if "rm" not in HANDLERS:
        pytest.skip("this build has no `rm` handler yet (the lifecycle commands land it)")
    done = dockops(tmp_path, "console", "--yes", "-c", f"rm {stopped.name}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not container_exists(docker_client, stopped.id)
