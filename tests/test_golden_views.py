"""Block Kit of representative messages, built from plain results, against tests/golden/*.json.

No Docker Engine: each message comes from a view and result objects made here. A view change
shows as a diff of the golden file; `UPDATE_GOLDEN=1 pytest tests/test_golden_views.py`
rewrites them (review the diff before committing).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import units
from bot.commands import TABLE, parse
from bot.config import parse_file
from bot.engine import rmi
from bot.engine.results import (
    ContainerDetails,
    ContainerRow,
    ImageRow,
    ImageTarget,
    PruneImage,
    PrunePlan,
    PruneResult,
    Target,
)
from bot.errors import NoSuchContainer, RefusedError
from bot.jobs.notices import UpdateApplied
from bot.policy import Actor, authorize
from bot.views import confirm, containers, help, images, jobs, lifecycle, problems, remove
from bot.views import format as view_format
from bot.views.limits import fit
from bot.views.message import Message
from tests.conftest import ACCESS
from tests.slack_standin import validate_blocks

GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class _Frozen(datetime):
    """`datetime` whose now() is NOW, so "3 hours ago" reads the same on every run."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        return NOW if tz is None else NOW.astimezone(tz)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(view_format, "datetime", _Frozen)
    monkeypatch.setattr(units, "datetime", _Frozen)  # ages are bot.units.ago's


def _ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def _ps() -> Message:
    rows = [
        ContainerRow("4f2c9a1b7d3e" + "0" * 52, "web", "nginx:1.27", "nginx -g 'daemon off;'",
                     _ago(hours=3), "running", "Up 3 hours", ("0.0.0.0:8080->80/tcp",)),
        ContainerRow("9a8b7c6d5e4f" + "1" * 52, "worker", "registry.example/app/worker:2.4.1",
                     "python -m worker --queue default", _ago(days=2), "exited",
                     "Exited (1) 5 minutes ago", ()),
    ]
    return containers.ps(rows, all=True)


def _images() -> Message:
    rows = [
        ImageRow("sha256:" + "ab12" * 16, "nginx", "1.27", "", _ago(days=12), 192_000_000),
        ImageRow("sha256:" + "cd34" * 16, "registry.example/app/worker", "2.4.1", "",
                 _ago(weeks=3), 88_400_000),
        ImageRow("sha256:" + "ef56" * 16, "<none>", "<none>", "", _ago(days=40), 5_300_000),
    ]
    return images.images(rows)


def _inspect() -> Message:
    details = ContainerDetails(
        id="4f2c9a1b7d3e" + "0" * 52, name="web", image="nginx:1.27",
        image_id="sha256:" + "ab12" * 16, command="nginx -g 'daemon off;'", created=_ago(hours=3),
        started=_ago(hours=3), finished=None, state="running", exit_code=0, restart_count=1,
        restart_policy="unless-stopped", health="healthy", ports=("0.0.0.0:8080->80/tcp",),
        mounts=("volume web-data -> /usr/share/nginx/html",), networks=("bridge 172.17.0.2",),
        labels={"com.example.team": "web"}, env=("PATH=/usr/sbin:/usr/bin", "API_TOKEN=********"),
        raw={"Path": "nginx", "Args": ["-g", "daemon off;"], "NetworkSettings": {"Ports": {
            "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"},
                       {"HostIp": "::", "HostPort": "8080"}]}}})
    return containers.inspect(details)


def _error() -> Message:
    return problems.error(NoSuchContainer("No such container: `wbe`. Nothing was done.",
                                          detail="`/docker ps -a` lists the containers."))


def _refusal() -> Message:
    with pytest.raises(RefusedError) as refused:
        authorize(parse("rm web", TABLE), Actor("U0OPER"), parse_file(ACCESS).access)
    return problems.error(refused.value)


def _confirmation() -> Message:
    targets = [Target("web", "4f2c9a1b7d3e" + "0" * 52, "web", "nginx:1.27", "running",
                      "Up 3 hours"),
               Target("old", "77aa88bb99cc" + "2" * 52, "old", "busybox", "exited",
                      "Exited (0) 2 days ago")]
    preview = remove.rm_preview(targets, force=True, volumes=False)
    return confirm.request(preview, token="tok-123", requester=Actor(user_id="U0ADMIN").display,
                           ttl_seconds=300, expires=(NOW + timedelta(minutes=5)).timestamp())


def _rmi_preview() -> Message:
    target = ImageTarget("nginx:1.27", "sha256:" + "ab12" * 16, ("nginx:1.27", "nginx:latest"),
                         192_000_000, (("web", "running"),))
    return remove.rmi_preview([rmi.plan(target, force=False)], force=False)


def _update_notice() -> Message:
    return jobs.update_available(
        "nightly-updates", "local", "nginx:1.27", "sha256:" + "11" * 32, "sha256:" + "22" * 32,
        ["web", "web-canary"], jobs.NoticeButtons(pull="tok-pull", recreate="tok-recreate",
                                                  snooze="tok-snooze"))


def _update_applied() -> Message:
    """The update notice once its container runs the new digest (issue 15: applied)."""
    return jobs.render(UpdateApplied("nightly-updates", "local", "nginx:1.27",
                                     "sha256:" + "11" * 32, "sha256:" + "22" * 32, ("web",),
                                     "nightly-updates:local/nginx:1.27:x:notify", "U0ALICE",
                                     "recreate"))


def _prune_images() -> tuple[PruneImage, ...]:
    return (PruneImage("sha256:" + "ef56" * 16, (), 5_300_000, _ago(days=40)),
            PruneImage("sha256:" + "0a1b" * 16, ("app:old",), 120_000_000, _ago(days=90)))


def _prune_report() -> Message:
    removed = _prune_images()
    plan = PrunePlan(removed, (PruneImage("sha256:" + "ab12" * 16, ("nginx:1.27",), 192_000_000,
                                          _ago(days=12), reason="kept by nginx:*"),),
                     all=True, until=timedelta(days=7), labels=(), keep=("nginx:*",))
    failed = ((PruneImage("sha256:" + "9f9f" * 16, ("db:15",), 300_000_000, _ago(days=30)),
               "The image is in use by container 1a2b3c4d5e6f: remove that container first."),)
    deleted = ("sha256:" + "ef56" * 16, "sha256:" + "0a1b" * 16, "sha256:" + "c0de" * 16)
    return remove.prune_result(PruneResult(removed, failed, ("app:old",), 11, deleted), plan)


def _follow() -> Message:
    return lifecycle.follow("*Logs of `web`* (following)",
                            "GET / 200\nGET /health 200\nGET /missing 404\n", follow_id="f00d",
                            live=True, note="Live · stops by itself in 60 s · follow `f00d`",
                            stop_token="tok-stop")


def _help() -> Message:
    return help.command_help(TABLE["rm"])


def _network_ls() -> Message:
    from bot.engine.results import NetworkRow
    from bot.views import networks
    return networks.network_ls([NetworkRow("589bc4a50b98" + "0" * 52, "bridge", "bridge", "local"),
                                NetworkRow("4eb8e05ef9ce" + "1" * 52, "back-2", "bridge", "local"),
                                NetworkRow("d25c1aa7f4ca" + "2" * 52, "host", "host", "local")])


def _system_prune_preview() -> Message:
    from bot.engine.results import ObjectPrunePlan, PruneItem
    from bot.views import prunes
    plan = ObjectPrunePlan(
        (PruneItem("container", "37c7dd647064" + "a" * 52, "migrate", 11),
         PruneItem("network", "4eb8e05ef9ce" + "b" * 52, "old_back"),
         PruneItem("image", "sha256:" + "ef56" * 16, "<none>", 1_990_000)),
        ("all stopped containers", "all networks not used by at least one container",
         "all dangling images", "unused build cache"))
    return prunes.prune_preview("system prune", plan)


MESSAGES: dict[str, Callable[[], Message]] = {
    "network_ls": _network_ls, "system_prune_preview": _system_prune_preview,
    "ps": _ps, "images": _images, "inspect": _inspect, "error_no_such_container": _error,
    "refusal": _refusal, "confirm_rm": _confirmation, "rmi_preview": _rmi_preview,
    "update_notice": _update_notice, "prune_report": _prune_report, "follow": _follow,
    "update_applied": _update_applied,
    "help_rm": _help,
}


def payload(message: Message) -> dict[str, Any]:
    """What Slack is sent (limits applied, as bot/slack/responder.payload), plus the file."""
    fitted = fit(message)
    body: dict[str, Any] = {"text": fitted.text, "blocks": list(fitted.blocks), "ok": fitted.ok}
    if fitted.attachment is not None:
        body["attachment"] = {"filename": fitted.attachment.filename,
                              "title": fitted.attachment.title,
                              "bytes": len(fitted.attachment.content)}
    return body


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_a_view_renders_as_its_golden_file(name: str) -> None:
    got = payload(MESSAGES[name]())
    assert validate_blocks(got["blocks"]) == []
    path = GOLDEN / f"{name}.json"
    text = json.dumps(got, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert json.loads(path.read_text(encoding="utf-8")) == got, (
        f"{name} no longer renders as {path.name}; if the change is intended, rewrite it with "
        "UPDATE_GOLDEN=1 and review the diff")


def test_every_golden_file_has_a_message() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(MESSAGES)
