"""start, stop, restart, kill, exec and their previews, against the real engine."""

from __future__ import annotations

import time
from collections.abc import Callable

import docker
import pytest

from bot.services import Services
from tests.lifecycle_rig import Confirmed, Run, preview, state
from tests.support import wait_for

Make = Callable[..., docker.models.containers.Container]


def test_start_several_containers_and_report_the_one_that_failed(run_command: Run,
                                                                  make_container: Make,
                                                                  docker_client: docker.DockerClient
                                                                  ) -> None:
    first = make_container(start=False)
    second = make_container(start=False)
    outcome, sent = run_command(f"start {first.name} {second.name} dockops-no-such-container")
    assert not outcome.ok
    text = sent.text()
    assert f"Started {first.name}, {second.name}" in text
    assert "dockops-no-such-container: No such container" in text
    assert state(docker_client, first.name) == state(docker_client, second.name) == "running"


def test_start_a_posts_the_output_like_an_attached_run(run_command: Run, make_container: Make,
                                                       docker_client: docker.DockerClient) -> None:
    job = make_container(["sh", "-c", "echo started-output; exit 4"], start=False)
    outcome, sent = run_command(f"start -a {job.name}")
    assert "started-output" in sent.text() and "exited with code 4" in sent.text()
    assert not outcome.ok
    assert state(docker_client, job.name) == "exited"


def test_start_a_takes_one_container(run_command: Run) -> None:
    outcome, sent = run_command("start -a one two")
    assert not outcome.ok and "one container at a time" in sent.text()


def test_stop_with_a_timeout_and_restart(run_command: Run, make_container: Make,
                                         docker_client: docker.DockerClient) -> None:
    web = make_container()
    started = time.monotonic()
    outcome, sent = run_command(f"stop -t 1 {web.name}")
    assert outcome.ok and f"Stopped {web.name}" in sent.text()
    assert time.monotonic() - started < 8  # sleep ignores SIGTERM: killed after 1 s, not 10
    assert state(docker_client, web.name) == "exited"
    before = docker_client.api.inspect_container(web.name)["State"]["StartedAt"]
    outcome, sent = run_command(f"restart -t 1 {web.name}")
    assert outcome.ok and f"Restarted {web.name}" in sent.text()
    details = docker_client.api.inspect_container(web.name)
    assert details["State"]["Running"] and details["State"]["StartedAt"] != before


def test_stop_of_one_container_needs_no_confirmation_but_several_do(
        confirmed: Confirmed, make_container: Make, docker_client: docker.DockerClient) -> None:
    one, two = make_container(), make_container()
    direct, _, _ = confirmed(f"stop -t 0 {one.name}")
    assert direct.ok
    held, done, sent = confirmed(f"stop -t 0 {one.name} {two.name}")
    assert held.awaiting_confirmation and done is not None and done.ok
    assert "Stop 2 containers" in sent.text()
    assert state(docker_client, two.name) == "exited"


def test_kill_sends_the_signal_after_a_preview(confirmed: Confirmed, make_container: Make,
                                               docker_client: docker.DockerClient) -> None:
    # A shell that exits with 42 on HUP: proves the signal sent is the one asked for.
    web = make_container(["sh", "-c", "trap 'exit 42' HUP; while true; do sleep 0.1; done"])
    held, done, sent = confirmed(f"kill -s HUP {web.name}")
    assert held.awaiting_confirmation
    assert "Kill 1 container with HUP" in sent.text() and web.name in sent.text()
    assert done is not None and done.ok and f"Killed {web.name} with HUP" in sent.text()
    wait_for(lambda: state(docker_client, web.name) == "exited", timeout=10, what="exit")
    assert docker_client.api.inspect_container(web.name)["State"]["ExitCode"] == 42


def test_kill_preview_refuses_a_stopped_container_and_lists_targets(
        services: Services, make_container: Make, docker_client: docker.DockerClient) -> None:
    idle = make_container(start=False)
    busy = make_container()
    with pytest.raises(Exception, match="not running: there is nothing to kill"):
        preview(services, f"kill {busy.name} {idle.name}")
    shown = preview(services, f"kill {busy.name}").text()
    assert busy.name in shown and "SIGKILL" in shown
    assert state(docker_client, busy.name) == "running"  # a preview changes nothing


def test_previews_name_a_missing_container_and_do_nothing(services: Services,
                                                          make_container: Make,
                                                          docker_client: docker.DockerClient
                                                          ) -> None:
    web = make_container()
    with pytest.raises(Exception, match="No such container: `dockops-nope`"):
        preview(services, f"stop {web.name} dockops-nope")
    assert state(docker_client, web.name) == "running"


def test_exec_answers_exit_code_and_output_with_env_workdir_and_user(run_command: Run,
                                                                     make_container: Make) -> None:
    web = make_container()
    outcome, sent = run_command(f"exec -e GREETING=hi -w /bin -u 1000 {web.name} "
                                "sh -c 'echo $GREETING from $(pwd) as $(id -u); echo oops >&2; "
                                "exit 5'")
    text = sent.text()
    assert "hi from /bin as 1000" in text and "oops" in text
    assert "exited with code 5" in text and not outcome.ok


def test_exec_detached_returns_at_once(run_command: Run, make_container: Make) -> None:
    web = make_container()
    outcome, sent = run_command(f"exec -d {web.name} sh -c 'sleep 1; touch /done'")
    assert outcome.ok and "background" in sent.text()
    wait_for(lambda: web.exec_run(["test", "-f", "/done"]).exit_code == 0, timeout=10,
             what="the detached exec to finish")


def test_exec_past_the_deadline_stops_waiting(make_pipeline: Callable[[str], Run],
                                              make_container: Make) -> None:
    run = make_pipeline("[limits]\nattached_run_seconds = 1\n")
    web = make_container()
    started = time.monotonic()
    outcome, sent = run(f"exec {web.name} sh -c 'echo working; sleep 20'")
    assert time.monotonic() - started < 6
    assert outcome.ok and "still running" in sent.text() and "working" in sent.text()


@pytest.mark.parametrize("flags", ["-it", "-i", "-t"])
def test_exec_with_a_terminal_says_there_is_none(run_command: Run, make_container: Make,
                                                 flags: str) -> None:
    web = make_container()
    outcome, sent = run_command(f"exec {flags} {web.name} sh")
    assert not outcome.ok and "Slack has no terminal" in sent.text()
    assert f"/docker exec {web.name} sh," in sent.text()  # the line to type instead


def test_exec_in_a_stopped_container_says_to_start_it(run_command: Run,
                                                      make_container: Make) -> None:
    idle = make_container(start=False)
    outcome, sent = run_command(f"exec {idle.name} true")
    assert not outcome.ok and "is not running" in sent.text() and "start" in sent.text()


def test_a_viewer_cannot_stop_or_exec(run_command: Run, make_container: Make,
                                      docker_client: docker.DockerClient) -> None:
    web = make_container()
    for text in (f"stop {web.name}", f"exec {web.name} true", f"kill {web.name}",
                 f"start {web.name}", f"restart {web.name}"):
        outcome, sent = run_command(text, user="U0VIEW", source="slack")
        assert outcome.result == "refused" and "operator role" in sent.text(), text
    assert state(docker_client, web.name) == "running"


def test_an_operator_can_restart(run_command: Run, make_container: Make) -> None:
    web = make_container()
    outcome, _ = run_command(f"restart -t 0 {web.name}", user="U0OPER", source="slack")
    assert outcome.ok

