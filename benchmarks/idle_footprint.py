"""Idle footprint of `dockops serve --http` with the scheduler and 10 jobs loaded, and start-up
time to ready, against the same bot with no jobs (the ratio is the jobs' cost).

Ready = the bot logged "ready": HTTP serving, the scheduler started with its jobs synced
into the job store, the outbox drained. RSS is read from /proc after `--idle` seconds
without requests, and the CPU the bot used while idle beside it.
Run: .venv/bin/python -m benchmarks.idle_footprint [--rounds 3] [--idle 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bot_rig import launch_bot
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn
from tests.support import wait_for


def jobs_config(count: int) -> str:
    """`count` jobs, half prune (dry run) and half update, none due during the measurement."""
    jobs = []
    for index in range(count):
        common = (f'[[jobs]]\nname = "job-{index}"\nschedule = "{index} 3 1 1 *"\n'
                  'channel = "C0OPS"\n')
        if index % 2:
            jobs.append(common + 'type = "update"\ncontainers = "label:dockops.bench.watch"\n')
        else:
            jobs.append(common + 'type = "prune"\nall = true\ndry_run = true\n'
                        'labels = ["dockops.bench.never"]\n')
    return "\n".join(jobs)


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(slack: SlackStandIn, workdir: Path, jobs: int, idle: float) -> tuple[float, int, float]:
    """One bot: seconds from exec to ready, RSS (KiB) after `idle` s, CPU seconds while idle."""
    started = time.monotonic()
    bot = launch_bot(slack, workdir, ACCESS + jobs_config(jobs), name=f"bot-{jobs}-{started}")
    try:
        wait_for(lambda: " ready (" in bot.log(), timeout=30, interval=0.01,
                 what="the ready line in the bot's log")
        ready = time.monotonic() - started
        if jobs:
            assert f"scheduler started: {jobs} job(s)" in bot.log(), bot.log()
        pid = bot.process.pid
        cpu_before = cpu_seconds(pid)
        time.sleep(idle)
        return ready, status_kib(pid, "VmRSS"), cpu_seconds(pid) - cpu_before
    finally:
        bot.stop()


def bare_python_seconds() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=10)
    args = parser.parse_args()
    results: dict[int, list[tuple[float, int, float]]] = {args.jobs: [], 0: []}
    with SlackStandIn() as slack, tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for jobs in (args.jobs, 0) if round_ % 2 == 0 else (0, args.jobs):
                workdir = Path(tmp) / f"{jobs}-{round_}"
                workdir.mkdir()
                results[jobs].append(measure(slack, workdir, jobs, args.idle))
    python = statistics.median(bare_python_seconds() for _ in range(3))
    for jobs, rows in results.items():
        ready = statistics.median(r[0] for r in rows)
        rss = statistics.median(r[1] for r in rows) / 1024
        cpu = statistics.median(r[2] for r in rows)
        print(f"{jobs:2d} jobs: start-up to ready median {ready * 1000:6.0f} ms, idle RSS "
              f"{rss:5.1f} MiB, CPU while idle {cpu * 1000 / args.idle:4.1f} ms/s")
    loaded = [statistics.median(r[i] for r in results[args.jobs]) for i in (0, 1)]
    bare = [statistics.median(r[i] for r in results[0]) for i in (0, 1)]
    print(f"ratio {args.jobs} jobs / no jobs: start-up {loaded[0] / bare[0]:.2f}x, "
          f"RSS {loaded[1] / bare[1]:.2f}x  (`python -c pass` alone: {python * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
