"""`/docker logs --tail 200` on a container with a 1 GiB log, vs `docker logs --tail 200`.

Prints the end-to-end time ratio (request in -> answer posted) and the bot's peak RSS growth
while answering (VmHWM, reset before the requests through /proc/PID/clear_refs).
Run: .venv/bin/python -m benchmarks.logs_1gib [--mib 1024] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import docker

from tests.bot_rig import launch_bot
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn
from tests.support import BUSYBOX, unique

LINE = "x" * 99  # 100 bytes a line with the newline


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    client = docker.from_env(timeout=600)
    name = unique("biglog")
    size = args.mib * 1024 * 1024
    print(f"writing a {args.mib} MiB log ...", flush=True)
    started = time.perf_counter()
    container = client.containers.run(
        BUSYBOX, ["sh", "-c", f"yes {LINE} | head -c {size}; echo last-line; sleep 3600"],
        name=name, detach=True, labels={"dockops.bench": name})
    try:
        log_path = Path(client.api.inspect_container(container.id)["LogPath"])
        while b"last-line" not in container.logs(tail=1):
            time.sleep(0.5)
        print(f"log written in {time.perf_counter() - started:.0f} s; json-file on disk: "
              f"{log_path.stat().st_size / 2**30:.2f} GiB", flush=True)
        cli = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            subprocess.run(["docker", "logs", "--tail", "200", name], check=True,
                           capture_output=True)
            cli.append(time.perf_counter() - t)
        bot_times = []
        with SlackStandIn() as slack, tempfile.TemporaryDirectory() as workdir:
            bot = launch_bot(slack, Path(workdir), ACCESS)
            try:
                bot.ask("version")
                pid = bot.process.pid
                before = status_kib(pid, "VmRSS")
                Path(f"/proc/{pid}/clear_refs").write_text("5")
                for _ in range(args.rounds):
                    t = time.perf_counter()
                    body = bot.ask(f"logs --tail 200 {name}")
                    bot_times.append(time.perf_counter() - t)
                    assert "last-line" in str(body), body
                peak = status_kib(pid, "VmHWM")
            finally:
                bot.stop()
    finally:
        container.remove(force=True)
    cli_m, bot_m = statistics.median(cli), statistics.median(bot_times)
    print(f"docker logs --tail 200 (CLI):           median {cli_m * 1000:7.1f} ms")
    print(f"/docker logs --tail 200 end to end:     median {bot_m * 1000:7.1f} ms")
    print(f"ratio bot/CLI: {bot_m / cli_m:.2f}x (goal: under 1.5x)")
    print(f"bot peak RSS growth while answering: {(peak - before) / 1024:.1f} MiB (goal: under 50 MB)")


if __name__ == "__main__":
    main()
