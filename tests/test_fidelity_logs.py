"""`logs` against `docker logs` on the same container, byte for byte (issue 13).

The container writes 40 lines a few milliseconds apart (stdout and stderr, tabs, Unicode) and
carries a log attribute (`--log-opt labels=`), so `--details` has something to print. Times
for `--since`/`--until` are taken from the log itself, to the nanosecond: a tool that rounds
them to seconds shows other lines than docker does.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from bot.views.terminal import render
from tests.bot_rig import BotProcess, answer_text
from tests.fidelity import answer as ours
from tests.fidelity import code_text as inline
from tests.fidelity import compare
from tests.slack_standin import SlackStandIn
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, Runner, unique, wait_for

LINES = 40


@pytest.fixture(scope="module")
def talker(docker_client: docker.DockerClient) -> Iterator[str]:
    name = unique("logs")
    script = (f"i=1; while [ $i -le {LINES} ]; do "
              "printf 'line %02d\\tcaf\\303\\251 x=%d\\n' $i $i; "
              "[ $((i % 7)) -eq 0 ] && echo \"err $i\" >&2; sleep 0.02; i=$((i+1)); done; "
              "sleep 600")
    api = docker_client.api
    created = api.create_container(
        BUSYBOX, ["sh", "-c", script], name=name,
        labels={TEST_LABEL: RUN_ID, "team": "api"},
        host_config=api.create_host_config(log_config={"type": "json-file",
                                                       "config": {"labels": "team"}}))
    api.start(created["Id"])
    wait_for(lambda: f"line {LINES:02d}".encode() in api.logs(name, tail=2), timeout=20,
             what="the container's lines")
    yield name
    api.remove_container(created["Id"], force=True)


def docker_logs(*args: str) -> str:
    """`docker logs ARGS` as a terminal shows it: stdout and stderr in the order written."""
    done = subprocess.run(["docker", "logs", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=60, check=True)
    return done.stdout.decode()


def same(command: str, mine: str, theirs: str) -> None:
    mismatches = compare(f"logs {command}", {"output": mine}, {"output": theirs})
    assert not mismatches, f"logs {command}: " + "; ".join(mismatches)


def timestamps(name: str) -> list[str]:
    """Each line's RFC 3339 timestamp with nanoseconds, in order."""
    return [line.split(" ", 1)[0] for line in docker_logs("-t", name).splitlines()]


def unix(rfc3339: str) -> str:
    """`2026-11-30T14:49:35.683820868Z` as `SECONDS.NANOSECONDS`."""
    from datetime import datetime

    head, _, fraction = rfc3339.rstrip("Z").partition(".")
    seconds = int(datetime.fromisoformat(head + "+00:00").timestamp())
    return f"{seconds}.{fraction.ljust(9, '0')}"


@pytest.mark.parametrize("flags", ["--tail 5", "--tail 5 -t", "--tail 12 --details",
                                   "--tail 3 -t --details", "--tail all"])
def test_logs_with_tail_equal_docker_logs(run_command: Runner, talker: str, flags: str) -> None:
    mine = inline(ours(run_command, f"logs {flags} {talker}"))
    same(flags, mine, docker_logs(*flags.split(), talker).rstrip("\n"))


@pytest.mark.parametrize("form", ["rfc3339", "unix"])
def test_since_and_until_keep_nanoseconds(run_command: Runner, talker: str, form: str) -> None:
    stamps = timestamps(talker)
    since, until = stamps[10], stamps[20]
    if form == "unix":
        since, until = unix(since), unix(until)
    flags = f"--since {since} --until {until} -t"
    mine = inline(ours(run_command, f"logs {flags} {talker}"))
    theirs = docker_logs(*flags.split(), talker).rstrip("\n")
    same(f"--since/--until ({form})", mine, theirs)
    shown = mine.splitlines()
    assert shown[0].startswith(stamps[10]) and shown[-1].startswith(stamps[20]), mine


def test_logs_without_tail_show_the_last_lines_and_attach_the_whole_log(
        make_pipeline: Callable[..., Runner], talker: str) -> None:
    run = make_pipeline("[limits]\nlog_tail = 5\n")
    for flags in ("", "-t --details"):
        message = ours(run, f"logs {flags} {talker}".replace("  ", " "))
        theirs = docker_logs(*flags.split(), talker)
        assert message.attachment is not None and message.attachment.spool is not None
        whole = Path(message.attachment.spool.path).read_bytes().decode()
        same(f"{flags} (attached file)".strip(), whole, theirs)
        last = "\n".join(theirs.rstrip("\n").splitlines()[-5:])
        same(f"{flags} (inline)".strip(), inline(message), last)
        said = str(message.blocks)
        assert "Slack shows the last 5 of" in said and f"attached as `{talker}.log`" in said


def test_the_attached_log_is_deleted_once_the_answer_is_dropped(
        make_pipeline: Callable[..., Runner], talker: str) -> None:
    import gc

    run = make_pipeline("[limits]\nlog_tail = 5\n")
    message = ours(run, f"logs {talker}")
    assert message.attachment is not None and message.attachment.spool is not None
    path = Path(message.attachment.spool.path)
    assert path.exists()
    del message
    gc.collect()
    assert not path.exists()


def test_a_bad_since_says_so(run_command: Runner, talker: str) -> None:
    outcome, sent = run_command(f"logs --since yesterday {talker}")
    assert not outcome.ok and "is not a time" in sent.text()


def test_through_slack_the_whole_log_is_uploaded_from_disk_byte_for_byte(
        start_bot: Callable[..., BotProcess], slack: SlackStandIn, talker: str) -> None:
    from tests.conftest import ACCESS

    bot = start_bot(ACCESS + "[limits]\nlog_tail = 5\n")
    body = bot.ask(f"logs -t {talker}")
    assert "Slack shows the last 5 of" in answer_text(body)
    upload = slack.wait_for(lambda: slack.files, message="the whole log as a file")[0]
    assert upload.filename == f"{talker}.log" and upload.channel_id == "C0OPS"
    assert upload.declared_length == len(upload.data)
    same("-t (uploaded through Slack)", upload.data.decode(), docker_logs("-t", talker))
    assert not slack.violations


def test_a_follow_with_details_and_since_shows_what_docker_logs_shows(
        make_pipeline: Callable[..., Runner], talker: str) -> None:
    from tests.test_follow import finished, start_follow

    run = make_pipeline("[limits]\nfollow_seconds = 1\n")
    since = timestamps(talker)[LINES - 3]
    thread = start_follow(run, f"logs -f --details -t --since {since} {talker}")
    wait_for(lambda: finished(thread), timeout=10, what="the follow to end")
    body = "\n".join(inline(update) for update in thread.updates)
    theirs = docker_logs("--details", "-t", "--since", since, talker).rstrip("\n")
    assert theirs and all(line in body for line in theirs.splitlines()), (body, theirs)
    assert "team=api " in theirs  # the attribute --details adds, before each line


def test_logs_f_until_stops_at_that_time_showing_the_lines_docker_shows(
        run_command: Runner, make_container: Callable[..., docker.models.containers.Container]
) -> None:
    ticker = make_container(["sh", "-c", "i=0; while true; do echo tick-$i; i=$((i+1)); "
                                         "sleep 0.2; done"])
    wait_for(lambda: b"tick-2" in ticker.logs(), timeout=10, what="the first ticks")
    until = f"{time.time() + 1.5:.9f}"
    started = time.monotonic()
    outcome, sent = run_command(f"logs -f --until {until} {ticker.name}", user="U0OPER",
                                source="slack")
    assert outcome.ok and sent.threads, sent.text()
    thread = sent.threads[0]
    wait_for(lambda: "Stopped after" in render(thread.updates[-1]), timeout=10,
             what="the follow to stop at --until")
    assert time.monotonic() - started < 4  # the follow limit is far longer
    shown = render(thread.updates[-1])
    assert "the log reached --until" in shown.replace("`", "")
    theirs = subprocess.run(["docker", "logs", "--until", until, ticker.name],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    last = int(theirs[-1].removeprefix("tick-"))
    assert all(line in shown for line in theirs[-5:])  # the lines up to --until, as docker's
    assert f"tick-{last + 1}" not in shown.split()  # and none after it
