"""Swarm grammar and views without an engine: NAME=N, --availability, the CLI's task table,
images without their pinned digest, and the rollout messages as golden files
(tests/golden/swarm/*.json; `UPDATE_GOLDEN=1` rewrites them, review the diff)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.commands import TABLE, parse
from bot.commands.swarm import scale_targets
from bot.engine.swarm_results import NodeRow, Rollout, ServiceChange, ServiceRow, TaskRow
from bot.errors import UsageError
from bot.views import swarm as views
from bot.views.message import Message
from tests.slack_standin import validate_blocks
from tests.test_golden_views import payload

GOLDEN = Path(__file__).parent / "golden" / "swarm"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DIGEST = "sha256:" + "ab" * 32


def test_scale_reads_name_equals_replicas_as_the_cli_does() -> None:
    assert scale_targets(("web=3", "db=0")) == [("web", 3), ("db", 0)]
    with pytest.raises(UsageError, match="invalid scale specifier 'web': should be of the form"):
        scale_targets(("web",))
    with pytest.raises(UsageError, match="invalid replicas value x"):
        scale_targets(("web=x",))


def test_scale_to_zero_and_drain_are_destructive_the_rest_is_not() -> None:
    def destructive(text: str) -> bool:
        invocation = parse(text, TABLE)
        return invocation.command.is_destructive(invocation)

    assert destructive("service scale web=0") and not destructive("service scale web=2")
    assert destructive("node update --availability drain n1")
    assert not destructive("node update --availability active n1")
    assert destructive("service rm web") and not destructive("service update --force web")


def test_availability_takes_only_what_swarm_knows() -> None:
    with pytest.raises(UsageError, match='invalid argument "off" for "--availability"'):
        parse("node update --availability off n1", TABLE)


@pytest.mark.parametrize(("image", "shown"), [
    (f"127.0.0.1:5000/team/app:1.0@{DIGEST}", "127.0.0.1:5000/team/app:1.0"),
    (f"docker.io/library/busybox:1@{DIGEST}", "busybox:1"),
    (f"busybox@{DIGEST}", f"busybox@{DIGEST}"),  # no tag: the digest is all there is
    ("busybox", "busybox"),
])
def test_images_lose_their_pinned_digest_as_in_service_ls(image: str, shown: str) -> None:
    assert views.display_image(image) == shown


def _task(name: str, state: str, seconds: float, error: str = "", desired: str = "running",
          created: float = 0.0) -> TaskRow:
    stamp = NOW - timedelta(seconds=seconds)
    return TaskRow(id=f"{name.replace('.', '')}{'x' * 25}"[:25], name=name,
                   image=f"reg/app:2@{DIGEST}", node="node-1", desired_state=desired,
                   state=state, timestamp=stamp, created=stamp - timedelta(seconds=created),
                   error=error)


def test_the_task_table_indents_older_tasks_and_cuts_errors_at_30() -> None:
    rows = [_task("web.1", "running", 3), _task("web.1", "failed", 90, "task: non-zero exit "
                                                 "(3) and then some more", "shutdown")]
    table = views.task_table(rows, now=NOW).splitlines()
    assert table[0].split() == ["ID", "NAME", "IMAGE", "NODE", "DESIRED", "STATE", "CURRENT",
                                "STATE", "ERROR", "PORTS"]
    assert " web.1 " in table[1] and "Running 3 seconds ago" in table[1]
    assert " \\_ web.1 " in table[2] and "Failed About a minute ago"[:6] in table[2]
    assert "Failed about a minute ago" in table[2]
    assert '"task: non-zero exit (3) and t…"' in table[2]
    assert "reg/app:2 " in table[1] and DIGEST not in table[1]


def _change(**kwargs: object) -> ServiceChange:
    base = {"id": "svc1", "name": "web", "before_image": f"reg/app:1@{DIGEST}",
            "image": f"reg/app:2@{DIGEST}", "replicas": 3, "failure_action": "rollback"}
    return ServiceChange(**{**base, **kwargs})  # type: ignore[arg-type]


def _rollout(**kwargs: object) -> Rollout:
    base = {"service": "web", "image": f"reg/app:2@{DIGEST}", "replaced": 3, "total": 3,
            "state": "completed", "done": True, "ok": True, "seconds": 12.3}
    return Rollout(**{**base, **kwargs})  # type: ignore[arg-type]


MESSAGES: dict[str, Callable[[], Message]] = {
    "service_ls": lambda: views.services([
        ServiceRow("k0s3c9x1j2m4n5b6v7c8x9z0a", "shop_web", "replicated", 2, 3,
                   f"reg/app:2@{DIGEST}", ("*:8080->80/tcp",)),
        ServiceRow("q1w2e3r4t5y6u7i8o9p0a1s2d", "agent", "global", 1, 1, "reg/agent:1",
                   max_per_node=0)]),
    "node_ls": lambda: views.nodes([
        NodeRow("abcdefghijklmnopqrstuvwxy", "node-1", "Ready", "Active", "Leader", "20.10.24",
                self=True),
        NodeRow("bcdefghijklmnopqrstuvwxyz", "node-2", "Ready", "Drain", "", "20.10.24")]),
    "update_progress": lambda: views.rollout(_change(), _rollout(
        replaced=1, state="updating", message="update in progress", done=False, ok=False),
        verb="update"),
    "update_converged": lambda: views.rollout_end(_change(), _rollout(), verb="update"),
    "update_rolled_back": lambda: views.rollout_end(_change(), _rollout(
        image=f"reg/app:1@{DIGEST}", state="rollback_completed", ok=False, rolled_back=True,
        failed_tasks=("task: non-zero exit (3)",)), verb="update"),
    "update_paused": lambda: views.rollout_end(_change(failure_action="pause"), _rollout(
        replaced=1, state="paused", message="update paused due to failure", ok=False),
        verb="update"),
    "update_timed_out": lambda: views.rollout_end(_change(), _rollout(
        replaced=1, state="updating", ok=False, timed_out=True, seconds=300.0), verb="update"),
    "drain_preview": lambda: views.drain_preview(
        NodeRow("abcdefghijklmnopqrstuvwxy", "node-1", "Ready", "Active", "Leader", "20.10.24"),
        4, host="prod"),
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_a_swarm_view_renders_as_its_golden_file(name: str) -> None:
    got = payload(MESSAGES[name]())
    assert validate_blocks(got["blocks"]) == []
    path = GOLDEN / f"{name}.json"
    text = json.dumps(got, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert json.loads(path.read_text(encoding="utf-8")) == got, (
        f"{name} no longer renders as {path.name}; if intended, rewrite it with UPDATE_GOLDEN=1")


def test_every_swarm_golden_file_has_a_message() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(MESSAGES)
