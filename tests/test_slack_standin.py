"""Tests of the Slack stand-in, driven by the real slack_sdk / slack_bolt clients."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    FixedValueRetryIntervalCalculator,
    RateLimitErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.webhook import WebhookClient

try:  # tests/ as a package (rootdir on sys.path) or as a plain folder (prepend mode)
    from tests.slack_standin import (
        SlackStandIn,
        blockkit,
        form_body,
        interactivity_body,
        payloads,
        signed_headers,
    )
except ImportError:
    from slack_standin import (  # type: ignore[no-redef]
        SlackStandIn,
        blockkit,
        form_body,
        interactivity_body,
        payloads,
        signed_headers,
    )


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    """A running stand-in; fast server pings so Socket Mode clients close quickly."""
    with SlackStandIn(socket_ping_interval=0.2) as slack:
        yield slack


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    """A real WebClient pointed at the stand-in, with the bot token."""
    return WebClient(base_url=standin.api_url, token=standin.bot_token)


def section(text: str, **extra: Any) -> dict[str, Any]:
    """A mrkdwn section block."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


# -- auth --------------------------------------------------------------------------


def test_auth_test_with_bot_token(standin: SlackStandIn, client: WebClient) -> None:
    resp = client.auth_test()
    assert resp["user_id"] == standin.bot_user_id
    assert resp["team_id"] == standin.team_id
    call = standin.calls_to("auth.test")[0]
    assert call.token == standin.bot_token
    assert call.headers["Authorization"] == f"Bearer {standin.bot_token}"


@pytest.mark.parametrize(
    ("token", "error"),
    [("xoxb-0-0-wrong", "invalid_auth"), (None, "not_authed"), ("app", "not_allowed_token_type")],
)
def test_bad_tokens_rejected(standin: SlackStandIn, token: str | None, error: str) -> None:
    token = standin.app_token if token == "app" else token
    with pytest.raises(SlackApiError) as exc:
        WebClient(base_url=standin.api_url, token=token).chat_postMessage(channel="C0OPS", text="hi")
    assert exc.value.response.status_code == 200
    assert exc.value.response["error"] == error
    assert standin.messages("C0OPS") == []


def test_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.api_call("docker.ps")
    assert exc.value.response["error"] == "unknown_method"


def test_token_as_form_field_accepted_but_not_in_json_body(standin: SlackStandIn) -> None:
    form = WebClient(base_url=standin.api_url)
    assert form.api_call("auth.test", params={"token": standin.bot_token})["ok"]
    req = urllib.request.Request(
        standin.api_url + "auth.test",
        data=json.dumps({"token": standin.bot_token}).encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert json.loads(resp.read())["error"] == "not_authed"


# -- messages ----------------------------------------------------------------------


def test_post_message_recorded_and_update(standin: SlackStandIn, client: WebClient) -> None:
    blocks = [section("*hello*", block_id="b1")]
    first = client.chat_postMessage(channel="C0OPS", text="hello", blocks=blocks)
    reply = client.chat_postMessage(channel="C0OPS", text="in thread", thread_ts=first["ts"])
    assert reply["message"]["thread_ts"] == first["ts"]
    assert float(reply["ts"]) > float(first["ts"])

    calls = standin.calls_to("chat.postMessage")
    assert [c.params["text"] for c in calls] == ["hello", "in thread"]
    assert calls[0].blocks == blocks
    assert calls[0].token == standin.bot_token
    assert calls[1].params["thread_ts"] == first["ts"]

    client.chat_update(channel="C0OPS", ts=first["ts"], text="bye")
    stored = standin.message("C0OPS", first["ts"])
    assert stored is not None
    assert stored["text"] == "bye"
    assert stored["blocks"] == blocks  # omitted blocks are kept, as on Slack
    assert stored["reply_count"] == 1
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="C0OPS", ts="1.000001", text="nope")
    assert exc.value.response["error"] == "message_not_found"
    assert standin.violations == []


def test_form_encoded_blocks_are_decoded(standin: SlackStandIn, client: WebClient) -> None:
    blocks = [section("form")]
    client.api_call(
        "chat.postMessage", params={"channel": "C0OPS", "text": "f", "blocks": json.dumps(blocks)}
    )
    call = standin.calls_to("chat.postMessage")[0]
    assert isinstance(call.params["blocks"], str)
    assert call.blocks == blocks


def test_post_ephemeral_and_lookups(standin: SlackStandIn, client: WebClient) -> None:
    standin.usergroups = {"S0OPS": ["U1", "U2"]}
    assert client.chat_postEphemeral(channel="C0OPS", user="U1", text="psst")["message_ts"]
    assert standin.ephemerals[0]["user"] == "U1"
    assert client.usergroups_users_list(usergroup="S0OPS")["users"] == ["U1", "U2"]
    with pytest.raises(SlackApiError, match="no_such_subteam"):
        client.usergroups_users_list(usergroup="S0NOPE")
    assert client.users_info(user="U0ADMIN")["user"]["is_admin"] is True
    assert client.conversations_info(channel="C0OPS")["channel"]["name"] == "ops"
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_postMessage(channel="#nowhere", text="x")


# -- Block Kit limits --------------------------------------------------------------


def test_51_blocks_rejected(standin: SlackStandIn, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0OPS", text="x", blocks=[{"type": "divider"}] * 51)
    assert exc.value.response["error"] == "invalid_blocks"
    assert "[json-pointer:/blocks]" in exc.value.response["errors"][0]
    assert len(standin.violations) == 1
    assert standin.messages() == []


def test_long_section_rejected(standin: SlackStandIn, client: WebClient) -> None:
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0OPS", text="x", blocks=[section("a" * 3001)])
    assert exc.value.response["error"] == "invalid_blocks"
    assert exc.value.response["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    assert "chat.postMessage: invalid_blocks" in standin.violations[0]
    client.chat_postMessage(channel="C0OPS", text="x", blocks=[section("a" * 3000)])


def test_text_over_40000_rejected(standin: SlackStandIn, client: WebClient) -> None:
    with pytest.raises(SlackApiError, match="msg_too_long"):
        client.chat_postMessage(channel="C0OPS", text="a" * 40_001)
    assert standin.violations


def _button(action_id: str = "a", text: str = "Go") -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}}


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/0/text/text"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}], "/0/text/type"),
        (
            [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
            "/0/fields",
        ),
        ([{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}], "/0/fields/0/text"),
        ([{"type": "actions", "elements": [_button(text="b" * 76)]}], "/0/elements/0/text/text"),
        ([{"type": "actions", "elements": [_button("a" * 256)]}], "/0/elements/0/action_id"),
        ([{"type": "actions", "elements": [_button(f"a{i}") for i in range(26)]}], "/0/elements"),
        ([{"type": "actions", "elements": [_button(), _button()]}], "/0/elements/1/action_id"),
        (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
            "/0/elements",
        ),
        ([section("a", block_id="x"), section("b", block_id="x")], "/1/block_id"),
        ([{"type": "carousel"}], "/0/type"),
        ([section("")], "/0/text/text"),
    ],
)
def test_block_kit_limits(blocks: list[dict[str, Any]], pointer: str) -> None:
    errors = blockkit.validate_blocks(blocks)
    assert len(errors) == 1, errors
    assert errors[0].endswith(f"[json-pointer:/blocks{pointer}]")


def test_valid_rich_message_passes() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 150}},
        section("s" * 3000, accessory=_button("acc")),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}] * 10},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 10},
        {"type": "actions", "elements": [_button(f"a{i}", "b" * 75) for i in range(25)]},
        {"type": "divider"},
    ] + [{"type": "divider"}] * 44
    assert blockkit.check_message({"text": "t" * 40_000, "blocks": blocks}).ok


# -- fault injection ---------------------------------------------------------------


def test_429_with_retry_after_observed(standin: SlackStandIn, client: WebClient) -> None:
    standin.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as exc:
        client.chat_postMessage(channel="C0OPS", text="hi")
    assert exc.value.response.status_code == 429
    assert exc.value.response["error"] == "ratelimited"
    assert exc.value.response.headers["Retry-After"] == "7"
    assert standin.calls_to("chat.postMessage")[0].fault == "status:429"
    client.chat_postMessage(channel="C0OPS", text="hi")  # only the next one failed
    assert len(standin.messages("C0OPS")) == 1


def test_rate_limit_retry_handler_retries_to_success(standin: SlackStandIn) -> None:
    client = WebClient(
        base_url=standin.api_url,
        token=standin.bot_token,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    standin.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    assert client.chat_postMessage(channel="C0OPS", text="hi")["ok"]
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert [c.http_status for c in standin.calls_to("chat.postMessage")] == [429, 200]
    assert len(standin.messages("C0OPS")) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors(standin: SlackStandIn, client: WebClient, status: int) -> None:
    standin.fail_next("auth.test", status=status)
    with pytest.raises(SlackApiError) as exc:
        client.auth_test()
    assert exc.value.response.status_code == status
    assert exc.value.response["error"] == "internal_error"


def test_drop_is_retried_once_by_connection_error_handler(standin: SlackStandIn) -> None:
    # WebClient's default handlers retry a dropped connection once (after a 0.5-1.5 s
    # backoff); same handler here with a short fixed interval to keep the test fast.
    defaults = WebClient().retry_handlers
    assert [type(h) for h in defaults] == [ConnectionErrorRetryHandler]
    fast = ConnectionErrorRetryHandler(interval_calculator=FixedValueRetryIntervalCalculator(0.01))
    client = WebClient(base_url=standin.api_url, token=standin.bot_token, retry_handlers=[fast])
    standin.drop_next("chat.postMessage")
    assert client.chat_postMessage(channel="C0OPS", text="hi")["ok"]
    assert [c.fault for c in standin.calls_to("chat.postMessage")] == ["drop", None]

    standin.drop_next("chat.postMessage", count=2)
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        client.chat_postMessage(channel="C0OPS", text="hi")
    assert len(standin.messages("C0OPS")) == 1


def test_drop_after_processing_posts_but_loses_answer(standin: SlackStandIn) -> None:
    standin.drop_next("chat.postMessage", after_processing=True)
    no_retry = WebClient(base_url=standin.api_url, token=standin.bot_token, retry_handlers=[])
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        no_retry.chat_postMessage(channel="C0OPS", text="hi")
    assert len(standin.messages("C0OPS")) == 1


def test_error_next_and_rate_limit(standin: SlackStandIn, client: WebClient) -> None:
    standin.error_next("chat.postMessage", "not_in_channel")
    with pytest.raises(SlackApiError, match="not_in_channel"):
        client.chat_postMessage(channel="C0OPS", text="hi")
    standin.rate_limit("chat.update", max_calls=1, per_seconds=60)
    ts = client.chat_postMessage(channel="C0OPS", text="hi")["ts"]
    client.chat_update(channel="C0OPS", ts=ts, text="1")
    with pytest.raises(SlackApiError) as exc:
        client.chat_update(channel="C0OPS", ts=ts, text="2")
    assert exc.value.response.status_code == 429


# -- files -------------------------------------------------------------------------


def test_files_upload_v2_end_to_end(standin: SlackStandIn, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0OPS", text="logs follow")["ts"]
    data = b"line 1\nline 2\n\x00binary\xff"
    resp = client.files_upload_v2(
        channel="C0OPS",
        content=data,
        filename="web.log",
        title="web logs",
        initial_comment="here you go",
        thread_ts=parent,
    )
    assert resp["file"]["name"] == "web.log"
    assert [c.method for c in standin.calls[1:]] == [
        "files.getUploadURLExternal",
        "file_upload",
        "files.completeUploadExternal",
    ]
    (uploaded,) = standin.files
    assert uploaded.data == data
    assert uploaded.declared_length == len(data)
    assert (uploaded.title, uploaded.filename) == ("web logs", "web.log")
    assert (uploaded.channel_id, uploaded.thread_ts) == ("C0OPS", parent)
    assert uploaded.initial_comment == "here you go"
    share = standin.messages("C0OPS")[-1]
    assert share["files"] == [{"id": uploaded.file_id}]
    assert share["thread_ts"] == parent
    assert standin.violations == []


def test_legacy_files_upload_is_retired(standin: SlackStandIn, client: WebClient) -> None:
    with pytest.raises(SlackApiError, match="method_deprecated"):
        client.api_call("files.upload", params={"channels": "C0OPS", "content": "x"})
    assert standin.violations


# -- response_url ------------------------------------------------------------------


def test_response_url_sixth_post_refused(standin: SlackStandIn) -> None:
    url = standin.new_response_url(channel_id="C0OPS")
    hook = WebhookClient(url)
    for i in range(5):
        resp = hook.send(text=f"update {i}", response_type="ephemeral", replace_original=i > 0)
        assert resp.status_code == 200, resp.body
    sixth = hook.send(text="too many")
    assert sixth.status_code == 404
    assert json.loads(sixth.body)["error"] == "used_url"
    posts = standin.wait_for_responses(url, 5)
    assert [p["text"] for p in posts] == [f"update {i}" for i in range(5)]
    assert posts[0]["replace_original"] is False
    assert posts[1]["replace_original"] is True
    assert posts[0]["response_type"] == "ephemeral"
    assert len(standin.all_responses()) == 5
    assert len(standin.violations) == 1
    assert "more than 5 times" in standin.violations[0]


def test_response_url_faults_and_block_checks(standin: SlackStandIn) -> None:
    url = standin.new_response_url()
    hook = WebhookClient(url)
    standin.fail_next("response_url", status=503)
    assert hook.send(text="x").status_code == 503  # WebhookClient does not retry 503
    bad = hook.send(text="x", blocks=[section("a" * 3001)])
    assert bad.status_code == 400
    assert json.loads(bad.body)["error"] == "invalid_blocks"
    assert hook.send(text="ok").status_code == 200
    assert standin.responses(url) == [{"text": "ok"}]
    assert len(standin.violations) == 1


def test_action_response_url_replaces_original(standin: SlackStandIn, client: WebClient) -> None:
    posted = client.chat_postMessage(
        channel="C0OPS",
        text="restart?",
        blocks=[{"type": "actions", "block_id": "confirm", "elements": [_button("restart", "Restart")]}],
    )
    payload = standin.block_action("restart", "web", message=posted["message"])
    assert payload["actions"][0]["block_id"] == "confirm"
    assert payload["container"]["message_ts"] == posted["ts"]
    WebhookClient(payload["response_url"]).send(text="restarted", replace_original=True)
    stored = standin.message("C0OPS", posted["ts"])
    assert stored is not None
    assert stored["text"] == "restarted"
    WebhookClient(payload["response_url"]).send(delete_original=True)
    assert standin.message("C0OPS", posted["ts"]) is None


# -- Socket Mode -------------------------------------------------------------------


def test_socket_mode_envelope_and_ack(standin: SlackStandIn) -> None:
    received: list[str] = []
    requests: list[SocketModeRequest] = []

    def on_request(sm: SocketModeClient, req: SocketModeRequest) -> None:
        requests.append(req)
        # Acks with a payload for every envelope, also where Slack ignores it.
        sm.send_socket_mode_response(
            SocketModeResponse(envelope_id=req.envelope_id, payload={"text": "on it"})
        )

    sm = SocketModeClient(
        app_token=standin.app_token,
        web_client=WebClient(base_url=standin.api_url),
        on_message_listeners=[received.append],
        auto_reconnect_enabled=False,
    )
    sm.socket_mode_request_listeners.append(on_request)
    try:
        sm.connect()
        assert standin.wait_socket_client(timeout=5) == 1
        assert standin.calls_to("apps.connections.open")[0].token == standin.app_token
        standin.wait_for(lambda: received, timeout=5, message="hello")
        hello = json.loads(received[0])
        assert hello["type"] == "hello"
        assert hello["connection_info"]["app_id"] == standin.app_id

        envelope_id = standin.send_envelope("slash_commands", standin.slash_command("ps -a"))
        ack = standin.wait_for_ack(envelope_id, timeout=5)
        assert ack.payload == {"text": "on it"}
        assert 0 <= ack.elapsed < 3
        assert requests[0].type == "slash_commands"
        assert requests[0].accepts_response_payload is True
        assert requests[0].payload["text"] == "ps -a"
        assert standin.violations == []

        delivery = standin.send_block_action("restart", "web")
        assert standin.wait_for_ack(delivery.envelope_id, timeout=5).payload == {"text": "on it"}
        assert requests[1].accepts_response_payload is False
        assert len(standin.violations) == 1
        assert "does not accept one" in standin.violations[0]
        standin.wait_for(
            lambda: sm.current_session and sm.current_session.last_ping_pong_time,
            timeout=5,
            message="pong to the client's ping",
        )
    finally:
        sm.close()


def test_bolt_socket_mode_handler_round_trip(standin: SlackStandIn) -> None:
    app = App(client=WebClient(base_url=standin.api_url, token=standin.bot_token))

    @app.command("/docker")
    def docker(ack: Any, respond: Any, command: dict[str, Any]) -> None:
        ack(f"running `{command['text']}`")
        respond(text="done", response_type="in_channel")

    handler = SocketModeHandler(app, standin.app_token)
    try:
        handler.connect()
        standin.wait_socket_client(timeout=5)
        delivery = standin.send_slash_command("ps")
        ack = standin.wait_for_ack(delivery.envelope_id, timeout=5)
        assert ack.payload == {"text": "running `ps`"}
        assert standin.wait_for_responses(delivery.response_url, 1)[0]["text"] == "done"
        assert standin.messages("C0OPS")[0]["text"] == "done"  # in_channel response
        first_session = handler.client.session_id()
        standin.send_disconnect()  # Slack's refresh: the client reconnects by itself
        # Wait for the client to switch sessions: closing it mid-reconnect leaks a socket.
        standin.wait_for(
            lambda: handler.client.session_id() != first_session and standin.socket_mode.client_count == 1,
            timeout=5,
            message="reconnect",
        )
    finally:
        handler.close()
    assert len(standin.calls_to("apps.connections.open")) == 2
    assert standin.violations == []


# -- signing and payload builders ---------------------------------------------------


def test_signed_headers_verify_with_slack_sdk(standin: SlackStandIn) -> None:
    body = form_body(payloads.slash_command("ps"))
    verifier = SignatureVerifier(standin.signing_secret)
    assert verifier.is_valid_request(body, signed_headers(standin.signing_secret, body))
    assert verifier.is_valid_request(body.encode(), signed_headers(standin.signing_secret, body))
    old = signed_headers(standin.signing_secret, body, timestamp=time.time() - 600)
    assert not verifier.is_valid_request(body, old)
    assert not verifier.is_valid_request(body + "x", signed_headers(standin.signing_secret, body))


def test_payload_builders_parse_in_bolt() -> None:
    fields = payloads.slash_command("logs web --tail 5", user_id="U1", channel_id="C2")
    headers = {"content-type": ["application/x-www-form-urlencoded"]}
    assert BoltRequest(body=form_body(fields), headers=headers).body == fields
    action = payloads.block_action("restart", "web", user_id="U1", channel_id="C2")
    parsed = BoltRequest(body=interactivity_body(action), headers=headers).body
    assert parsed["type"] == "block_actions"
    assert parsed["actions"][0]["value"] == "web"
    assert parsed["message"]["ts"] == parsed["container"]["message_ts"]
    ephemeral = payloads.block_action("restart", "web", ephemeral=True)
    assert "message" not in ephemeral
    assert ephemeral["container"]["is_ephemeral"] is True


def test_bolt_http_mode_drops_form_bodies_containing_payload() -> None:
    """Known Bolt behaviour: any form body containing "payload" parses to {} (HTTP mode)."""
    fields = payloads.slash_command("logs payload-api")
    headers = {"content-type": ["application/x-www-form-urlencoded"]}
    assert BoltRequest(body=form_body(fields), headers=headers).body == {}


# -- helpers -----------------------------------------------------------------------


def test_wait_for_times_out_with_clear_message(standin: SlackStandIn) -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0.05s waiting for nothing"):
        standin.wait_for(lambda: None, timeout=0.05, message="nothing")


def test_reset_clears_records(standin: SlackStandIn, client: WebClient) -> None:
    client.chat_postMessage(channel="C0OPS", text="x")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0OPS", text="x", blocks=[{"type": "nope"}])
    assert standin.calls and standin.violations
    standin.reset()
    assert standin.calls == [] and standin.violations == [] and standin.messages() == []


def test_unknown_path_is_a_violation(standin: SlackStandIn) -> None:
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(standin.base_url + "/chat.postMessage", data=b"", timeout=5)
    assert "unknown path" in standin.violations[0]
