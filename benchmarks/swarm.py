"""Swarm: `service ls` with 200 services vs `docker service ls`, and `service update` until
"converged" vs `docker service update` (which waits for convergence too), in the same run.

The Swarm is the test rig's (tests/swarm_rig.py): a private dockerd in its own network
namespace, never the main engine (needs root). The bot side runs through the real pipeline in
process (parse, gate, audit, engine, view), as the console does; the CLI side is the docker
binary against the same socket, process start included.
Run: .venv/bin/python -m benchmarks.swarm [--services 200] [--rounds 5] [--updates 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker

from bot.config import EnvSettings, Settings, parse_file
from bot.services import Services
from tests.conftest import ACCESS
from tests.engines_rig import SecondEngine
from tests.support import Runner
from tests.swarm_rig import SwarmRig


def create_services(rig: SwarmRig, count: int) -> None:
    """`count` services with no tasks (replicas 0): the list costs the same, the CPU is spared."""
    def create(number: int) -> None:
        client = rig.client()
        task = docker.types.TaskTemplate(
            container_spec=docker.types.ContainerSpec(image=rig.images["v1"]))
        client.api.create_service(task, name=f"bench-{number:03d}",
                                  mode=docker.types.ServiceMode("replicated", replicas=0))
        client.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(count)))


def time_cli(rig: SwarmRig, rounds: int, *args: str) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        rig.cli(*args)
        times.append(time.perf_counter() - started)
    return times


def time_bot(bot: Runner, rounds: int, text: str) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        outcome, sent = bot(text)
        times.append(time.perf_counter() - started)
        assert outcome.ok, sent.text()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--updates", type=int, default=3)
    args = parser.parse_args()
    rig = SwarmRig(SecondEngine.create())
    with tempfile.TemporaryDirectory() as workdir:
        try:
            rig.start(docker.from_env(timeout=120))
            print(f"creating {args.services} services ...", flush=True)
            create_services(rig, args.services)
            settings = Settings(EnvSettings(dockops_data_dir=str(Path(workdir) / "data"),
                                            slack_api_url="http://127.0.0.1:9/api/"),
                                parse_file(ACCESS + rig.toml()), None)
            bot = Runner(Services.build(settings))
            bot("service ls")  # warm: the first connection to the engine
            listed = len(rig.cli("service", "ls", "-q").stdout.split())
            cli_ls = time_cli(rig, args.rounds, "service", "ls")
            bot_ls = time_bot(bot, args.rounds, "service ls")

            name = rig.make_service(rig.images["v1"], replicas=2, monitor_seconds=1.0)
            rig.wait_running(name, 2)
            cli_up: list[float] = []
            bot_up: list[float] = []
            for _ in range(args.updates):  # v1 -> v2 by the bot, back to v1 by the CLI
                bot_up += time_bot(bot, 1, f"service update --image {rig.images['v2']} {name}")
                started = time.perf_counter()
                rig.cli("service", "update", "--image", rig.images["v1"], name)
                cli_up.append(time.perf_counter() - started)
            bot.close()
        finally:
            rig.stop()
    cli_median, bot_median = statistics.median(cli_ls), statistics.median(bot_ls)
    print(f"services listed: {listed}")
    print(f"docker service ls (CLI):        median {cli_median * 1000:7.1f} ms")
    print(f"/docker service ls (pipeline):  median {bot_median * 1000:7.1f} ms")
    print(f"ratio bot/CLI: {bot_median / cli_median:.2f}x (goal: at most 1.2x)")
    print(f"docker service update (CLI, waits for convergence):  median "
          f"{statistics.median(cli_up):5.1f} s  {[round(t, 1) for t in cli_up]}")
    print(f"/docker service update until 'converged' (pipeline): median "
          f"{statistics.median(bot_up):5.1f} s  {[round(t, 1) for t in bot_up]}")
    print("(2 replicas, update_config parallelism 1, monitor 1 s, stop-first)")


if __name__ == "__main__":
    main()
