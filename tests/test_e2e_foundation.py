"""The whole pipeline end to end: signed Slack requests -> real bot process -> real engine -> stand-in."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.bot_rig import BotProcess, answer_text
from tests.slack_standin import SlackStandIn, form_body, signed_headers
from tests.support import RUN_ID, TEST_LABEL, unique, wait_for

LABEL = f"{TEST_LABEL}={RUN_ID}"


def cli_names(*args: str) -> set[str]:
    out = subprocess.run(["docker", "ps", *args, "--format", "{{.Names}}"], check=True,
                         capture_output=True, text=True).stdout
    return set(out.split())


def table_names(text: str) -> set[str]:
    """The NAMES column of a ps table (the last column)."""
    lines = [line for line in text.splitlines() if line.strip()]
    return {line.split()[-1] for line in lines[1:]}


def code_text(body: dict) -> str:
    """The preformatted text of an answer (its code blocks)."""
    parts = []
    for block in body.get("blocks", []):
        text = block.get("text", {}).get("text", "")
        if text.startswith("```"):
            parts.append(text.strip("`"))
    return "\n".join(parts)


def test_ps_a_lists_the_same_containers_as_the_docker_cli(bot_server: BotProcess,
                                                          make_container) -> None:
    running = make_container(name=unique("run"))
    stopped = make_container("true", name=unique("stop"), start=False)
    answer = bot_server.command(f"ps -a --filter label={LABEL}")
    assert answer.status == 200 and answer.ack_seconds < 3
    body = bot_server.answers(answer)[0]
    assert body["response_type"] == "in_channel"
    assert table_names(code_text(body)) == cli_names("-a", "--filter", f"label={LABEL}")
    assert {running.name, stopped.name} <= table_names(code_text(body))
    only_running = bot_server.ask(f"ps --filter label={LABEL}")
    assert table_names(code_text(only_running)) == {running.name}


def test_ps_quiet_and_last(bot_server: BotProcess, make_container) -> None:
    first = make_container(name=unique("q1"))
    second = make_container(name=unique("q2"))
    quiet = code_text(bot_server.ask(f"ps -q --filter label={LABEL}"))
    assert set(quiet.split()) >= {first.id[:12], second.id[:12]}
    latest = bot_server.ask(f"ps -n 1 --filter label={LABEL}")
    assert table_names(code_text(latest)) == {second.name}


def test_long_output_goes_up_as_a_file(bot_server: BotProcess, make_container,
                                       slack: SlackStandIn) -> None:
    container = make_container("sh -c 'for i in $(seq 1 400); do echo line-$i-padding-padding; done;"
                               " sleep 300'")
    wait_for(lambda: b"line-400" in container.logs(tail=1), what="the log to be written")
    body = bot_server.ask(f"logs --tail 400 {container.name}")
    assert "line-400" in code_text(body)  # the end of the log is what shows inline
    upload = slack.wait_for(lambda: slack.files, message="a file upload")[0]
    assert upload.data == container.logs(tail=400)
    assert upload.channel_id == "C0OPS"


def test_logs_tail_since_and_timestamps(bot_server: BotProcess, make_container) -> None:
    container = make_container("sh -c 'echo out-line; echo err-line >&2; sleep 300'")
    wait_for(lambda: b"err-line" in container.logs(), what="log lines")
    body = bot_server.ask(f"logs --since 10m -t {container.name}")
    text = code_text(body)
    assert "out-line" in text and "err-line" in text  # stdout and stderr both
    assert text.split()[0].startswith(time.strftime("%Y-"))  # timestamps on
    last = code_text(bot_server.ask(f"logs --tail 1 {container.name}"))
    assert last == container.logs(tail=1).decode().strip()
    bad = bot_server.ask(f"logs --since yesterday {container.name}")
    assert "is not a time" in answer_text(bad)


def test_inspect_masks_secrets(bot_server: BotProcess, make_container) -> None:
    container = make_container(environment={"DB_PASSWORD": "hunter2", "API_TOKEN": "abc123",
                                             "MODE": "prod"})
    body = bot_server.ask(f"inspect {container.name}")
    text = answer_text(body)
    assert "running" in text and "MODE=prod" in text
    assert "hunter2" not in text and "abc123" not in text and "DB_PASSWORD=********" in text
    state = bot_server.ask(f"inspect --format '{{{{json .State.Running}}}}' {container.name}")
    assert code_text(state).strip() == "true"


def test_image_inspect_and_images(bot_server: BotProcess, busybox: str) -> None:
    text = answer_text(bot_server.ask(f"image inspect {busybox}"))
    assert "linux/amd64" in text or "linux/" in text
    assert "sha256:" in text
    images = code_text(bot_server.ask("images dockops-test/busybox"))
    assert "dockops-test/busybox" in images and "latest" in images


@pytest.mark.parametrize(("text", "expected"), [
    ("version", "Docker Engine"),
    ("info", "Containers"),
    ("system df", "RECLAIMABLE"),
    ("help", "ps"),
    ("ps --help", "Show all containers"),
])
def test_engine_wide_reads(bot_server: BotProcess, text: str, expected: str) -> None:
    assert expected in answer_text(bot_server.ask(text))


def test_private_answers_are_ephemeral(bot_server: BotProcess) -> None:
    assert bot_server.ask("version --private")["response_type"] == "ephemeral"


@pytest.mark.parametrize(("text", "expected"), [
    ("ps --bogus", "unknown flag: --bogus"),
    ("frobnicate", "is not a docker command"),
    ("logs no-such-container-xyz", "No such container"),
    ("inspect 'unclosed", "quote is not closed"),
])
def test_bad_input_gets_one_clear_message(bot_server: BotProcess, text: str, expected: str) -> None:
    answer = bot_server.command(text)
    bodies = bot_server.answers(answer)
    assert expected in answer_text(bodies[0])
    assert "Traceback" not in answer_text(bodies[0])
    time.sleep(0.3)  # one answer, not two
    assert len(bot_server.slack.responses(answer.response_url)) == 1


def test_unlisted_user_is_refused_naming_the_fix(bot_server: BotProcess) -> None:
    text = answer_text(bot_server.ask("ps", user_id="U0NOBODY"))
    assert "needs the viewer role" in text and "[access.roles]" in text


def test_fresh_install_lets_nobody_in(start_bot) -> None:
    bot = start_bot("")
    text = answer_text(bot.ask("ps"))
    assert "nobody has a role" in text and "[access]" in text


def test_bad_signature_and_stale_timestamp_are_rejected(bot_server: BotProcess,
                                                        slack: SlackStandIn) -> None:
    payload = slack.slash_command("ps")
    body = form_body(payload)
    forged = signed_headers("not-the-secret", body)
    assert bot_server.post("/slack/events", body, forged)[0] == 401
    stale = signed_headers(slack.signing_secret, body, timestamp=time.time() - 600)
    assert bot_server.post("/slack/events", body, stale)[0] == 401
    time.sleep(0.5)
    assert slack.responses(payload["response_url"]) == []


def test_healthz_reports_the_engine(bot_server: BotProcess) -> None:
    status, body = bot_server.get("/healthz")
    assert status == 200 and '"reachable": true' in body


def test_socket_mode_answers_the_same(start_bot, slack: SlackStandIn, make_container) -> None:
    bot = start_bot(mode="socket")
    container = make_container(name=unique("sock"))
    answer = bot.command(f"ps --filter label={LABEL}")
    assert answer.ack_seconds < 3
    body = bot.answers(answer)[0]
    assert container.name in table_names(code_text(body))


def test_a_command_mentioning_payload_is_still_a_command(bot_server: BotProcess,
                                                         make_container) -> None:
    # slack-bolt alone would parse this form body to {} (see bot/slack/compat.py).
    container = make_container("sh -c 'echo payload here; sleep 300'", name=unique("payload"))
    wait_for(lambda: b"payload" in container.logs(), what="the log line")
    assert "payload here" in code_text(bot_server.ask(f"logs {container.name}"))
