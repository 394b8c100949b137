"""Bad requests never run anything: forged, stale, replayed, headless or non-Slack bodies."""

from __future__ import annotations

import json
import time

import pytest

from tests.bot_rig import BotProcess, answer_text
from tests.slack_standin import SlackStandIn, form_body, signed_headers


def signed(slack: SlackStandIn, text: str = "version") -> tuple[str, dict[str, str], str]:
    payload = slack.slash_command(text)
    body = form_body(payload)
    return body, signed_headers(slack.signing_secret, body), payload["response_url"]


def nothing_ran(slack: SlackStandIn, response_url: str) -> bool:
    time.sleep(0.5)  # a command that wrongly ran would have answered by now
    return slack.responses(response_url) == []


def test_forged_signature_is_refused(bot_server: BotProcess, slack: SlackStandIn) -> None:
    body, _, url = signed(slack)
    assert bot_server.post("/slack/events", body, signed_headers("wrong-secret", body))[0] == 401
    assert nothing_ran(slack, url)


def test_stale_timestamp_is_refused(bot_server: BotProcess, slack: SlackStandIn) -> None:
    body, _, url = signed(slack)
    old = signed_headers(slack.signing_secret, body, timestamp=time.time() - 6 * 60)
    assert bot_server.post("/slack/events", body, old)[0] == 401
    assert nothing_ran(slack, url)


def test_replayed_request_runs_once(bot_server: BotProcess, slack: SlackStandIn) -> None:
    body, headers, url = signed(slack)
    assert bot_server.post("/slack/events", body, headers)[0] == 200
    assert bot_server.post("/slack/events", body, headers)[0] == 401
    slack.wait_for_responses(url, 1)
    time.sleep(0.5)
    assert len(slack.responses(url)) == 1


def test_tampered_body_is_refused(bot_server: BotProcess, slack: SlackStandIn) -> None:
    body, headers, url = signed(slack, "version")
    tampered = body.replace("version", "ps+-a")
    assert bot_server.post("/slack/events", tampered, headers)[0] == 401
    assert nothing_ran(slack, url)


@pytest.mark.parametrize("drop", ["X-Slack-Signature", "X-Slack-Request-Timestamp"])
def test_missing_signing_headers_are_refused(bot_server: BotProcess, slack: SlackStandIn,
                                             drop: str) -> None:
    body, headers, url = signed(slack)
    headers.pop(drop)
    assert bot_server.post("/slack/events", body, headers)[0] == 401
    assert nothing_ran(slack, url)


def test_a_non_slack_body_is_refused(bot_server: BotProcess, slack: SlackStandIn) -> None:
    body = json.dumps({"hello": "world"})
    headers = signed_headers("not-the-secret", body, content_type="application/json")
    assert bot_server.post("/slack/events", body, headers)[0] in (400, 401)
    assert bot_server.post("/slack/events", "%%%garbage", {})[0] in (400, 401)
    assert bot_server.get("/healthz")[0] == 200  # still up


def test_unknown_paths_are_404(bot_server: BotProcess) -> None:
    assert bot_server.get("/admin")[0] == 404


def test_response_url_failures_are_retried_and_delivered_once(bot_server: BotProcess,
                                                               slack: SlackStandIn) -> None:
    slack.fail_next("response_url", status=500, count=1)
    slack.fail_next("response_url", status=429, retry_after=1, count=1)
    answer = bot_server.command("version")
    body = bot_server.answers(answer, timeout=20)[0]
    assert "Docker Engine" in answer_text(body)
    time.sleep(1)
    assert len(slack.responses(answer.response_url)) == 1


@pytest.mark.parametrize(("text", "method"), [("version", "chat.postMessage"),
                                               ("version --private", "chat.postEphemeral")])
def test_a_dead_response_url_still_gets_an_answer_through_the_api(
        bot_server: BotProcess, slack: SlackStandIn, text: str, method: str) -> None:
    slack.fail_next("response_url", status=404, count=1)  # expired or used up, say
    answer = bot_server.command(text, user_id="U0VIEW")
    [call] = slack.wait_for_calls(method, 1, timeout=15)
    assert "Docker Engine" in json.dumps(call.blocks) and call.params["channel"] == "C0OPS"
    if method == "chat.postEphemeral":
        assert call.params["user"] == "U0VIEW"
    assert slack.responses(answer.response_url) == []
