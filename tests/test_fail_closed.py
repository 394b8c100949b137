"""Fail closed: a command whose audit row cannot be written first is not run; the user is told
why, /healthz answers 503 with the reason, and dockops_audit_failures_total counts it."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from bot import metrics
from bot.services import Services
from bot.slack.server import health, make_metrics_server
from tests.bot_rig import free_port
from tests.conftest import make_settings
from tests.support import RUN_ID, TEST_LABEL, Runner
from tests.test_preflight import fill, tmpfs


def failures() -> float:
    return metrics.REGISTRY.get_sample_value("dockops_audit_failures_total") or 0.0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "disk", "size=1m") as disk:
        yield disk


@pytest.fixture
def bot(small_disk: Path, tmp_path: Path) -> Iterator[Runner]:
    """The pipeline with its store on the small disk (opened while there was room)."""
    runner = Runner(Services.build(make_settings(tmp_path, dockops_data_dir=str(small_disk))))
    yield runner
    runner.close()


def healthz(services: Services) -> tuple[int, dict[str, object]]:
    """GET /healthz from a real metrics listener (the one beside Socket Mode or HTTP mode)."""
    port = free_port()
    server = make_metrics_server(services, "127.0.0.1", port)
    threading.Thread(target=server.run, daemon=True).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    finally:
        server.close()


def run_labelled(bot: Runner, busybox: str) -> tuple[str, str, str]:
    """`run -d` of a container labelled with a fresh mark; the result, the answer, the mark."""
    mark = uuid.uuid4().hex[:8]
    outcome, responder = bot(f"run -d --label {TEST_LABEL}={RUN_ID} --label failclosed={mark} "
                             f"{busybox} sleep 60")
    return outcome.result, responder.text(), mark


def containers(client: docker.DockerClient, mark: str) -> list[object]:
    return client.containers.list(all=True, filters={"label": f"failclosed={mark}"})


def test_a_full_disk_refuses_run_touches_no_engine_and_health_says_why(
        bot: Runner, small_disk: Path, busybox: str, docker_client: docker.DockerClient) -> None:
    before = failures()
    fill(small_disk)
    result, answer, mark = run_labelled(bot, busybox)
    assert result == "unaudited"
    assert "Not run: the audit trail cannot be written (database or disk is full)" in answer
    assert "nothing was changed" in answer
    assert containers(docker_client, mark) == []
    assert failures() == before + 1
    status, body = healthz(bot.services)
    assert status == 503 and body["ok"] is False
    assert body["audit"] == {"writable": False, "error": "database or disk is full"}

    (small_disk / "filler").unlink()  # room again: the next command is audited and run
    result, answer, mark = run_labelled(bot, busybox)
    assert result == "ok", answer
    assert len(containers(docker_client, mark)) == 1
    row = bot.services.store.audit_rows(limit=1)[0]
    assert (row.command, row.decision, row.outcome) == ("run", "allowed", "ok")
    assert health(bot.services)[0] == 200
    assert failures() == before + 1


def test_a_read_only_data_dir_refuses_run_and_changes_nothing(
        bot: Runner, small_disk: Path, busybox: str, docker_client: docker.DockerClient) -> None:
    rows = len(bot.services.store.audit_rows(limit=100))
    before = failures()
    bot.services.store.close()  # its files closed (a busy mount cannot turn read-only) ...
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    # ... and reopened by the next write, as after a restart on a read-only volume.
    result, answer, mark = run_labelled(bot, busybox)
    assert result == "unaudited"
    # SQLite cannot even open its write-ahead log there: that is the reason given.
    assert "Not run: the audit trail cannot be written (unable to open database file)" in answer
    assert containers(docker_client, mark) == []
    assert failures() == before + 1
    status, body = health(bot.services)
    assert status == 503 and "unable to open database file" in str(body["audit"])
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert len(bot.services.store.audit_rows(limit=100)) == rows


def test_the_audit_row_is_written_before_the_engine_is_touched(
        run_command: Runner, busybox: str, make_container: object) -> None:
    seen: list[tuple[str, str]] = []
    store = run_command.services.store
    original = run_command.pipeline._perform

    def perform(ctx):  # type: ignore[no-untyped-def]
        row = store.audit_rows(limit=1)[0]
        seen.append((row.command, row.outcome))
        return original(ctx)

    run_command.pipeline._perform = perform  # type: ignore[method-assign]
    outcome, _ = run_command("ps -a")
    assert outcome.ok
    assert seen == [("ps", "running")]
    row = store.audit_rows(limit=1)[0]
    assert (row.command, row.outcome) == ("ps", "ok")
