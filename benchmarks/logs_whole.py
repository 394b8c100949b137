"""`/docker logs NAME` (no --tail: last lines inline, the whole log as a file) on a container
with a big log, vs `docker logs NAME > /dev/null`.

Prints the end-to-end time (request in -> file completed at the Slack stand-in), the ratio to
the CLI, and the bot's peak RSS growth while answering (VmHWM, reset through clear_refs):
the log goes engine -> temporary file -> upload in pieces, never whole into memory.
Run: .venv/bin/python -m benchmarks.logs_whole [--mib 100] [--rounds 2]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import docker

from benchmarks.logs_1gib import LINE, status_kib
from tests.bot_rig import launch_bot
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn
from tests.support import BUSYBOX, unique


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    client = docker.from_env(timeout=600)
    name = unique("wholelog")
    size = args.mib * 1024 * 1024
    container = client.containers.run(
        BUSYBOX, ["sh", "-c", f"yes {LINE} | head -c {size}; echo last-line; sleep 3600"],
        name=name, detach=True, labels={"dockops.bench": name})
    try:
        while b"last-line" not in container.logs(tail=1):
            time.sleep(0.5)
        cli = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            subprocess.run(["docker", "logs", name], check=True, stdout=subprocess.DEVNULL)
            cli.append(time.perf_counter() - t)
        bot_times = []
        with SlackStandIn() as slack, tempfile.TemporaryDirectory() as workdir:
            bot = launch_bot(slack, Path(workdir), ACCESS)
            try:
                bot.ask("version")
                pid = bot.process.pid
                before = status_kib(pid, "VmRSS")
                Path(f"/proc/{pid}/clear_refs").write_text("5")
                for round_ in range(args.rounds):
                    t = time.perf_counter()
                    bot.ask(f"logs {name}")
                    slack.wait_for(lambda n=round_: len(slack.files) > n, timeout=600,
                                   message="the whole log as a file")
                    bot_times.append(time.perf_counter() - t)
                    assert slack.files[-1].data.endswith(b"last-line\n")
                peak = status_kib(pid, "VmHWM")
            finally:
                bot.stop()
    finally:
        container.remove(force=True)
    cli_m, bot_m = statistics.median(cli), statistics.median(bot_times)
    print(f"docker logs (CLI, {args.mib} MiB):            median {cli_m:6.1f} s")
    print(f"/docker logs, end to end incl. the upload: median {bot_m:6.1f} s")
    print(f"ratio bot/CLI: {bot_m / cli_m:.2f}x; bot peak RSS growth "
          f"{(peak - before) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
