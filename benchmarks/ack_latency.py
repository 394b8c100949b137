"""Ack latency under load: 200 signed slash commands, 50 at a time, against `dockops serve --http`.

Measures the time to HTTP 200 (Slack's 3 s budget) while the commands' real work (ps -a and
images on the engine, answers posted to the stand-in) runs behind. The load comes from a
separate process, so the stand-in's own work does not slow the clock. The floor printed
beside it is the same server answering a 404 under the same load: one HTTP round trip.
Run: .venv/bin/python -m benchmarks.ack_latency [--total 200] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.bot_rig import launch_bot
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn, form_body, signed_headers


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def fire(plan_path: str) -> None:
    """The load process: send every planned request, print each one's seconds to an answer."""
    plan = json.loads(Path(plan_path).read_text())
    import urllib.error
    import urllib.request

    def send(item: dict) -> tuple[float, int]:
        request = urllib.request.Request(plan["url"] + item["path"], method=item["method"],
                                         data=item["body"].encode() if item["body"] else None,
                                         headers=item["headers"])
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        return time.perf_counter() - started, status

    with ThreadPoolExecutor(plan["concurrency"]) as pool:
        results = list(pool.map(send, plan["requests"]))
    print(json.dumps(results))


def run_load(url: str, requests: list[dict], concurrency: int, workdir: Path) -> list[tuple[float, int]]:
    plan = workdir / "plan.json"
    plan.write_text(json.dumps({"url": url, "concurrency": concurrency, "requests": requests}))
    out = subprocess.run([sys.executable, "-m", "benchmarks.ack_latency", "--fire", str(plan)],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(item) for item in json.loads(out)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--total", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--text", default="", help="command text (default: ps -a and images)")
    parser.add_argument("--config-extra", default="", help="TOML appended to the test config")
    parser.add_argument("--fire", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fire:
        fire(args.fire)
        return
    with SlackStandIn() as slack, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        bot = launch_bot(slack, workdir, ACCESS + args.config_extra.replace("\\n", "\n"))
        try:
            bot.ask("version")
            floor_plan = [{"method": "GET", "path": "/nothing-here", "body": "", "headers": {}}
                          for _ in range(args.total)]
            floor = [seconds for seconds, _ in run_load(bot.url, floor_plan, args.concurrency,
                                                        workdir)]
            commands, urls = [], []
            for i in range(args.total):
                # 100 viewers (C0DEVS makes everyone in it a viewer), two commands each: a
                # team's traffic, within [limits] per_user_commands.
                payload = slack.slash_command(args.text or ("ps -a" if i % 2 else "images"),
                                              user_id=f"U0BENCH{i % 100:03d}",
                                              channel_id="C0DEVS")
                body = form_body(payload)
                commands.append({"method": "POST", "path": "/slack/events", "body": body,
                                 "headers": signed_headers(slack.signing_secret, body)})
                urls.append(payload["response_url"])
            started = time.perf_counter()
            results = run_load(bot.url, commands, args.concurrency, workdir)
            for url in urls:
                slack.wait_for_responses(url, 1, timeout=120)
            all_answered = time.perf_counter() - started
        finally:
            bot.stop()
    acks = [seconds for seconds, _ in results]
    bad = sum(1 for _, status in results if status != 200)
    print(f"{args.total} commands, {args.concurrency} at a time; non-200 acks: {bad}")
    print(f"ack   p50 {statistics.median(acks) * 1000:6.1f} ms   p99 {percentile(acks, 99) * 1000:6.1f} ms"
          f"   max {max(acks) * 1000:6.1f} ms   (target p99 < 100 ms; Slack allows 3000 ms)")
    print(f"floor p50 {statistics.median(floor) * 1000:6.1f} ms   p99 {percentile(floor, 99) * 1000:6.1f} ms"
          "   (a 404 from the same server under the same load)")
    print(f"ratio ack/floor: p50 {statistics.median(acks) / statistics.median(floor):.2f}x, "
          f"p99 {percentile(acks, 99) / percentile(floor, 99):.2f}x")
    print(f"all {args.total} commands answered {all_answered:.1f} s after the first was sent")


if __name__ == "__main__":
    main()
