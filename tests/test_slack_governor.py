"""The Slack API governor: Slack's per-method budgets, a 429 pausing a method for everyone,
answers before live updates. A fake clock for the budgets; the stand-in for the client."""

from __future__ import annotations

import time

import pytest

from bot.errors import CannotPost
from bot.pacing import Skipped, skippable
from bot.slack.client import GovernedClient, api_retry_handlers
from bot.slack.governor import BUDGETS, Governor
from bot.slack.responder import SlackResponder
from bot.views.message import Message
from tests.slack_standin import SlackStandIn


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.on_sleep: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.on_sleep.append(seconds)
        self.now += seconds


def governor() -> tuple[Governor, FakeClock]:
    clock = FakeClock()
    return Governor(clock=clock, sleep=clock.sleep), clock


def most_in_a_minute(times: list[float]) -> int:
    return max((sum(1 for t in times if start <= t < start + 60) for start in times), default=0)


def test_answers_that_never_stop_stay_within_chat_update_s_50_a_minute() -> None:
    gov, clock = governor()
    sent = []
    for _ in range(300):
        gov.acquire("chat.update")
        sent.append(clock.now)
    assert most_in_a_minute(sent) <= 50
    assert sent[:5] == [0.0] * 5  # the burst goes at once, then about 0.75 a second
    assert 5 * 60 < sent[-1] < 7 * 60


def live_updates(follows: int, seconds: int = 120) -> tuple[list[int], list[float]]:
    """Each follow asks once a second, as its loop does: its sent count, and when each went."""
    gov, clock = governor()
    per_follow = [0] * follows
    sent = []
    for second in range(seconds):
        clock.now = float(second)
        for index in range(follows):
            if gov.try_acquire("chat.update", target=f"ts-{index}"):
                per_follow[index] += 1
                sent.append(clock.now)
    return per_follow, sent


def test_more_follows_each_update_less_often_never_more_calls() -> None:
    totals, slowest = [], []
    for follows in (1, 5, 10):
        per_follow, sent = live_updates(follows)
        assert most_in_a_minute(sent) <= 50
        assert max(per_follow) - min(per_follow) <= 1  # they take turns
        totals.append(sum(per_follow))
        slowest.append(min(per_follow))
    assert totals[0] >= totals[1] >= totals[2]  # never more calls
    assert slowest[0] > slowest[1] > slowest[2] > 0  # each less often, none starved


def test_a_live_update_leaves_the_reserve_to_final_answers() -> None:
    gov, clock = governor()
    reserve = BUDGETS["chat.update"].reserve
    live = 0
    while gov.try_acquire("chat.update"):
        live += 1
    assert live == BUDGETS["chat.update"].burst - reserve
    for _ in range(reserve):  # the finals go at once
        assert gov.acquire("chat.update") == 0.0
    assert clock.now == 0.0


def test_a_live_update_gives_way_to_an_answer_that_waits() -> None:
    gov, clock = governor()
    while gov.try_acquire("chat.update") or gov.acquire("chat.update") == 0.0:
        pass  # empty the bucket (the last acquire waited for a token)
    asked: list[bool] = []

    def sleep(seconds: float) -> None:  # while the answer waits, a follow asks
        clock.now += seconds
        asked.append(gov.try_acquire("chat.update"))

    gov.sleep = sleep
    gov.acquire("chat.update")
    assert asked and not any(asked)


def test_a_429_pauses_the_method_for_every_caller_and_only_that_method() -> None:
    gov, clock = governor()
    gov.pause("chat.update", 30)
    assert not gov.try_acquire("chat.update")
    assert gov.try_acquire("chat.postMessage", "C1")  # other methods go on
    assert gov.acquire("chat.update") >= 30 and clock.now >= 30
    gov.pause("auth.test", 5)  # a method with no budget still honours Retry-After
    assert not gov.try_acquire("auth.test")
    clock.now += 5
    assert gov.try_acquire("auth.test")


def test_chat_post_message_s_budget_is_per_channel() -> None:
    gov, clock = governor()
    burst = BUDGETS["chat.postMessage"].burst
    for _ in range(burst):
        gov.acquire("chat.postMessage", "C1")
    assert clock.now == 0.0
    gov.acquire("chat.postMessage", "C2")  # another channel has its own second
    assert clock.now == 0.0
    gov.acquire("chat.postMessage", "C1")
    assert 0.9 < clock.now < 1.2


def test_admit_raises_skipped_for_a_live_update_and_waits_for_an_answer() -> None:
    gov, clock = governor()
    gov.pause("chat.update", 2)
    with skippable(), pytest.raises(Skipped):
        gov.admit("chat.update")
    gov.admit("chat.update")
    assert clock.now >= 2


# -- through the client, against the stand-in --------------------------------------------

def client(slack: SlackStandIn, gov: Governor) -> GovernedClient:
    return GovernedClient(base_url=slack.api_url, token=slack.bot_token, governor=gov,
                          retry_handlers=api_retry_handlers(gov))


def test_a_429_on_a_live_update_is_not_retried_and_holds_the_final_one(slack: SlackStandIn
                                                                       ) -> None:
    gov = Governor()
    web = client(slack, gov)
    ts = web.chat_postMessage(channel="C0OPS", text="live")["ts"]
    slack.fail_next("chat.update", status=429, retry_after=2)
    with skippable(), pytest.raises(Exception, match="ratelimited"):
        web.chat_update(channel="C0OPS", ts=ts, text="live 1")
    assert gov.paused_for("chat.update") > 1.5
    with skippable(), pytest.raises(Skipped):  # the next live update is not even sent
        web.chat_update(channel="C0OPS", ts=ts, text="live 2")
    started = time.monotonic()
    web.chat_update(channel="C0OPS", ts=ts, text="final")  # waits the pause out, then goes
    assert time.monotonic() - started > 1.5
    updates = slack.calls_to("chat.update")
    assert [c.http_status for c in updates] == [429, 200]
    assert updates[1].time - updates[0].time >= 1.9


@pytest.mark.parametrize(("channel", "error", "says"), [
    ("C0OPS", "not_in_channel", "Invite me with `/invite @dockops` and run it again"),
    ("C0GONE", "channel_not_found", "Invite me with `/invite @dockops` and run it again"),
    ("D0DM", "channel_not_found", "run it in a channel"),
])
def test_a_channel_that_refuses_the_bot_is_cannot_post_answered_privately(
        slack: SlackStandIn, channel: str, error: str, says: str) -> None:
    responder = SlackResponder(client(slack, Governor()), slack.new_response_url(), channel)
    slack.error_next("chat.postMessage", error)
    with pytest.raises(CannotPost) as raised:
        responder.start_thread(Message("*Logs of `web`*"))
    assert says in raised.value.message and raised.value.error == error
    assert responder.ephemeral  # the answer to the command goes to its user alone
