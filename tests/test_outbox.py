"""The outbox: notifications survive Slack failures and restarts, and arrive exactly once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot import metrics
from bot.jobs.outbox import Outbox
from bot.store import Store
from bot.views import blocks
from bot.views.message import Message
from tests.slack_standin import SlackStandIn
from tests.support import wait_for


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(base_url=slack.api_url, token=slack.bot_token)


def note(text: str) -> Message:
    return Message(text=text, blocks=(blocks.section(text),))


def texts(slack: SlackStandIn, channel: str = "C0OPS") -> list[str]:
    return [m["text"] for m in slack.messages(channel)]


def send_until(slack: SlackStandIn, count: int, *outboxes: Outbox) -> None:
    """Run the senders until `count` messages arrived, and a little longer (for duplicates)."""
    for outbox in outboxes:
        outbox.start()
    try:
        wait_for(lambda: len(texts(slack)) >= count, timeout=15, what=f"{count} messages")
        time.sleep(0.3)
    finally:
        for outbox in outboxes:
            outbox.stop()


def test_500_then_429_then_ok_delivers_exactly_once_after_retry_after(
        tmp_path: Path, slack: SlackStandIn, client: WebClient) -> None:
    slack.fail_next("chat.postMessage", status=500)
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    store = Store(tmp_path)
    outbox = Outbox(store, client)
    assert outbox.enqueue("C0OPS", note("prune reclaimed 1 GB"), key="k1")
    assert metrics.OUTBOX_DEPTH._value.get() == 1
    outbox.start()
    try:
        wait_for(lambda: texts(slack), timeout=15, what="the message in C0OPS")
        wait_for(lambda: outbox.depth() == 0, timeout=5, what="the row deleted")
        time.sleep(0.5)  # a duplicate would show up now: the sender polls every few ms here
    finally:
        outbox.stop()
    calls = slack.calls_to("chat.postMessage")
    assert [c.http_status for c in calls] == [500, 429, 200]
    assert calls[2].time - calls[1].time >= 0.95  # Retry-After honoured
    assert texts(slack) == ["prune reclaimed 1 GB"]
    assert metrics.OUTBOX_DEPTH._value.get() == 0
    assert slack.violations == []
    store.close()


def test_an_outage_delays_and_a_restarted_bot_delivers_in_order_once(
        tmp_path: Path, slack: SlackStandIn, client: WebClient) -> None:
    slack.fail_next("chat.postMessage", status=503, count=1000)
    first = Outbox(Store(tmp_path), client)
    first.enqueue("C0OPS", note("one"), key="a")
    first.enqueue("C0OPS", note("two"), key="b")
    first.start()
    slack.wait_for_calls("chat.postMessage", 1)
    first.stop()
    first.store.close()
    assert texts(slack) == []
    slack.reset()  # Slack is back
    second = Outbox(Store(tmp_path), client)
    assert second.depth() == 2
    send_until(slack, 2, second)
    assert texts(slack) == ["one", "two"]
    assert second.depth() == 0


def test_the_same_key_is_queued_once_and_two_senders_never_double_send(
        tmp_path: Path, slack: SlackStandIn, client: WebClient) -> None:
    one, two = Outbox(Store(tmp_path), client), Outbox(Store(tmp_path), client)
    assert one.enqueue("C0OPS", note("same"), key="dup")
    assert not two.enqueue("C0OPS", note("same"), key="dup")
    for n in range(20):
        one.enqueue("C0OPS", note(f"n{n}"), key=f"n{n}")
    send_until(slack, 21, one, two)
    assert sorted(texts(slack)) == sorted(["same", *[f"n{n}" for n in range(20)]])


def test_slack_refusing_a_message_keeps_it_queued_with_the_reason(
        tmp_path: Path, slack: SlackStandIn, client: WebClient) -> None:
    slack.error_next("chat.postMessage", "not_in_channel")
    outbox = Outbox(Store(tmp_path), client)
    outbox.enqueue("C0OPS", note("hello"), key="x")
    result = outbox.drain_once()
    assert (result.sent, result.waiting) == (0, 1)
    [row] = outbox.pending()
    assert row.attempts == 1 and "not_in_channel" in row.last_error
    assert row.due > time.time() + 30  # retried later (hourly at most), never dropped
    assert texts(slack) == []


def test_without_slack_the_outbox_only_queues(tmp_path: Path) -> None:
    outbox = Outbox(Store(tmp_path), None)
    outbox.enqueue("C0OPS", note("later"), key="q")
    assert outbox.drain_once().waiting == 1
