"""Slack-true delivery through a real `dockops serve`: follows share chat.update's budget,
a 429 pauses every follow, a click is acked before any outbound call, and a channel that
refuses the bot gets one private sentence instead of "internal error"."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from bot.views.lifecycle import STOP_FOLLOW_ACTION
from tests.bot_rig import BotProcess, answer_text
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn
from tests.support import unique, wait_for

Make = Callable[..., docker.models.containers.Container]
TICKER = "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.05; done"


def follows_open(bot: BotProcess) -> float:
    metrics = bot.get("/metrics")[1]
    return float(next(line.split()[-1] for line in metrics.splitlines()
                      if line.startswith("dockops_follow_streams_open ")))


def start_follows(bot: BotProcess, make_container: Make, count: int) -> list[tuple[str, str]]:
    """`logs -f` on `count` tickers; the (channel, ts) of each follow's message."""
    for _ in range(count):
        web = make_container(["sh", "-c", TICKER], name=unique("gov"))
        assert bot.command(f"logs -f {web.name}", user_id="U0OPER").status == 200
    posted = bot.slack.wait_for_calls("chat.postMessage", count, timeout=20)
    return [(c.response["channel"], c.response["ts"]) for c in posted if c.ok]


def ended(slack: SlackStandIn, messages: list[tuple[str, str]]) -> bool:
    return all("Stopped after" in str((slack.message(*m) or {}).get("blocks")) for m in messages)


@pytest.mark.timeout(120)
def test_five_follows_for_40_s_stay_within_chat_update_s_50_a_minute(
        start_bot: Callable[..., BotProcess], make_container: Make) -> None:
    bot = start_bot(ACCESS + "[limits]\nfollow_seconds = 40\n")
    slack = bot.slack
    messages = start_follows(bot, make_container, 5)
    assert len(messages) == 5
    wait_for(lambda: ended(slack, messages), timeout=70, what="every follow's final update")
    updates = [c for c in slack.calls_to("chat.update") if c.ok]
    first = updates[0].time
    assert updates[-1].time - first < 60 and len(updates) <= 50, len(updates)  # one minute
    per_message = {ts: sum(1 for c in updates if c.params.get("ts") == ts) for _, ts in messages}
    assert min(per_message.values()) >= 3, per_message  # each follow had its turns
    print(f"\nchat.update: {len(updates)} in {updates[-1].time - first:.0f} s; "
          f"per follow {sorted(per_message.values())}")


@pytest.mark.timeout(90)
def test_a_429_on_chat_update_pauses_every_follow_for_its_retry_after(
        start_bot: Callable[..., BotProcess], make_container: Make) -> None:
    bot = start_bot(ACCESS + "[limits]\nfollow_seconds = 10\n")
    slack = bot.slack
    messages = start_follows(bot, make_container, 3)
    slack.wait_for_calls("chat.update", 3, timeout=15)
    slack.fail_next("chat.update", status=429, retry_after=3)
    limited = slack.wait_for(lambda: [c for c in slack.calls_to("chat.update")
                                      if c.http_status == 429], timeout=10,
                             message="the 429")[0]
    wait_for(lambda: ended(slack, messages), timeout=30, what="every follow's final update")
    after = [c.time - limited.time for c in slack.calls_to("chat.update") if c.time > limited.time]
    assert after and min(after) >= 2.9, after  # nobody called chat.update during the pause
    print(f"\nfirst chat.update after the 429 (Retry-After 3): {min(after):.2f} s")


@pytest.mark.timeout(60)
def test_a_stop_click_is_acked_at_once_while_the_response_url_is_slow(
        bot_server: BotProcess, make_container: Make) -> None:
    slack = bot_server.slack
    channel, ts = start_follows(bot_server, make_container, 1)[0]
    slack.wait_for_calls("chat.update", 1, timeout=15)
    message = slack.message(channel, ts) or {}
    stop = next(e["value"] for b in message["blocks"] for e in b.get("elements", ())
                if e.get("action_id") == STOP_FOLLOW_ACTION)
    slack.delay_next("response_url", 4)
    started = time.monotonic()
    status, url = bot_server.click(STOP_FOLLOW_ACTION, stop, user_id="U0OPER", message=message)
    assert status == 200 and time.monotonic() - started < 1
    wait_for(lambda: ended(slack, [(channel, ts)]), timeout=10, what="the follow to stop")
    assert slack.wait_for_responses(url, 1, timeout=10)  # the slow answer still arrived


# -- a channel that refuses the bot ---------------------------------------------------------

def build_config(tmp_path: Path) -> str:
    app = tmp_path / "roots" / "app"
    app.mkdir(parents=True)
    (app / "Dockerfile").write_text("FROM scratch\nLABEL never=built\n")
    return f'{ACCESS}\n[build.contexts]\napp = "{app}"\n'


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("channel", "error", "says"), [
    ("C0OPS", "not_in_channel", "Invite me with `/invite @dockops` and run it again"),
    ("C0ELSE", "channel_not_found", "Invite me with `/invite @dockops` and run it again"),
    ("D0DIRECT", "channel_not_found", "run it in a channel"),
])
def test_where_the_bot_cannot_post_the_user_hears_one_sentence_privately(
        start_bot: Callable[..., BotProcess], make_container: Make, tmp_path: Path,
        docker_client: docker.DockerClient, busybox: str, channel: str, error: str,
        says: str) -> None:
    bot = start_bot(build_config(tmp_path))
    slack = bot.slack
    web = make_container(["sh", "-c", TICKER], name=unique("nope"))
    before = docker_client.api.inspect_container(web.id)["State"]
    image = f"{unique('nope')}:1"
    pushed = f"127.0.0.1:1/{unique('nope')}:1"  # never reached: the post fails first
    docker_client.images.get(busybox).tag(pushed)
    try:
        for text in (f"logs -f {web.name}", f"attach {web.name}", f"build -t {image} app",
                     f"push {pushed}"):
            slack.error_next("chat.postMessage", error)
            answer = bot.command(text, user_id="U0ADMIN", channel_id=channel)
            reply = bot.answers(answer)[0]
            said = answer_text(reply)
            assert says in said and "internal error" not in said.lower(), (text, said)
            assert reply["response_type"] == "ephemeral", text
            assert len(re.findall(r"[.!?](\s|$)", reply["text"])) <= 2, reply["text"]
        assert follows_open(bot) == 0  # no follow left streaming
        after = docker_client.api.inspect_container(web.id)["State"]
        assert after["StartedAt"] == before["StartedAt"] and after["Running"]
        assert not docker_client.images.list(name=image.split(":")[0])
        assert all(c.method != "chat.update" for c in slack.calls)
        assert "Traceback" not in bot.log()
    finally:
        docker_client.images.remove(pushed)
