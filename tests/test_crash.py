"""Crash: SIGKILL `dockops serve` with notifications waiting in the outbox and a job due while it
is down; the restarted bot runs the job once and delivers every notification once."""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.store import Store
from bot.store import jobs as records
from tests.bot_rig import BotProcess, answer_text
from tests.conftest import ACCESS
from tests.slack_standin import SlackStandIn
from tests.support import RUN_ID, wait_for
from tests.test_scheduler import pretend_downtime

CHANNEL = "C0CRASH"


def job(name: str) -> str:
    """A dry-run prune job, far from due: it runs when told to, or when made due."""
    return (f'[[jobs]]\nname = "{name}"\ntype = "prune"\nschedule = "0 3 1 1 *"\n'
            f'channel = "{CHANNEL}"\ndry_run = true\nlabels = ["dockops.test.never={RUN_ID}"]\n')


CONFIG = ACCESS + job("queued-a") + job("queued-b") + job("missed")


def outbox_depth(bot: BotProcess) -> float:
    metrics = bot.get("/metrics")[1]
    return float(next(line.split()[-1] for line in metrics.splitlines()
                      if line.startswith("dockops_outbox_depth ")))


def notices(slack: SlackStandIn, name: str) -> list[dict]:
    return [m for m in slack.messages(CHANNEL) if name in answer_text(m)]


def test_after_sigkill_due_jobs_run_once_and_queued_notifications_arrive_once(
        start_bot: Callable[..., BotProcess], slack: SlackStandIn, tmp_path: Path) -> None:
    slack.add_channel(CHANNEL, "crash")
    data = tmp_path / "crash-data"
    first = start_bot(CONFIG, data_dir=data)
    slack.fail_next("chat.postMessage", status=503, count=10_000)  # Slack is down
    for name in ("queued-a", "queued-b"):
        assert first.ask(f"jobs run {name}")
    wait_for(lambda: outbox_depth(first) == 2, timeout=20, what="two notifications queued")
    wait_for(lambda: slack.calls_to("chat.postMessage"), timeout=10, what="a failed post")

    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    # Down across two of `missed`'s runs: coalesced, it must run once on start, not twice.
    pretend_downtime(f"sqlite:///{data / 'dockops.sqlite3'}", "missed",
                     datetime.now(UTC) - timedelta(days=2))
    slack.reset()
    slack.add_channel(CHANNEL, "crash")

    second = start_bot(CONFIG, data_dir=data)
    for name in ("queued-a", "queued-b", "missed"):
        wait_for(lambda n=name: notices(slack, n), timeout=30, what=f"the {name} notification")
    wait_for(lambda: outbox_depth(second) == 0, timeout=10, what="an empty outbox")
    assert [len(notices(slack, name)) for name in ("queued-a", "queued-b", "missed")] == [1, 1, 1]
    assert len(slack.messages(CHANNEL)) == 3

    store = Store(data)
    try:
        missed = records.recent_runs(store, "missed", 10)
        assert [(run.trigger, run.outcome) for run in missed] == [("schedule", "ok")]
        assert [len(records.recent_runs(store, name, 10)) for name in ("queued-a", "queued-b")] \
            == [1, 1]  # the manual runs were not repeated either
    finally:
        store.close()
    listed = answer_text(second.ask("jobs"))
    assert "missed" in listed and second.process.poll() is None
