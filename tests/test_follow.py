"""`logs -f` and `attach`: one message updated in place, a Stop button, bounded, never blocking."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import docker
import pytest

from bot import metrics
from bot.engine.streams import LineBuffer
from bot.follows import FOLLOWS
from bot.views.lifecycle import STOP_FOLLOW_ACTION
from bot.views.message import Message
from bot.views.terminal import render
from tests.bot_rig import BotProcess
from tests.lifecycle_rig import Run
from tests.support import RecordingThread, unique, wait_for

Make = Callable[..., docker.models.containers.Container]
TICKER = "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.05; done"


def follow_id(message: Message) -> str:
    """The follow's ID, as its note shows it (the Stop button carries only a token)."""
    found = re.search(r"follow `([0-9a-f]{12})`", json.dumps(message.blocks))
    assert found and has_stop(message), "no live follow with a Stop button"
    return found.group(1)


def has_stop(message: Message) -> bool:
    return any(e.get("action_id") == STOP_FOLLOW_ACTION
               for b in message.blocks for e in b.get("elements", ()))


def finished(thread: RecordingThread) -> bool:
    return "Stopped after" in render(thread.updates[-1])


def start_follow(run: Run, text: str) -> RecordingThread:
    """Start a follow as a Slack operator (it runs on its own thread); its recorded thread."""
    outcome, sent = run(text, user="U0OPER", source="slack")
    assert outcome.ok and not sent.sent, sent.text()  # the thread message is the answer
    return sent.threads[0]


def test_logs_f_updates_one_message_then_stops_when_the_container_exits(
        run_command: Run, make_container: Make) -> None:
    job = make_container(["sh", "-c", "echo before; sleep 1.5; echo after; exit 3"])
    wait_for(lambda: "before" in job.logs().decode(), timeout=5, what="first line")
    thread = start_follow(run_command, f"logs -f {job.name}")
    assert has_stop(thread.updates[0])
    wait_for(lambda: finished(thread), timeout=15, what="the follow to end")
    last = render(thread.updates[-1])
    assert "before" in last and "after" in last
    assert f"{job.name} exited with code 3" in last
    assert not has_stop(thread.updates[-1])
    assert thread.replies == []  # short output: nothing more to attach


def test_stop_ends_a_follow_and_says_who(make_pipeline: Callable[[str], Run],
                                         make_container: Make) -> None:
    run = make_pipeline("[limits]\nfollow_seconds = 60\n")
    web = make_container(["sh", "-c", TICKER])
    open_before = metrics.FOLLOWS_OPEN._value.get()
    thread = start_follow(run, f"logs -f --tail 5 {web.name}")
    ident = follow_id(thread.updates[0])
    wait_for(lambda: "tick-" in render(thread.updates[-1]), timeout=10, what="live lines")
    assert metrics.FOLLOWS_OPEN._value.get() == open_before + 1
    assert FOLLOWS.stop(ident, "stopped by <@U0OPER>")
    wait_for(lambda: finished(thread), timeout=5, what="the closing update")
    assert "stopped by <@U0OPER>" in render(thread.updates[-1])
    wait_for(lambda: FOLLOWS.get(ident) is None, timeout=5, what="the registry to forget it")
    assert metrics.FOLLOWS_OPEN._value.get() == open_before
    assert not FOLLOWS.stop(ident)  # a second Stop finds nothing to stop


def test_a_follow_stops_by_itself_at_its_deadline_and_updates_at_most_once_a_second(
        make_pipeline: Callable[[str], Run], make_container: Make) -> None:
    run = make_pipeline("[limits]\nfollow_seconds = 3\nfollow_max_seconds = 600\n")
    web = make_container(["sh", "-c", TICKER])
    started = time.monotonic()
    thread = start_follow(run, f"logs -f {web.name}")
    wait_for(lambda: finished(thread), timeout=10, what="the deadline")
    elapsed = time.monotonic() - started
    assert 2.5 < elapsed < 6
    assert "reached its 3 s limit" in render(thread.updates[-1])
    # ~60 lines arrived: still at most one live update a second, plus the first and the last.
    assert len(thread.updates) <= 3 + 2 + 1, len(thread.updates)


def test_follow_max_seconds_caps_the_follow(make_pipeline: Callable[[str], Run],
                                            make_container: Make) -> None:
    run = make_pipeline("[limits]\nfollow_seconds = 600\nfollow_max_seconds = 1\n")
    web = make_container()
    thread = start_follow(run, f"attach {web.name}")
    wait_for(lambda: finished(thread), timeout=6, what="the capped follow")
    assert "reached its 1 s limit" in render(thread.updates[-1])


def test_several_follows_do_not_block_other_commands(make_pipeline: Callable[[str], Run],
                                                     make_container: Make) -> None:
    run = make_pipeline("[limits]\nfollow_seconds = 30\nworkers = 1\n")
    containers = [make_container(["sh", "-c", TICKER]) for _ in range(3)]
    threads = []
    started = time.monotonic()
    for container in containers:
        threads.append(start_follow(run, f"logs -f {container.name}"))
    outcome, _ = run("ps", user="U0OPER", source="slack")
    assert outcome.ok and time.monotonic() - started < 5
    for thread in threads:
        wait_for(lambda t=thread: "tick-" in render(t.updates[-1]), timeout=10, what="lines")
    assert FOLLOWS.stop_all("test over") >= 3
    assert all(finished(thread) for thread in threads)
    assert all("test over" in render(thread.updates[-1]) for thread in threads)


def test_tty_output_arrives_a_byte_at_a_time_and_is_posted_in_whole_lines(
        run_command: Run, make_container: Make) -> None:
    web = make_container(["sh", "-c", "while true; do echo 'hello whole line'; sleep 0.2; done"],
                         tty=True)
    thread = start_follow(run_command, f"logs -f {web.name}")
    wait_for(lambda: render(thread.updates[-1]).count("hello whole line") >= 3, timeout=10,
             what="tty lines")
    FOLLOWS.stop(follow_id(thread.updates[0]), "test over")
    wait_for(lambda: finished(thread), timeout=5, what="the end")
    lines = [line for line in render(thread.updates[-1]).splitlines() if "hello" in line]
    assert lines and all(line.strip() == "hello whole line" for line in lines), lines


def test_attach_follows_live_output_and_refuses_a_stopped_container(
        run_command: Run, make_container: Make) -> None:
    web = make_container(["sh", "-c", "echo old-line; sleep 1; " + TICKER])
    wait_for(lambda: "old-line" in web.logs().decode(), timeout=5, what="old output")
    thread = start_follow(run_command, f"attach {web.name}")
    assert "Attached to" in render(thread.updates[0])
    wait_for(lambda: "tick-" in render(thread.updates[-1]), timeout=10, what="live output")
    assert "old-line" not in render(thread.updates[-1])  # attach has no backlog
    FOLLOWS.stop(follow_id(thread.updates[0]), "test over")
    wait_for(lambda: finished(thread), timeout=5, what="the end")
    idle = make_container(start=False)
    outcome, sent = run_command(f"attach {idle.name}", user="U0OPER", source="slack")
    assert not outcome.ok and "is not running" in sent.text() and not sent.threads


def test_long_follows_attach_the_whole_output_in_the_thread(
        make_pipeline: Callable[[str], Run], make_container: Make) -> None:
    run = make_pipeline("[limits]\nfollow_seconds = 30\n")
    job = make_container(["sh", "-c", "sleep 1; i=0; while [ $i -lt 3000 ]; do echo line-$i; "
                                      "i=$((i+1)); done"])
    thread = start_follow(run, f"logs -f {job.name}")
    wait_for(lambda: finished(thread), timeout=15, what="the end")
    assert "line-2999" in render(thread.updates[-1])
    assert thread.replies and thread.replies[0].attachment is not None
    assert thread.replies[0].attachment.content.decode().splitlines()[-1] == "line-2999"


def test_follow_mistakes_are_clear(run_command: Run, make_container: Make) -> None:
    web = make_container()
    for text, problem in ((f"--private logs -f {web.name}", "cannot be private"),
                          ("logs -f dockops-no-such-container", "No such container")):
        outcome, sent = run_command(text, user="U0OPER", source="slack")
        assert not outcome.ok and problem in sent.text(), text
        assert not sent.threads


def test_logs_f_needs_an_operator(run_command: Run, make_container: Make) -> None:
    web = make_container()
    outcome, sent = run_command(f"logs -f {web.name}", user="U0VIEW", source="slack")
    assert outcome.result == "refused" and "operator" in sent.text() and not sent.threads


def test_the_console_waits_for_its_follow(make_pipeline: Callable[[str], Run],
                                          make_container: Make) -> None:
    run = make_pipeline("[limits]\nfollow_seconds = 1\n")
    web = make_container()
    started = time.monotonic()
    outcome, sent = run(f"logs -f {web.name}")
    assert outcome.ok and time.monotonic() - started >= 0.9
    assert finished(sent.threads[0])


def test_line_buffer_joins_bytes_and_keeps_the_tail() -> None:
    buffer = LineBuffer(keep_chars=30)
    for byte in "héllo\r\nwörld\nprogress 10%\rprogress 99%\n".encode():
        buffer.feed(bytes([byte]))
    buffer.feed(b"partial")
    assert buffer.text() == "héllo\nwörld\nprogress 99%\npartial"
    for i in range(10):
        buffer.feed(f"line-{i}\n".encode())
    assert buffer.truncated and buffer.text().endswith("line-9\n")
    assert len(buffer.text()) <= 40


# -- end to end through Slack ---------------------------------------------------------------

@pytest.mark.timeout(120)
def test_logs_f_and_stop_through_slack(bot_server: BotProcess, make_container: Make) -> None:
    web = make_container(["sh", "-c", TICKER], name=unique("slackf"))
    slack = bot_server.slack
    answer = bot_server.command(f"logs -f {web.name}", user_id="U0OPER")
    assert answer.status == 200 and answer.ack_seconds < 3
    posted = slack.wait_for_calls("chat.postMessage", 1)[0]
    channel, ts = posted.response["channel"], posted.response["ts"]
    slack.wait_for_calls("chat.update", 2, timeout=15)
    message = slack.message(channel, ts)
    assert message is not None and "tick-" in str(message["blocks"])
    stop_value = next(e["value"] for b in message["blocks"] for e in b.get("elements", ())
                      if e.get("action_id") == STOP_FOLLOW_ACTION)
    # A viewer may not stop it (and the refusal leaves the button usable); an operator may.
    status, url = bot_server.click(STOP_FOLLOW_ACTION, stop_value, user_id="U0VIEW",
                                   message=message)
    assert status == 200
    assert "needs the operator role" in str(slack.wait_for_responses(url, 1)[0])
    status, _ = bot_server.click(STOP_FOLLOW_ACTION, stop_value, user_id="U0OPER",
                                 message=message)
    assert status == 200

    def closed() -> bool:
        current = slack.message(channel, ts) or {}
        return "stopped by <@U0OPER>" in str(current.get("blocks"))

    wait_for(closed, timeout=10, what="the closing update in Slack")
    final = slack.message(channel, ts) or {}
    assert STOP_FOLLOW_ACTION not in str(final.get("blocks"))
    assert slack.violations == []
