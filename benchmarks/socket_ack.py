"""Socket Mode acks: 50 concurrent slash commands, then envelopes during a refresh, then faults.

Against `dockops serve` (Socket Mode) on the stand-in's websocket endpoint. Times are the
stand-in's, from an envelope's send to its ack. The floor is the same stand-in and loopback
with a bare websocket client that acks each envelope as it reads it (no Bolt, no bot), sent
in the same way: 50 at once for the burst, one at a time for the refresh.
The refresh sends `disconnect` (refresh_requested), keeps the old socket open 5 s and sends
envelopes to the old and the new socket alternately; each must be acked on its own socket.
Then: a blackholed connection (no pong, nothing sent) and the time until it is replaced;
the endpoint gone for 15 s and the time from its return to a new connection.
Run: .venv/bin/python -m benchmarks.socket_ack [--concurrency 50] [--no-faults]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from websockets.sync.client import connect

from tests.bot_rig import launch_bot
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def floor(slack: SlackStandIn, count: int, *, at_once: bool) -> list[float]:
    """Ack times of a bare client that acks every envelope as soon as it reads it: sent all
    at once (the burst's floor) or one every 20 ms (the refresh's)."""
    ws = connect(slack.socket_mode.issue_url(), compression=None)
    ws.recv()  # hello

    def ack_all() -> None:
        for _ in range(count):
            ws.send(json.dumps({"envelope_id": json.loads(ws.recv())["envelope_id"]}))

    reader = threading.Thread(target=ack_all)
    reader.start()
    noop = ("events_api", {"type": "event_callback", "event": {"type": "noop"}})
    if at_once:
        ids = burst(slack, count, lambda i: noop)
    else:
        ids = []
        for _ in range(count):
            ids.append(slack.send_envelope(*noop))
            time.sleep(0.02)
    reader.join(30)
    ws.close()
    slack.wait_for(lambda: slack.socket_mode.client_count == 0, 5, message="floor client gone")
    return [slack.wait_for_ack(i).elapsed for i in ids]


def burst(slack: SlackStandIn, count: int, make) -> list[str]:  # type: ignore[no-untyped-def]
    """Send `count` envelopes at once from `count` threads; their ids."""
    start = threading.Barrier(count)

    def send(i: int) -> str:
        type_, payload = make(i)
        start.wait()
        return slack.send_envelope(type_, payload)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(send, range(count)))


def slash(slack: SlackStandIn, i: int) -> tuple[str, dict]:
    return "slash_commands", slack.slash_command("ps -a" if i % 2 else "images",
                                                 user_id=f"U0BENCH{i:03d}", channel_id="C0DEVS")


def during_refresh(slack: SlackStandIn, seconds: float = 5.0, every: float = 0.1
                   ) -> tuple[list[float], int, int]:
    """Ack times of envelopes sent to the old and new socket alternately while the old one
    stays open; how many were acked on another socket, and how many were never acked."""
    old = slack.socket_mode.refresh(grace=seconds)
    sent: list[tuple[str, int]] = []
    deadline = time.monotonic() + seconds - 0.3
    i = 0
    while time.monotonic() < deadline:
        ids = slack.socket_mode.connection_ids()
        target = ids[-1] if i % 2 and ids[-1] not in old else old[-1]
        if target not in ids:
            target = ids[-1]
        type_, payload = slash(slack, i)
        try:
            sent.append((slack.socket_mode.send(type_, payload, connection_id=target), target))
        except AssertionError:  # that socket was closed under us: the client closed it
            sent.append((slack.send_envelope(type_, payload), -1))
        i += 1
        time.sleep(every)
    times, wrong, lost = [], 0, 0
    for envelope_id, target in sent:
        try:
            ack = slack.wait_for_ack(envelope_id, timeout=10)
        except AssertionError:
            lost += 1
            continue
        times.append(ack.elapsed)
        wrong += target != -1 and ack.connection_id != target
    return times, wrong, lost


def replaced_after(slack: SlackStandIn, fault, timeout: float = 120) -> float:  # type: ignore[no-untyped-def]
    """Seconds from `fault()` to a new connection from the bot."""
    total = slack.socket_mode.connections_total
    started = time.monotonic()
    fault()
    slack.wait_for(lambda: slack.socket_mode.connections_total > total, timeout,
                   message="a new Socket Mode connection")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4, help="bursts of --concurrency")
    parser.add_argument("--no-faults", action="store_true", help="skip blackhole and outage")
    parser.add_argument("--server-ping", type=float, default=0.2,
                        help="seconds between the stand-in's own pings")
    args = parser.parse_args()
    with SlackStandIn(socket_ping_interval=args.server_ping) as slack, tempfile.TemporaryDirectory() as tmp:
        floor_times = floor(slack, args.concurrency * args.rounds, at_once=True)
        single = floor(slack, 50, at_once=False)
        slack.violations.clear()
        bot = launch_bot(slack, Path(tmp), ACCESS, mode="socket")
        try:
            slack.wait_for_ack(slack.send_envelope(*slash(slack, 999)))
            acks: list[float] = []
            for _ in range(args.rounds):
                ids = burst(slack, args.concurrency, lambda i: slash(slack, i))
                acks += [slack.wait_for_ack(i, timeout=30).elapsed for i in ids]
                time.sleep(1)
            refresh, wrong, lost = during_refresh(slack)
            faults: list[str] = []
            if not args.no_faults:
                time.sleep(6)
                dead = replaced_after(slack, slack.socket_mode.blackhole)
                faults.append(f"blackholed connection replaced after {dead:.1f} s (target < 10 s)")

                def outage() -> None:
                    slack.socket_mode.go_away()
                    time.sleep(15)
                    slack.socket_mode.come_back()

                back = replaced_after(slack, outage) - 15
                faults.append(f"endpoint gone 15 s: reconnected {back:.1f} s after it returned")
        finally:
            bot.stop()
    f99 = percentile(floor_times, 99)
    print(f"floor (bare client) p50 {ms(percentile(floor_times, 50))}  p99 {ms(f99)}")
    print(f"{args.concurrency} concurrent slash commands x{args.rounds}: p50 "
          f"{ms(percentile(acks, 50))}  p99 {ms(percentile(acks, 99))}  max {ms(max(acks))}  "
          f"= p99 {percentile(acks, 99) / f99:.2f}x the floor")
    s99 = percentile(single, 99)
    print(f"floor, one at a time  p50 {ms(percentile(single, 50))}  p99 {ms(s99)}")
    if refresh:
        print(f"during refresh ({len(refresh) + lost} envelopes, old and new socket): p50 "
              f"{ms(percentile(refresh, 50))}  p99 {ms(percentile(refresh, 99))}  max "
              f"{ms(max(refresh))}  = p99 {percentile(refresh, 99) / s99:.2f}x the one-at-a-time floor")
    print(f"during refresh: acked on another socket {wrong}, never acked {lost}")
    for line in faults:
        print(line)
    print(f"stand-in violations: {len(slack.violations)}")
    for violation in slack.violations[:10]:
        print("  " + violation)


if __name__ == "__main__":
    main()
