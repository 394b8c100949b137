"""Job notices are data in the outbox and Slack blocks only at delivery; rows queued as Slack
JSON before the upgrade are still delivered. No Docker Engine: notices are made here."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.jobs import notices as n
from bot.jobs.outbox import Outbox
from bot.store import Store
from bot.views import jobs as views
from tests.slack_standin import SlackStandIn, validate_blocks

BUTTONS = n.NoticeButtons(pull="tok-pull", recreate="tok-recreate", snooze="tok-snooze")
OLD, NEW = "sha256:" + "11" * 32, "sha256:" + "22" * 32

EVERY_KIND: list[n.NoticeData] = [
    n.UpdateAvailable("updates", "local", "nginx:1.27", OLD, NEW, ("web", "web-canary"), BUTTONS),
    n.Pulled("updates", "local", "nginx:1.27", OLD, NEW, ("web",)),
    n.Recreated("updates", "local", "nginx:1.27", OLD, NEW, (
        n.RecreatedContainer("web", ok=True),
        n.RecreatedContainer("api", ok=False, rolled_back=True, reason="exited with code 3",
                             log_tail="broken config\n"))),
    n.PullFailed("updates", "local", "nginx:1.27", "manifest unknown."),
    n.CheckFailed("updates", "local", "reg.example/app:1", "unauthorized. Check the credentials."),
    n.HostFailed("updates", "gone", "Cannot reach the Docker Engine."),
    n.UpdateSummary("updates", "2 image(s) checked, 1 changed", (
        n.CheckedImage("local", "nginx:1.27", new=NEW), n.CheckedImage("local", "redis:7"))),
    n.PruneDryRun("nightly", "local", (n.PrunedImage("app:old", 120_000_000),), 120_000_000, 2),
    n.PruneReport("nightly", "local", (n.PrunedImage("<none>", 5_300_000),),
                  (n.RefusedImage("db:15", "in use by container 1a2b3c4d5e6f"),), 1,
                  reclaimed=5_300_000),
    n.JobFailed("nightly", "dockops hit an internal error (reference `ab12cd34`).", "See the log."),
    n.UpdateAvailable("updates", "local", "nginx:1.27", OLD, NEW, ("web",), BUTTONS,
                      n.UpdateDetails("2026-11-28T09:30:00Z", "linux/amd64", 60_000_000,
                                      58_000_000, "1.27.3", "abc123", "https://x.example/src",
                                      "https://x.example/src")),
    n.TagAvailable("updates", "local", "nginx", "1.25.3", "1.25.4", ("web",),
                   n.NoticeButtons(pull="tok-pull", recreate="tok-recreate", snooze="")),
    n.UpdateApplied("updates", "local", "nginx:1.27", OLD, NEW, ("web",), "updates:k:notify",
                    "U0ALICE", "recreate"),
    n.UpdateApplied("updates", "local", "nginx:1.27", OLD, NEW, ("web",), "updates:k:notify"),
    n.UpdatesPending("updates", "weekly", (
        n.PendingUpdate("local", "nginx:1.27", NEW, ("web",), 1_764_000_000.0),)),
    n.Recreated("updates", "local", "nginx:1.27", OLD, NEW, (n.RecreatedContainer("web", ok=True),),
                (n.CleanedImage(OLD, True), n.CleanedImage(NEW, False, "it is still tagged a:1"))),
]


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(base_url=slack.api_url, token=slack.bot_token)


def stored_payloads(store: Store) -> list[dict]:
    with sqlite3.connect(store.path) as db:
        return [json.loads(p) for (p,) in db.execute("SELECT payload FROM outbox ORDER BY id")]


def test_every_kind_of_notice_survives_json_and_renders_to_valid_blocks() -> None:
    assert {type(notice) for notice in EVERY_KIND} == set(n.KINDS.values())
    for notice in EVERY_KIND:
        stored = json.loads(json.dumps(n.encode(notice)))
        assert n.decode(stored) == notice
        message = views.render(n.decode(stored))
        assert message.text and validate_blocks(list(message.blocks)) == [], type(notice)


def test_a_notice_is_stored_as_data_and_posted_as_the_view_renders_it(
        tmp_path: Path, slack: SlackStandIn, client: WebClient) -> None:
    store = Store(tmp_path)
    outbox = Outbox(store, client)
    notice = EVERY_KIND[0]
    assert outbox.enqueue("C0OPS", notice, key="update")
    [payload] = stored_payloads(store)
    assert payload["kind"] == "update-available" and "blocks" not in payload
    assert payload["notice"]["buttons"] == {"pull": "tok-pull", "recreate": "tok-recreate",
                                            "snooze": "tok-snooze"}

    assert outbox.drain_once().sent == 1
    [posted] = slack.messages("C0OPS")
    expected = views.render(notice)
    assert posted["text"] == expected.text and posted["blocks"] == list(expected.blocks)
    actions = next(b for b in posted["blocks"] if b["type"] == "actions")["elements"]
    assert [(a["action_id"], a["value"]) for a in actions] == [
        (n.PULL_ACTION, "tok-pull"), (n.RECREATE_ACTION, "tok-recreate"),
        (n.SNOOZE_ACTION, "tok-snooze")]
    assert outbox.depth() == 0
    store.close()


def test_a_row_queued_as_slack_json_before_the_upgrade_is_delivered_as_it_was(
        tmp_path: Path, slack: SlackStandIn, client: WebClient) -> None:
    store = Store(tmp_path)
    old_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": ":broom: pruned 1 GB"}}]
    # Exactly what the old outbox wrote: the rendered message, no kind tag.
    with sqlite3.connect(store.path) as db:
        db.execute("INSERT INTO outbox (key, channel, payload, created_at, attempts, due, "
                   "leased_until, last_error) VALUES (?, ?, ?, ?, 0, ?, 0.0, '')",
                   ("nightly:local:run:7", "C0OPS",
                    json.dumps({"text": "pruned 1 GB", "blocks": old_blocks}),
                    "2026-11-30 03:00:00.000000", time.time()))
    outbox = Outbox(store, client)
    outbox.enqueue("C0OPS", EVERY_KIND[5], key="host-failed")  # a new row behind it

    assert outbox.drain_once().sent == 2
    old, new = slack.messages("C0OPS")
    assert old["text"] == "pruned 1 GB" and old["blocks"] == old_blocks
    assert "could not work on host gone" in new["text"]
    store.close()


def test_a_notice_this_version_cannot_read_waits_with_the_reason_and_blocks_nothing_else(
        tmp_path: Path, slack: SlackStandIn, client: WebClient) -> None:
    store = Store(tmp_path)
    with store.session.begin() as session:
        from bot.store import outbox as rows

        rows.queue(session, "C0FUTURE", {"kind": "from-the-future", "notice": {}}, key="future")
    outbox = Outbox(store, client)
    outbox.enqueue("C0OPS", EVERY_KIND[1], key="pulled")

    result = outbox.drain_once()
    assert (result.sent, result.waiting) == (1, 1)
    [waiting] = outbox.pending()
    assert waiting.key == "future" and "cannot render" in waiting.last_error
    assert waiting.due > time.time() + 60  # retried later, never dropped
    [pulled] = slack.messages("C0OPS")
    assert pulled["text"].startswith(":arrow_down: Pulled")
    store.close()
