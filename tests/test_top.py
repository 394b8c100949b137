"""`top`: the container's processes, as `docker top` prints them (the CLI is the oracle)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import docker

from tests.lifecycle_rig import Run
from tests.support import unique

Make = Callable[..., docker.models.containers.Container]


def cli_top(container: str, *options: str) -> str:
    return subprocess.run(["docker", "top", container, *options], capture_output=True,
                          text=True, check=True, timeout=30).stdout


def test_top_prints_what_docker_top_prints_byte_for_byte(run_command: Run,
                                                         make_container: Make) -> None:
    web = make_container(["sh", "-c", "sleep 300 & sleep 301"], name=unique("top"))
    outcome, sent = run_command(f"top {web.name} -o pid,args", user="U0VIEW", source="slack")
    assert outcome.ok, sent.text()
    [code] = [b["text"]["text"] for b in sent.last.blocks
              if b.get("text", {}).get("text", "").startswith("```")]
    # A code block holds the CLI's output exactly (Slack drops only the final newline).
    assert code == f"```{cli_top(web.name, '-o', 'pid,args').rstrip(chr(10))}```"


def test_top_with_the_engines_default_columns_lists_the_same_processes(
        run_command: Run, make_container: Make) -> None:
    web = make_container(["sh", "-c", "sleep 300 & sleep 301"], name=unique("top"))
    outcome, sent = run_command(f"top {web.name}")
    assert outcome.ok
    expected = cli_top(web.name).splitlines()
    shown = str(sent.last.blocks)
    assert expected[0] in shown  # UID PID PPID C STIME TTY TIME CMD, aligned as the CLI
    for line in expected[1:]:  # the CPU column moves between calls: compare the PIDs
        assert line.split()[1] in shown
    assert "3 processes" in sent.text() or "2 processes" in sent.text()


def test_top_refuses_words_that_are_not_ps_options_and_asks_nothing(
        run_command: Run, make_container: Make) -> None:
    web = make_container(name=unique("top"))
    outcome, sent = run_command(f"top {web.name} -o 'pid;reboot'")
    assert not outcome.ok and "is not a ps option" in sent.text()


def test_top_of_a_stopped_container_says_so(run_command: Run, make_container: Make) -> None:
    job = make_container(name=unique("top"), start=False)
    outcome, sent = run_command(f"top {job.name}")
    assert not outcome.ok and "is not running" in sent.text().lower()
