"""Incident logic without an engine: rules, grouping, exactly once, the views, the outbox's
threads and updates (against the Slack stand-in)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import parse_file
from bot.engine.events import ContainerFacts, EngineEvent
from bot.incidents import notices as n
from bot.incidents.rules import quiet_now, selector_matches
from bot.incidents.tracker import Tracker
from bot.jobs.outbox import Outbox
from bot.slack.client import web_client
from bot.store import Store
from bot.store import incidents as records
from bot.store import outbox as rows
from bot.views.incidents import card, render
from tests.conftest import ACCESS, make_settings
from tests.slack_standin import SlackStandIn

RULE = """
[[alerts]]
name = "crashes"
channel = "C0OPS"
containers = ["label:team=api"]
exclude = ["name:*-job"]
restart_loop = { restarts = 3, within = "10m" }
log_lines = 5
"""
S = 1_000_000_000


def facts(exit_code: int = 3, oom: bool = False) -> ContainerFacts:
    return ContainerFacts("web", "app:1", "sha256:abc", "app@sha256:def", "exited", False,
                          exit_code, oom, 0, 1000.0, 1010.0, "", "", "line <!channel> & more\n")


def die(at: int, code: int = 3, name: str = "web", cid: str = "c1") -> EngineEvent:
    return EngineEvent(at * S, "die", cid, {"name": name, "image": "app:1", "team": "api",
                                            "exitCode": str(code)})


@pytest.fixture
def tracker(tmp_path: Path) -> Iterator[Tracker]:
    settings = make_settings(tmp_path, ACCESS + RULE)
    store = Store(settings.data_dir)
    yield Tracker(settings, store)
    store.close()


def queued(tracker: Tracker) -> list[rows.Queued]:
    return rows.queued(tracker.store)


def test_selectors_match_labels_names_images_and_compose_projects() -> None:
    attrs = {"name": "web-1", "image": "registry.example/team/api:1", "team": "api",
             "com.docker.compose.project": "shop"}
    assert selector_matches("label:team", attrs) and selector_matches("label:team=api", attrs)
    assert not selector_matches("label:team=web", attrs)
    assert selector_matches("name:web-*", attrs) and selector_matches("image:registry.example/*",
                                                                      attrs)
    assert selector_matches("compose:shop", attrs) and not selector_matches("compose:x", attrs)


def test_quiet_hours_span_midnight_in_utc() -> None:
    rule = parse_file('[[alerts]]\nname = "q"\nchannel = "C0OPS"\nquiet_hours = "22:00-07:00"\n'
                      ).alerts[0]
    day = 1_800_000_000 - 1_800_000_000 % 86400  # 00:00 UTC
    assert quiet_now(rule, day + 23 * 3600) and quiet_now(rule, day + 6 * 3600)
    assert not quiet_now(rule, day + 12 * 3600)


def test_one_incident_then_grouping_and_an_event_seen_twice_counts_once(
        tracker: Tracker) -> None:
    assert tracker.handle("local", die(100), lambda *_: facts()) == 1
    assert tracker.handle("local", die(100), lambda *_: facts()) == 0  # replayed: nothing
    assert tracker.handle("local", die(130), lambda *_: facts()) == 0  # grouped
    [incident] = records.open_incidents(tracker.store)
    assert incident.count == 2
    keys = [row.key for row in queued(tracker)]
    assert keys[0] == f"incident:{incident.id}:message"
    assert any(":reply:" in key for key in keys) and any(":update:" in key for key in keys)


def test_a_clean_exit_a_stop_and_an_excluded_or_unwatched_container_are_no_incident(
        tracker: Tracker) -> None:
    assert tracker.handle("local", die(100, code=0), lambda *_: facts(0)) == 0
    tracker.handle("local", EngineEvent(200 * S, "kill", "c2", {"name": "api", "team": "api"}),
                   lambda *_: facts())
    assert tracker.handle("local", die(201, code=137, name="api", cid="c2"),
                          lambda *_: facts(137)) == 0
    assert tracker.handle("local", die(300, name="nightly-job", cid="c3"),
                          lambda *_: facts()) == 0
    other = EngineEvent(400 * S, "die", "c4", {"name": "db", "exitCode": "3"})
    assert tracker.handle("local", other, lambda *_: facts()) == 0
    assert records.open_incidents(tracker.store) == [] and queued(tracker) == []


def test_a_restart_loop_is_one_incident_with_one_loop_reply(tracker: Tracker) -> None:
    for second in range(100, 110):
        tracker.handle("local", die(second, code=1), lambda *_: facts(1))
    [incident] = records.open_incidents(tracker.store)
    assert incident.count == 10 and incident.kind == "restart_loop"
    messages = [row for row in queued(tracker) if ":message" in row.key]
    replies = [row for row in queued(tracker) if ":reply:" in row.key]
    updates = [row for row in queued(tracker) if ":update:" in row.key]
    assert len(messages) == 1 and len(replies) == 2 and len(updates) == 1  # updates coalesce
    assert n.decode(updates[0].payload).count == 10  # type: ignore[union-attr]


def test_the_incident_card_escapes_what_the_container_printed(tracker: Tracker) -> None:
    tracker.handle("local", die(100), lambda *_: facts())
    [row] = queued(tracker)
    message = render(n.decode(row.payload))
    text = json.dumps(message.blocks)
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "exit code 3" in text and "Restart" in text and "Roll back" not in text


def test_views_name_signals_and_oom() -> None:
    notice = n.IncidentCard(1, "r", "local", "web", "c1", "app:1", "", "oom", 137, True, "", 0,
                            65.0, 0, "", "", "", 0.0, 1, "open", 0.0, 0.0, "", 0, "10m",
                            n.IncidentButtons())
    text = json.dumps(card(notice).blocks)
    assert "OOMKilled (exit code 137 (SIGKILL))" in text and "1m" in text


def test_the_outbox_threads_replies_and_updates_the_message_it_posted(tmp_path: Path) -> None:
    with SlackStandIn() as slack:
        store = Store(tmp_path / "data")
        try:
            outbox = Outbox(store, web_client(slack.bot_token, slack.api_url))
            reply = n.IncidentReply(1, "web", "again", kind="die", exit_code=3, count=2)
            first = n.IncidentCard(1, "r", "local", "web", "c1", "app:1", "", "die", 3, False,
                                   "", 0, 5.0, 0, "", "", "", 0.0, 1, "open", 0.0, 0.0, "", 0,
                                   "10m", n.IncidentButtons())
            with store.session.begin() as session:
                rows.queue(session, "C0OPS", {**n.encode(first), "remember": True},
                           "incident:1:message")
                rows.queue(session, "C0OPS", {**n.encode(reply), "thread_of": "incident:1:message"},
                           "incident:1:reply:a")
                second = n.IncidentCard(**{**first.__dict__, "count": 2})
                rows.queue(session, "C0OPS", {**n.encode(second),
                                              "update_of": "incident:1:message"},
                           "incident:1:update:a")
            assert outbox.drain_once().sent == 3
            parent, child = slack.messages("C0OPS")
            assert child["thread_ts"] == parent["ts"] and "died again" in child["text"]
            assert "(2x)" in parent["text"]  # updated in place
            assert rows.posted_ts(store, "incident:1:message") == parent["ts"]
        finally:
            store.close()


def test_a_muted_container_opens_no_incident_and_unmute_lifts_it(tracker: Tracker) -> None:
    records.mute(tracker.store, "crashes", "web", 4_000_000_000.0, "alice")
    assert tracker.handle("local", die(100), lambda *_: facts()) == 0
    assert records.unmute(tracker.store, "crashes") == 1
    assert tracker.handle("local", die(20_000), lambda *_: facts()) == 1


def test_quiet_hours_record_incidents_and_post_one_summary_when_they_end(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ACCESS + RULE.replace(
        'log_lines = 5', 'log_lines = 5\nquiet_hours = "00:00-01:00"'))
    store = Store(settings.data_dir)
    try:
        tracker = Tracker(settings, store)
        midnight = 1_800_000_000 - 1_800_000_000 % 86400
        tracker.handle("local", die(midnight + 60), lambda *_: facts())
        tracker.handle("local", die(midnight + 120, name="api", cid="c2"), lambda *_: facts())
        assert rows.queued(store) == []  # recorded, not posted
        assert tracker.summarize_quiet(midnight + 1800) == 0  # still quiet
        assert tracker.summarize_quiet(midnight + 3 * 3600) == 1
        [summary] = rows.queued(store)
        notice = n.decode(summary.payload)
        assert isinstance(notice, n.QuietSummary) and len(notice.incidents) == 2
        assert tracker.summarize_quiet(midnight + 4 * 3600) == 0  # once
    finally:
        store.close()


def test_check_names_an_alert_rule_on_a_host_that_is_not_configured(tmp_path: Path) -> None:
    from bot.check import problems

    settings = make_settings(tmp_path, ACCESS + RULE.replace('channel = "C0OPS"',
                                                              'channel = "C0OPS"\nhosts = ["prod"]'))
    assert problems(settings) == ["alert crashes: host 'prod' is not configured: add "
                                  "[hosts.prod] or use one of local."]


def test_an_event_that_arrives_late_within_the_margin_is_still_handled_once(
        tracker: Tracker) -> None:
    """The engine stamps before it publishes: under load a die stamped earlier may come later."""
    assert tracker.handle("local", die(200, name="web", cid="c1"), lambda *_: facts()) == 1
    assert tracker.handle("local", die(199, name="api", cid="c2"), lambda *_: facts()) == 1
    assert tracker.handle("local", die(199, name="api", cid="c2"), lambda *_: facts()) == 0
    assert tracker.handle("local", die(100, name="db", cid="c3"), lambda *_: facts()) == 0
    assert len(records.open_incidents(tracker.store)) == 2
