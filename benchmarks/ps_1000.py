"""`/docker ps -a` with 1,000 containers, end to end, against `docker ps -a` in the same run.

End to end = signed slash command in -> answer posted to response_url and the full table
uploaded as a file, through a real `dockops serve --http` and the Slack stand-in.
Run: .venv/bin/python -m benchmarks.ps_1000 [--count 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker

from tests.bot_rig import launch_bot
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn
from tests.support import BUSYBOX, unique

LABEL = "dockops.bench"


def create_containers(client: docker.DockerClient, count: int, run_id: str) -> None:
    def create(_: int) -> None:
        client.api.create_container(BUSYBOX, "true", name=unique("bench"),
                                    labels={LABEL: run_id})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(count)))


def remove_containers(client: docker.DockerClient, run_id: str) -> None:
    ids = [c["Id"] for c in client.api.containers(all=True, filters={"label": f"{LABEL}={run_id}"})]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: client.api.remove_container(i, force=True), ids))


def time_cli(rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(["docker", "ps", "-a"], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def time_bot(rounds: int) -> list[float]:
    times = []
    with SlackStandIn() as slack, tempfile.TemporaryDirectory() as workdir:
        bot = launch_bot(slack, Path(workdir), ACCESS)
        try:
            bot.ask("version")  # warm: first connection to the engine and to Slack
            for _ in range(rounds):
                uploads = len(slack.files)
                started = time.perf_counter()
                answer = bot.command("ps -a")
                bot.answers(answer, timeout=60)
                slack.wait_for(lambda n=uploads: len(slack.files) > n, timeout=60)
                times.append(time.perf_counter() - started)
        finally:
            bot.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    client = docker.from_env(timeout=120)
    run_id = unique("run")
    print(f"creating {args.count} labelled containers ...", flush=True)
    create_containers(client, args.count, run_id)
    try:
        total = len(client.api.containers(all=True))
        cli = time_cli(args.rounds)
        bot = time_bot(args.rounds)
    finally:
        remove_containers(client, run_id)
    cli_median, bot_median = statistics.median(cli), statistics.median(bot)
    print(f"containers on the engine: {total}")
    print(f"docker ps -a (CLI):              median {cli_median * 1000:7.1f} ms")
    print(f"/docker ps -a end to end (bot):  median {bot_median * 1000:7.1f} ms")
    print(f"ratio bot/CLI: {bot_median / cli_median:.2f}x (goal: under 1.5x)")


if __name__ == "__main__":
    main()
