"""Incidents: event-to-Slack-post latency, and a burst of 1,000 events across 100 containers.

Against a real `dockops serve` (HTTP mode) and the Slack stand-in, on the main engine, with a
rule that watches only this run's containers.

1. Latency: N containers, one at a time, print 50 lines and `exit 3`; each latency is the
   stand-in's receipt of the incident message minus the container's FinishedAt (the engine's
   clock: the die event), so it includes reading the event, inspect, digest, the 20 log
   lines, the store transaction and the outbox post.
2. Burst: 100 containers `exit 1` with `--restart on-failure:4` (5 deaths and 5 starts each:
   1,000 events). Checked: one incident per container, its counter equal to the deaths the
   engine reports, postMessage never above Slack's 1/s per channel (+ burst 3), chat.update
   within 50/min, and the bot's RSS before, at its peak and after.

Run: .venv/bin/python -m benchmarks.incidents [--latency 30] [--burst 100]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import docker

from tests.bot_rig import BotProcess, launch_bot
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, unique, wait_for

CHANNEL = "C0BENCH"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def config(label: str) -> str:
    return ACCESS + f"""
[[alerts]]
name = "bench"
channel = "{CHANNEL}"
containers = ["label:{label}"]
log_lines = 20
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def finished_at(client: docker.DockerClient, container_id: str) -> float:
    from bot.timeparse import from_docker

    moment = from_docker(client.api.inspect_container(container_id)["State"]["FinishedAt"])
    assert moment is not None
    return moment.timestamp()


def top_level(slack: SlackStandIn) -> dict[str, dict[str, Any]]:
    """Incident messages by container name."""
    found = {}
    for message in slack.messages(CHANNEL):
        if message.get("thread_ts", message["ts"]) != message["ts"]:
            continue
        named = re.search(r"\*Container\*\\n`([^`]+)`", json.dumps(message.get("blocks", [])))
        if named:
            found[named.group(1)] = message
    return found


def latency(bot: BotProcess, client: docker.DockerClient, label: str, count: int) -> list[float]:
    key, value = label.split("=")
    seconds = []
    for _ in range(count):
        name = unique("lat")
        container = client.containers.run(BUSYBOX, ["sh", "-c", "seq 1 50; exit 3"], name=name,
                                          labels={TEST_LABEL: RUN_ID, key: value}, detach=True)
        message = wait_for(lambda name=name: top_level(bot.slack).get(name), timeout=30,
                           what=f"the incident of {name}")
        seconds.append(float(message["ts"]) - finished_at(client, container.id))
        time.sleep(0.2)
    return seconds


def burst(bot: BotProcess, client: docker.DockerClient, label: str, count: int
          ) -> dict[str, Any]:
    key, value = label.split("=")
    peak = [rss_kib(bot.process.pid)]
    before = peak[0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            peak.append(rss_kib(bot.process.pid))

    threading.Thread(target=sample, daemon=True).start()
    started = time.time()
    # Counted live: the engine keeps only its last 256 events for a replay.
    stream = client.api.events(since=int(started) - 1, decode=True,
                               filters={"type": "container", "label": [label]})
    events: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: events.extend(stream), daemon=True)
    reader.start()
    ids = []
    for _ in range(count):
        container = client.containers.run(
            BUSYBOX, ["sh", "-c", "exit 1"], name=unique("burst"),
            labels={TEST_LABEL: RUN_ID, key: value}, detach=True,
            restart_policy={"Name": "on-failure", "MaximumRetryCount": 4})
        ids.append(container.id)

    def settled() -> bool:
        return all(client.api.inspect_container(i)["State"]["Status"] == "exited" and
                   client.api.inspect_container(i)["RestartCount"] == 4 for i in ids)

    wait_for(settled, timeout=300, interval=1, what="every burst container to give up")
    engine_seconds = time.time() - started
    time.sleep(1)
    stream.close()
    deaths: dict[str, int] = {}
    for event in events:
        if event.get("Action") == "die":
            name = event["Actor"]["Attributes"]["name"]
            deaths[name] = deaths.get(name, 0) + 1
    names = set(deaths)
    assert sum(deaths.values()) == 5 * count, sum(deaths.values())

    def drained() -> bool:
        found = top_level(bot.slack)
        return names <= set(found) and all(
            f"*Occurrences*\\n{deaths[n]}" in json.dumps(found[n].get("blocks", []))
            for n in names)

    wait_for(drained, timeout=900, interval=1, what="every incident and its last count")
    drain_seconds = time.time() - started
    done.set()
    posts = [c.time for c in bot.slack.calls_to("chat.postMessage")
             if c.params.get("channel") == CHANNEL and c.time >= started]
    updates = [c.time for c in bot.slack.calls_to("chat.update") if c.time >= started]
    found = top_level(bot.slack)
    for container_id in ids:
        client.api.remove_container(container_id, force=True)
    return {
        "containers": count, "engine_events": len(events),
        "deaths": sum(deaths.values()), "engine_seconds": round(engine_seconds, 1),
        "incidents": len([n for n in found if n in names]),
        "counts_match": drained(),
        "posts": len(posts), "max_posts_in_any_1s": _max_in(posts, 1.0),
        "max_posts_in_any_10s": _max_in(posts, 10.0),
        "updates": len(updates), "max_updates_in_any_60s": _max_in(updates, 60.0),
        "drained_seconds": round(drain_seconds, 1),
        "rss_mib_before": round(before / 1024, 1), "rss_mib_peak": round(max(peak) / 1024, 1),
        "rss_mib_after": round(rss_kib(bot.process.pid) / 1024, 1),
    }


def _max_in(times: list[float], window: float) -> int:
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=int, default=30)
    parser.add_argument("--burst", type=int, default=100)
    args = parser.parse_args(argv)
    client = docker.from_env()
    label = f"dockops.bench.incidents={unique('b')}"
    with SlackStandIn() as slack, tempfile.TemporaryDirectory() as workdir:
        bot = launch_bot(slack, Path(workdir), config(label))
        try:
            wait_for(lambda: "following container events" in bot.log(), timeout=15,
                     what="the followers")
            result: dict[str, Any] = {}
            if args.latency:
                seconds = latency(bot, client, label, args.latency)
                result["latency"] = {"n": len(seconds),
                                     "p50_s": round(statistics.median(seconds), 3),
                                     "p99_s": round(percentile(seconds, 99), 3),
                                     "max_s": round(max(seconds), 3)}
                print(json.dumps(result["latency"]), flush=True)
            if args.burst:
                result["burst"] = burst(bot, client, label, args.burst)
                print(json.dumps(result["burst"]), flush=True)
        finally:
            bot.stop()
            for item in client.api.containers(all=True, filters={"label": label}):
                client.api.remove_container(item["Id"], force=True)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
