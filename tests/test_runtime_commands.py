"""stats, port, pause/unpause, rename, wait, diff, history, events, update: effects on the real
engine and what Slack received; roles decide before anything changes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from bot.commands import TABLE, parse
from bot.commands.parser import close_matches
from bot.errors import UsageError
from bot.follows import FOLLOWS
from bot.views.terminal import render
from tests.lifecycle_rig import Confirmed, Run, state
from tests.support import RecordingThread, wait_for

Make = Callable[..., docker.models.containers.Container]


def host_config(client: docker.DockerClient, name: str) -> dict:
    return client.api.inspect_container(name)["HostConfig"]


def live(run: Run, text: str) -> RecordingThread:
    """Start a follow as a Slack operator; its recorded thread."""
    outcome, sent = run(text, user="U0OPER", source="slack")
    assert outcome.ok and not sent.sent, sent.text()
    return sent.threads[0]


def stop_live(thread: RecordingThread) -> None:
    for follow in FOLLOWS.open():
        if follow.thread is thread:
            follow.stop("test done")
    wait_for(lambda: "Stopped after" in render(thread.updates[-1]), timeout=10,
             what="the follow to end")


# -- pause, unpause, rename ---------------------------------------------------------------------

def test_pause_and_unpause_change_the_state_and_a_viewer_changes_nothing(
        run_command: Run, make_container: Make, docker_client: docker.DockerClient) -> None:
    web, worker = make_container(), make_container()
    outcome, sent = run_command(f"pause {web.name}", user="U0VIEW", source="slack")
    assert not outcome.ok and state(docker_client, web.name) == "running"
    outcome, sent = run_command(f"container pause {web.name} {worker.name}", user="U0OPER",
                                source="slack")
    assert outcome.ok, sent.text()
    assert f"Paused {web.name}, {worker.name}" in sent.text()
    assert state(docker_client, web.name) == state(docker_client, worker.name) == "paused"
    outcome, sent = run_command(f"unpause {web.name} dockops-no-such-container")
    assert not outcome.ok
    assert f"Unpaused {web.name}" in sent.text() and "No such container" in sent.text()
    assert state(docker_client, web.name) == "running"
    assert state(docker_client, worker.name) == "paused"


def test_rename_gives_the_new_name_and_a_taken_name_is_refused(
        run_command: Run, make_container: Make, docker_client: docker.DockerClient) -> None:
    web, other = make_container(), make_container()
    new = web.name + "-new"
    outcome, sent = run_command(f"rename {web.name} {new}", user="U0OPER", source="slack")
    assert outcome.ok and f"Renamed {web.name} to {new}" in sent.text()
    assert docker_client.api.inspect_container(web.id)["Name"] == "/" + new
    outcome, sent = run_command(f"rename {new} {other.name}")
    assert not outcome.ok and "already in use" in sent.text()
    assert docker_client.api.inspect_container(web.id)["Name"] == "/" + new


# -- update ------------------------------------------------------------------------------------

def test_update_sets_restart_memory_and_cpus(run_command: Run, make_container: Make,
                                             docker_client: docker.DockerClient) -> None:
    web = make_container()
    outcome, sent = run_command(f"update -m 64m {web.name}")
    assert not outcome.ok and "--memory-swap -1" in sent.text()
    outcome, sent = run_command(f"update --restart on-failure:3 -m 64m --memory-swap -1 "
                                f"--cpus 0.5 {web.name}",
                                user="U0OPER", source="slack")
    assert outcome.ok, sent.text()
    assert f"Updated {web.name}" in sent.text()
    config = host_config(docker_client, web.name)
    assert config["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert config["Memory"] == 64 * 1024 * 1024 and config["NanoCpus"] == 500_000_000


def test_update_refuses_a_restart_policy_on_a_bound_container_for_an_operator(
        run_command: Run, make_container: Make, docker_client: docker.DockerClient,
        tmp_path: Path) -> None:
    bound = make_container(volumes={str(tmp_path): {"bind": "/data", "mode": "ro"}})
    outcome, sent = run_command(f"update --restart always {bound.name}", user="U0OPER",
                                source="slack")
    assert not outcome.ok and "refused by the run policy" in sent.text()
    assert "Nothing was changed" in sent.text()
    assert host_config(docker_client, bound.name)["RestartPolicy"]["Name"] in ("", "no")
    # Memory alone is not a restart: allowed. An admin may set the policy.
    outcome, _ = run_command(f"update -m 32m --memory-swap -1 {bound.name}", user="U0OPER",
                             source="slack")
    assert outcome.ok and host_config(docker_client, bound.name)["Memory"] == 32 * 1024 * 1024
    outcome, _ = run_command(f"update --restart always {bound.name}")
    assert outcome.ok and host_config(docker_client, bound.name)["RestartPolicy"]["Name"] == \
        "always"


def test_update_of_several_asks_first_and_nothing_is_a_usage_error(
        confirmed: Confirmed, run_command: Run, make_container: Make,
        docker_client: docker.DockerClient) -> None:
    one, two = make_container(), make_container()
    held, done, sent = confirmed(f"update --restart unless-stopped {one.name} {two.name}")
    assert held.awaiting_confirmation and "Update 2 containers: --restart unless-stopped" \
        in sent.text()
    assert done is not None and done.ok
    for name in (one.name, two.name):
        assert host_config(docker_client, name)["RestartPolicy"]["Name"] == "unless-stopped"
    outcome, sent = run_command(f"update {one.name}")
    assert not outcome.ok and "Nothing to update" in sent.text()


# -- wait ------------------------------------------------------------------------------------

def test_wait_prints_exit_codes_and_says_when_the_deadline_came(
        make_pipeline: Callable[..., Run], make_container: Make,
        docker_client: docker.DockerClient) -> None:
    run = make_pipeline("[limits]\nattached_run_seconds = 1\n")
    job = make_container(["sh", "-c", "exit 3"])
    wait_for(lambda: state(docker_client, job.name) == "exited", timeout=10, what="exit")
    outcome, sent = run(f"wait {job.name}", user="U0OPER", source="slack")
    assert outcome.ok and "```3```" in str(sent.last.blocks)
    sleeper = make_container()
    started = time.monotonic()
    outcome, sent = run(f"container wait {sleeper.name}")
    assert time.monotonic() - started < 8
    assert f"{sleeper.name} is still running after 1 s" in sent.text()
    assert state(docker_client, sleeper.name) == "running"
    outcome, sent = run("wait dockops-no-such-container")
    assert not outcome.ok and "No such container" in sent.text()


# -- diff, port, history -------------------------------------------------------------------------

def test_diff_port_and_history(run_command: Run, make_container: Make, busybox: str) -> None:
    web = make_container(["sh", "-c", "echo hi > /added; rm /bin/zcat; sleep 300"],
                         ports={"80/tcp": ("127.0.0.1", None)})
    wait_for(lambda: "A /added" in run_command(f"diff {web.name}")[1].text(), timeout=10,
             what="the change")
    outcome, sent = run_command(f"diff {web.name}", user="U0VIEW", source="slack")
    text = sent.text()
    assert "D /bin/zcat" in text and "C /bin" in text
    outcome, sent = run_command(f"port {web.name}", user="U0VIEW", source="slack")
    assert outcome.ok and "80/tcp -> 127.0.0.1:" in sent.text()
    outcome, sent = run_command(f"port {web.name} 81/udp")
    assert not outcome.ok and "No public port '81/udp' published" in sent.text()
    outcome, sent = run_command(f"image history {busybox}", user="U0VIEW", source="slack")
    assert outcome.ok and "CREATED BY" in sent.text() and "busybox --install" in sent.text()


# -- stats ---------------------------------------------------------------------------------------

def test_stats_no_stream_for_a_viewer_and_live_for_an_operator(
        make_pipeline: Callable[..., Run], make_container: Make) -> None:
    run = make_pipeline("[limits]\nfollow_seconds = 30\n")
    web = make_container()
    outcome, sent = run(f"stats --no-stream {web.name}", user="U0VIEW", source="slack")
    assert outcome.ok, sent.text()
    assert "MEM USAGE / LIMIT" in sent.text() and web.name in sent.text()
    assert "GiB" in sent.text() or "MiB" in sent.text()
    outcome, sent = run(f"stats {web.name}", user="U0VIEW", source="slack")
    assert not outcome.ok and not sent.threads  # a live table is an operator's follow
    idle = make_container(start=False)
    outcome, sent = run(f"stats {idle.name}", user="U0OPER", source="slack")
    assert not outcome.ok and "is not running" in sent.text() and not sent.threads
    thread = live(run, f"stats {web.name}")
    wait_for(lambda: web.name in render(thread.updates[-1])
             and "CPU %" in render(thread.updates[-1]), timeout=15, what="a live stats table")
    stop_live(thread)
    assert "test done" in render(thread.updates[-1])
    # Stop closes the engine stream: its reader thread ends, nothing keeps reading.
    wait_for(lambda: not any(t.name == f"stats-{web.id[:12]}" for t in threading.enumerate()),
             timeout=5, what="the stats reader to end")


# -- events --------------------------------------------------------------------------------------

def test_events_past_range_and_live(make_pipeline: Callable[..., Run], make_container: Make,
                                    docker_client: docker.DockerClient) -> None:
    run = make_pipeline("[limits]\nfollow_seconds = 30\n")
    job = make_container(start=False)
    job.start()
    time.sleep(0.01)
    # `--until 0s` is whole seconds, as the CLI sends it: a unix time keeps the fraction.
    outcome, sent = run(f"events --since 1m --until {time.time():.3f} -f container={job.id}",
                        user="U0VIEW", source="slack")
    assert outcome.ok, sent.text()
    assert f"container start {job.id} (" in sent.text() and f"name={job.name}" in sent.text()
    outcome, sent = run("events --until 1h")
    assert outcome.ok  # an hour ago: a past range
    outcome, sent = run("events --until 2099-01-01T00:00:00Z")
    assert not outcome.ok and "in the future" in sent.text()
    thread = live(run, f"events -f container={job.id}")
    docker_client.api.pause(job.id)
    wait_for(lambda: f"container pause {job.id}" in render(thread.updates[-1]), timeout=15,
             what="the live event")
    stop_live(thread)
    thread = live(run, "events -f")  # `-f` alone: follow every event
    docker_client.api.unpause(job.id)
    wait_for(lambda: f"container unpause {job.id}" in render(thread.updates[-1]), timeout=15,
             what="the live event")
    stop_live(thread)
    outcome, sent = run("events -f --until 0s")
    assert not outcome.ok and "use one" in sent.text()


# -- suggestions ---------------------------------------------------------------------------------

def test_unknown_commands_suggest_only_close_matches() -> None:
    assert close_matches("pause", ["push", "ps", "pull"]) == []
    assert close_matches("psuh", ["push", "ps", "pull"]) == ["push"]
    with pytest.raises(UsageError) as caught:
        parse("paus web", TABLE)
    assert "Did you mean `pause`?" in caught.value.detail
    with pytest.raises(UsageError) as caught:
        parse("frobnicate", TABLE)
    assert "Did you mean" not in caught.value.detail


def test_runtime_commands_take_host_after_their_name(run_command: Run, make_container: Make,
                                                     docker_client: docker.DockerClient) -> None:
    web = make_container()
    outcome, sent = run_command(f"pause --host nowhere {web.name}")
    assert not outcome.ok and state(docker_client, web.name) == "running"
    outcome, sent = run_command(f"pause --host local {web.name}")
    assert outcome.ok and state(docker_client, web.name) == "paused"
    outcome, sent = run_command(f"stats --no-stream -H local {web.name}")
    assert outcome.ok and web.name in sent.text()
