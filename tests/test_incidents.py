"""Incidents against a real engine and a real `dockops serve`: what Slack received.

One bot process serves the module (its rule watches only containers labelled with this
run's id, so other tests' containers never open incidents here).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from bot.engine.client import Engine
from bot.engine.recreate import recreate as engine_recreate
from bot.incidents.notices import RESTART_ACTION, ROLLBACK_ACTION
from tests.bot_rig import BotProcess, launch_bot
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, unique, wait_for

# A real `dockops serve` on the real engine: out of `make test-fast`.
pytestmark = [pytest.mark.engine, pytest.mark.slack_process]

CHANNEL = "C0INCIDENTS"
WATCH = "dockops.incidents"


def alerts_toml(extra: str = "") -> str:
    return ACCESS + f"""
[[alerts]]
name = "crashes"
channel = "{CHANNEL}"
containers = ["label:{WATCH}={RUN_ID}"]
exclude = ["name:*-ignored"]
log_lines = 5
group_window = "10m"
restart_loop = {{ restarts = 3, within = "10m" }}
{extra}"""


@pytest.fixture(scope="module")
def incident_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    with SlackStandIn(socket_ping_interval=0.2) as slack:
        bot = launch_bot(slack, tmp_path_factory.mktemp("incidents"), alerts_toml(),
                         extra_env={"DOCKOPS_INCIDENT_RECOVERY_SECONDS": "3"})
        wait_for(lambda: "following container events" in bot.log(), timeout=15,
                 what="the incident followers to start")
        yield bot
        bot.stop()
        assert slack.violations == [], slack.violations


@pytest.fixture
def watched(docker_client: docker.DockerClient, busybox: str
            ) -> Iterator[Callable[..., Any]]:
    """Containers the rule watches (labelled with this run); removed after the test."""
    made: list[str] = []

    def make(command: str, *, name: str | None = None, **kwargs: Any) -> Any:
        labels = {TEST_LABEL: RUN_ID, WATCH: RUN_ID, **kwargs.pop("labels", {})}
        container = docker_client.containers.run(busybox, ["sh", "-c", command],
                                                 name=name or unique("inc"), labels=labels,
                                                 detach=True, **kwargs)
        made.append(container.id)
        return container

    yield make
    for container_id in made:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.api.remove_container(container_id, force=True)


def top_level(slack: SlackStandIn, name: str) -> list[dict[str, Any]]:
    """Incident messages (not thread replies) that name the container."""
    return [m for m in slack.messages(CHANNEL) if m.get("thread_ts", m["ts"]) == m["ts"]
            and f"`{name}`" in json.dumps(m.get("blocks", []))]


def thread(slack: SlackStandIn, parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in slack.messages(CHANNEL)
            if m.get("thread_ts") == parent["ts"] and m["ts"] != parent["ts"]]


def text_of(message: dict[str, Any]) -> str:
    return message.get("text", "") + json.dumps(message.get("blocks", []))


def one_incident(slack: SlackStandIn, name: str, timeout: float = 20) -> dict[str, Any]:
    found = wait_for(lambda: top_level(slack, name), timeout=timeout,
                     what=f"the incident message for {name}")
    assert len(found) == 1, [text_of(m) for m in found]
    return found[0]


def test_exit_3_is_one_incident_with_its_exit_code_and_last_lines_exit_0_is_none(
        incident_bot: BotProcess, watched: Callable[..., Any]) -> None:
    slack = incident_bot.slack
    clean = watched("echo all-good; exit 0")
    crashed = watched("echo line-one; echo line-two; echo PASSWORD=hunter2; exit 3")
    ignored = watched("exit 4", name=unique("inc") + "-ignored")
    message = one_incident(slack, crashed.name)
    text = text_of(message)
    assert "exit code 3" in text and "line-two" in text and "line-one" in text
    assert "hunter2" not in text  # masked like every log
    assert "localhost" not in text and "crashes" in text
    assert "Restart" in text and "Resolve" in text and "Roll back" not in text
    # Events arrive in order: a later crash posted means the earlier ones were decided.
    barrier = watched("exit 5")
    one_incident(slack, barrier.name)
    assert top_level(slack, clean.name) == [] and top_level(slack, ignored.name) == []


def test_a_container_killed_for_memory_is_one_incident_saying_oomkilled(
        incident_bot: BotProcess, watched: Callable[..., Any],
        docker_client: docker.DockerClient) -> None:
    hog = watched("x=a; while true; do x=$x$x; done", mem_limit="8m", memswap_limit="8m")
    wait_for(lambda: docker_client.api.inspect_container(hog.id)["State"]["Status"] == "exited",
             timeout=30, what="the memory hog to be killed")
    assert docker_client.api.inspect_container(hog.id)["State"]["OOMKilled"] is True
    message = one_incident(incident_bot.slack, hog.name)
    assert "OOMKilled" in text_of(message)
    time.sleep(1.5)  # the die that follows the oom goes into the same incident
    assert len(top_level(incident_bot.slack, hog.name)) == 1


def test_a_failing_health_check_is_one_unhealthy_incident_with_the_probe_output(
        incident_bot: BotProcess, watched: Callable[..., Any]) -> None:
    sick = watched("sleep 300", healthcheck={
        "test": ["CMD-SHELL", "echo probe-says-no; exit 1"], "interval": 500_000_000,
        "timeout": 2_000_000_000, "retries": 1})
    message = one_incident(incident_bot.slack, sick.name, timeout=30)
    text = text_of(message)
    assert "unhealthy" in text and "probe-says-no" in text


def test_a_restart_loop_is_one_incident_whose_counter_rises_then_it_recovers(
        incident_bot: BotProcess, watched: Callable[..., Any]) -> None:
    slack = incident_bot.slack
    # Exits at once four times, then stays up: the file lives in the container's own layer.
    flappy = watched("n=$(cat /n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /n; "
                     "echo attempt $n; [ $n -ge 5 ] && exec sleep 300; exit 1",
                     restart_policy={"Name": "always"})
    message = one_incident(slack, flappy.name)

    def looped() -> dict[str, Any] | None:
        current = slack.message(CHANNEL, message["ts"]) or {}
        return current if "restart loop" in text_of(current) else None

    current = wait_for(looped, timeout=30, what="the counter to show a restart loop")
    assert "Occurrences" in text_of(current)
    recovered = wait_for(lambda: [m for m in thread(slack, message)
                                  if "recovered after" in text_of(m)],
                         timeout=40, what="the recovered reply")
    assert len(recovered) == 1
    assert len(top_level(slack, flappy.name)) == 1  # never one message per restart
    replies = thread(slack, message)
    assert len(replies) <= 4, [text_of(m) for m in replies]
    final = wait_for(lambda: "recovered after" in text_of(
        slack.message(CHANNEL, message["ts"]) or {}) and slack.message(CHANNEL, message["ts"]),
        timeout=15, what="the message to say recovered")
    assert "Restart" not in json.dumps([b for b in final["blocks"] if b["type"] == "actions"])


def _button(message: dict[str, Any], action_id: str) -> str:
    for block in message.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in {text_of(message)}")


def test_restart_button_refuses_a_viewer_and_restarts_for_an_operator(
        incident_bot: BotProcess, watched: Callable[..., Any],
        docker_client: docker.DockerClient) -> None:
    slack = incident_bot.slack
    crashed = watched("echo bye; exit 2")
    message = one_incident(slack, crashed.name)
    token = _button(message, RESTART_ACTION)
    before = docker_client.api.inspect_container(crashed.id)["State"]["StartedAt"]
    status, refused_url = incident_bot.click(RESTART_ACTION, token, user_id="U0VIEW",
                                             channel_id=CHANNEL, message=message)
    assert status == 200
    [refusal] = slack.wait_for_responses(refused_url, 1, 15)
    assert "operator" in text_of(refusal).lower()
    assert docker_client.api.inspect_container(crashed.id)["State"]["StartedAt"] == before
    status, _ = incident_bot.click(RESTART_ACTION, token, user_id="U0OPER", channel_id=CHANNEL,
                                   message=message)
    assert status == 200
    wait_for(lambda: docker_client.api.inspect_container(crashed.id)["State"]["StartedAt"]
             != before, timeout=15, what="the container to be restarted")
    wait_for(lambda: any("restart" in text_of(m).lower() for m in thread(slack, message)),
             timeout=15, what="the answer in the incident's thread")


def test_roll_back_is_offered_after_a_recreate_and_asks_for_a_confirmation(
        incident_bot: BotProcess, watched: Callable[..., Any],
        docker_client: docker.DockerClient) -> None:
    slack = incident_bot.slack
    name = unique("inc")
    first = watched("while [ ! -f /die ]; do sleep 0.2; done; echo dying; exit 9", name=name)
    result = engine_recreate(Engine(), name, BUSYBOX, timeout=5, settle=0.5)
    assert result.ok, result.reason
    current = docker_client.api.inspect_container(name)["Id"]
    assert current != first.id
    watched_ids = [current]
    docker_client.api.exec_start(docker_client.api.exec_create(name, ["touch", "/die"]))
    try:
        message = one_incident(slack, name)
    except AssertionError:
        print(incident_bot.log()[-5000:])
        print(json.dumps(slack.messages(CHANNEL))[-3000:])
        raise
    token = _button(message, ROLLBACK_ACTION)
    status, _ = incident_bot.click(ROLLBACK_ACTION, token, user_id="U0OPER", channel_id=CHANNEL,
                                   message=message)
    assert status == 200
    preview = wait_for(lambda: [m for m in thread(slack, message) if "Roll back" in text_of(m)],
                       timeout=15, what="the roll back preview in the thread")
    assert "Confirm" in text_of(preview[0])
    assert docker_client.api.inspect_container(name)["Id"] == watched_ids[0]  # nothing yet
    from bot.views.confirm import CONFIRM_ACTION

    status, _ = incident_bot.click(CONFIRM_ACTION, _button(preview[0], CONFIRM_ACTION),
                                   user_id="U0OPER", channel_id=CHANNEL, message=preview[0])
    assert status == 200
    rolled = wait_for(lambda: docker_client.api.inspect_container(name)["Id"] != current and
                      docker_client.api.inspect_container(name), timeout=30,
                      what="the container to be recreated on its previous image")
    assert rolled["Image"] == result.old_image_id
    docker_client.api.remove_container(name, force=True)


def test_alerts_commands_list_rules_history_and_mute(incident_bot: BotProcess) -> None:
    listing = text_of(incident_bot.ask("alerts", user_id="U0VIEW"))
    assert "crashes" in listing and CHANNEL in listing
    history = text_of(incident_bot.ask("alerts history crashes", user_id="U0VIEW"))
    assert "crashes" in history
    refused = text_of(incident_bot.ask("alerts mute crashes 5m", user_id="U0OPER"))
    assert "admin" in refused.lower()
    unknown = text_of(incident_bot.ask("alerts mute nosuch", user_id="U0ADMIN"))
    assert "No alert rule named" in unknown


def open_home(incident_bot: BotProcess, user: str) -> None:
    from tests.slack_standin import signed_headers

    envelope_payload = {"type": "event_callback", "team_id": "T0TEAM", "api_app_id": "A0APP",
                        "event": {"type": "app_home_opened", "user": user, "tab": "home",
                                  "channel": "D" + user[1:]},
                        "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time())}
    body = json.dumps(envelope_payload)
    status, _ = incident_bot.post("/slack/events", body, {
        **signed_headers(incident_bot.slack.signing_secret, body),
        "Content-Type": "application/json"})
    assert status == 200


def test_app_home_shows_the_fleet(incident_bot: BotProcess) -> None:
    slack = incident_bot.slack
    open_home(incident_bot, "U0VIEW")
    [call] = wait_for(lambda: slack.calls_to("views.publish"), timeout=15,
                      what="views.publish")
    view = json.dumps(call.params)
    assert "local" in view and "running" in view and "Open incidents" in view


def test_app_home_shows_nothing_of_the_fleet_to_someone_without_a_role(
        incident_bot: BotProcess) -> None:
    slack = incident_bot.slack
    open_home(incident_bot, "U0NOBODY")
    calls = wait_for(lambda: [c for c in slack.calls_to("views.publish")
                              if c.params.get("user_id") == "U0NOBODY"], timeout=15,
                     what="views.publish")
    view = json.dumps(calls[-1].params)
    assert "no dockops role" in view
    assert "local" not in view and "running" not in view and "incident" not in view.lower()


def test_the_rule_config_is_checked_like_jobs(tmp_path: Path) -> None:
    from bot.config import parse_file
    from bot.errors import DockopsError

    text = ('[[alerts]]\nname = "x"\nchannel = "#ops"\nevents = ["boom"]\n'
            'containers = ["pod:x"]\nquiet_hours = "25:00-01:00"\n')
    with pytest.raises(DockopsError) as caught:
        parse_file(text, "dockops.toml")
    lines = caught.value.detail.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("line 3: [[alerts]] #1 (x) channel:")
    assert any(line.startswith("line 5: [[alerts]] #1 (x) containers:") for line in lines)


def test_logs_button_follows_in_the_thread_and_resolve_closes_the_incident(
        incident_bot: BotProcess, watched: Callable[..., Any]) -> None:
    from bot.incidents.notices import LOGS_ACTION, RESOLVE_ACTION

    slack = incident_bot.slack
    crashed = watched("echo last-words-here; exit 6")
    message = one_incident(slack, crashed.name)
    status, _ = incident_bot.click(LOGS_ACTION, _button(message, LOGS_ACTION), user_id="U0OPER",
                                   channel_id=CHANNEL, message=message)
    assert status == 200
    wait_for(lambda: any("last-words-here" in text_of(m) for m in thread(slack, message)),
             timeout=20, what="the follow's output in the incident's thread")
    status, _ = incident_bot.click(RESOLVE_ACTION, _button(message, RESOLVE_ACTION),
                                   user_id="U0OPER", channel_id=CHANNEL, message=message)
    assert status == 200
    wait_for(lambda: "resolved by" in text_of(slack.message(CHANNEL, message["ts"]) or {}),
             timeout=20, what="the incident message to say resolved")
    assert any("Resolved by" in text_of(m) for m in thread(slack, message))
    history = text_of(incident_bot.ask("alerts history crashes", user_id="U0VIEW"))
    assert crashed.name in history and "resolved" in history
