"""task_failed without an engine: one incident per service, grouping, exactly once, selectors on
the service, and the card's words and buttons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine.events import ContainerFacts, EngineEvent, FailedTask
from bot.incidents import notices as n
from bot.incidents.tasks import wants_tasks
from bot.incidents.tracker import Tracker
from bot.store import Store
from bot.store import incidents as records
from bot.store import outbox as rows
from bot.views.incidents import render
from tests.conftest import ACCESS, make_settings

RULE = """
[[alerts]]
name = "tasks"
channel = "C0OPS"
hosts = ["local"]
events = ["task_failed", "die"]
containers = ["compose:shop", "name:web*"]
ignore_exit_codes = [0, 143]
group_window = "10m"
"""
S = 1_000_000_000


def failed(at: int, task_id: str, *, service: str = "shop_api", error: str = "task: non-zero "
           "exit (1)", state: str = "failed", exit_code: int = 1) -> FailedTask:
    attributes = {"name": service, "image": "app:1", "com.docker.stack.namespace": "shop",
                  "com.docker.compose.project": "shop"} if service.startswith("shop_") \
        else {"name": service, "image": "app:1"}
    return FailedTask(at * S, task_id, f"{service}.1", f"id-{service}", service, "node-1",
                      "app:1@sha256:" + "d" * 64, state, error, exit_code, attributes)


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[Tracker]:
    settings = make_settings(tmp_path, ACCESS + RULE)
    store = Store(settings.data_dir)
    yield Tracker(settings, store)
    store.close()


def test_failed_tasks_of_a_service_are_one_incident_with_a_thread_and_a_counter(
        tracker: Tracker) -> None:
    assert tracker.handle_task("local", failed(1000, "t1")) == 1
    assert tracker.handle_task("local", failed(1001, "t2")) == 0
    assert tracker.handle_task("local", failed(1001, "t2")) == 0  # seen: nothing twice
    assert tracker.handle_task("local", failed(1002, "t3", exit_code=143)) == 0  # ignored
    assert tracker.handle_task("other", failed(1003, "t4")) == 0  # not a host of the rule
    assert tracker.handle_task("local", failed(1004, "t5", service="db")) == 0  # not selected
    [incident] = records.open_incidents(tracker.store)
    assert (incident.container, incident.kind, incident.count) == ("shop_api", "task_failed", 2)
    keys = [row.key for row in rows.queued(tracker.store)]
    assert keys == [f"incident:{incident.id}:message", f"incident:{incident.id}:reply:{1001 * S}:t2",
                    f"incident:{incident.id}:update:{keys[-1].rsplit(':', 1)[-1]}"]
    first, reply, update = (n.decode(row.payload) for row in rows.queued(tracker.store))
    assert isinstance(first, n.IncidentCard) and isinstance(update, n.IncidentCard)
    assert update.count == 2 and update.task == "shop_api.1" and update.node == "node-1"
    text = json.dumps(render(first).blocks)
    assert "shop_api" in text and "task: non-zero exit (1)" in text and "node-1" in text
    assert "Tasks" in text and "Roll back" not in text and "Restart" not in text
    assert "failed again on node" in render(reply).text


def test_a_rejected_task_says_why_and_a_task_container_dies_only_as_its_task(
        tracker: Tracker) -> None:
    tracker.handle_task("local", failed(1000, "r1", service="web", state="rejected",
                                        error="No such image: app:nope", exit_code=0))
    card = n.decode(rows.queued(tracker.store)[0].payload)
    assert isinstance(card, n.IncidentCard)
    assert "rejected: No such image: app:nope" in render(card).text
    die = EngineEvent(1001 * S, "die", "c1", {"name": "web.1.abc", "exitCode": "1",
                                              "com.docker.swarm.task.id": "t9"})
    facts = ContainerFacts("web.1.abc", "app:1", "", "", "exited", False, 1, False, 0, 0.0, 0.0,
                           "", "", "")
    assert tracker.handle("local", die, lambda *_: facts) == 0
    assert len(records.open_incidents(tracker.store)) == 1


def test_only_hosts_a_task_failed_rule_covers_are_polled(tmp_path: Path) -> None:
    rules = make_settings(tmp_path, ACCESS + RULE).alerts
    assert wants_tasks(rules, "local") and not wants_tasks(rules, "other")
