"""Socket Mode that holds: acks on the arriving socket within 1 s through a refresh, dead
and missing connections replaced, and every user action run once."""

from __future__ import annotations

import json
import time

from bot.views.confirm import CONFIRM_ACTION
from tests.bot_rig import BotProcess
from tests.slack_standin import SlackStandIn, form_body, signed_headers
from tests.support import wait_for


def help_payload(slack: SlackStandIn, user: str = "U0ADMIN") -> dict:
    return slack.slash_command("help", user_id=user)


def test_slash_and_interactive_envelopes_are_acked_and_answered(start_bot, slack) -> None:
    bot: BotProcess = start_bot(mode="socket")
    answer = bot.command("help")
    assert answer.ack_seconds < 1
    assert "ps" in json.dumps(bot.answers(answer)[0])
    status, response_url = bot.click(CONFIRM_ACTION, "no-such-token")
    assert status == 200
    assert slack.wait_for_responses(response_url, 1)
    assert max(ack.elapsed for ack in slack.acks) < 1


def test_a_refresh_acks_each_envelope_on_its_own_socket_and_runs_each_once(start_bot,
                                                                           slack) -> None:
    start_bot(mode="socket")
    old = slack.socket_mode.refresh(grace=5.0)
    sent: list[tuple[str, int, str]] = []
    started = time.monotonic()
    while time.monotonic() - started < 4.5:
        ids = slack.socket_mode.connection_ids()
        target = old[-1] if len(sent) % 2 == 0 or ids[-1] in old else ids[-1]
        payload = help_payload(slack, user=f"U0ADMIN{len(sent) % 3}")
        envelope = slack.socket_mode.send("slash_commands", payload, connection_id=target)
        sent.append((envelope, target, payload["response_url"]))
        time.sleep(0.15)
    targets = {target for _, target, _ in sent}
    assert len(targets) == 2, "envelopes went to the old and the new socket"
    for envelope, target, _ in sent:
        ack = slack.wait_for_ack(envelope)
        assert ack.elapsed < 1 and ack.connection_id == target
    time.sleep(1)
    for _, _, url in sent:
        assert len(slack.wait_for_responses(url, 1)) == 1
    wait_for(lambda: slack.socket_mode.connection_ids() == [max(targets)], timeout=5,
             what="the old socket closed by the server")


def test_the_bot_reconnects_after_the_endpoint_was_gone_for_15_s(start_bot, slack) -> None:
    bot = start_bot(mode="socket")
    before = slack.socket_mode.connections_total
    slack.socket_mode.go_away()
    time.sleep(2)
    status, body = bot.get("/healthz")
    assert status == 200, "not yet 30 s without a connection"
    assert json.loads(body)["socket_mode"]["connected"] is False
    time.sleep(13)
    slack.socket_mode.come_back()
    back = time.monotonic()
    wait_for(lambda: slack.socket_mode.connections_total > before, timeout=15,
             what="the bot to reconnect")
    assert time.monotonic() - back < 10
    assert bot.command("help").ack_seconds < 1
    assert json.loads(bot.get("/healthz")[1])["socket_mode"]["connected"] is True
    assert "dockops_socket_mode_reconnects_total 1.0" in bot.get("/metrics")[1]


def test_a_silent_connection_is_detected_within_10_s_and_replaced(start_bot, slack) -> None:
    bot = start_bot(mode="socket")
    before = slack.socket_mode.connections_total
    silenced = slack.socket_mode.blackhole()
    started = time.monotonic()
    wait_for(lambda: slack.socket_mode.connections_total > before, timeout=20,
             what="a new connection")
    assert time.monotonic() - started < 10
    assert bot.command("help").ack_seconds < 1
    assert slack.envelopes[-1].connection_ids != (silenced,)


def test_a_socket_mode_redelivery_runs_once(start_bot, slack) -> None:
    start_bot(mode="socket")
    payload = help_payload(slack)
    first = slack.send_envelope("slash_commands", payload)
    again = slack.send_envelope("slash_commands", payload, retry_attempt=1,
                                retry_reason="timeout")
    slack.wait_for_ack(first)
    slack.wait_for_ack(again)
    time.sleep(1.5)
    assert len(slack.wait_for_responses(payload["response_url"], 1)) == 1


def test_an_http_retry_runs_once_even_across_a_restart(start_bot, slack, tmp_path) -> None:
    bot = start_bot()
    payload = help_payload(slack)
    body = form_body(payload)
    assert bot.post("/slack/events", body, signed_headers(slack.signing_secret, body))[0] == 200
    retry = {**signed_headers(slack.signing_secret, body, timestamp=time.time() + 1),
             "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert bot.post("/slack/events", body, retry)[0] == 200
    time.sleep(1.5)
    assert len(slack.wait_for_responses(payload["response_url"], 1)) == 1
    assert "repeated delivery" in bot.log()
    bot.stop()
    restarted = start_bot(data_dir=bot.data_dir)
    retry = {**signed_headers(slack.signing_secret, body, timestamp=time.time() + 2),
             "X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}
    assert restarted.post("/slack/events", body, retry)[0] == 200
    time.sleep(1.5)
    assert len(slack.responses(payload["response_url"])) == 1
