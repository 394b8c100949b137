"""GET /metrics on a running bot: the counters move as commands run (HTTP and Socket Mode)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client.parser import text_string_to_metric_families

from tests.bot_rig import BotProcess
from tests.conftest import ACCESS
from tests.support import unique, wait_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

FAMILIES = ("dockops_commands", "dockops_ack_seconds", "dockops_command_seconds",
            "dockops_engine_errors", "dockops_job_runs", "dockops_job_seconds",
            "dockops_outbox_depth", "dockops_follow_streams_open", "dockops_command_errors",
            "dockops_slack_api_errors", "dockops_slack_signature_failures",
            "dockops_job_last_success_timestamp_seconds", "process_resident_memory_bytes")


def scrape(bot: BotProcess) -> Samples:
    status, body = bot.get("/metrics")
    assert status == 200
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(bot: BotProcess, before: Samples, name: str, by: float = 1, **labels: str
          ) -> Callable[[], bool]:
    """A predicate: the sample grew by `by` since `before` (the pipeline counts after replying)."""
    return lambda: value(scrape(bot), name, **labels) - value(before, name, **labels) >= by


def test_metrics_page_exports_every_family(bot_server: BotProcess) -> None:
    status, body = bot_server.get("/metrics")
    assert status == 200
    names = {family.name for family in text_string_to_metric_families(body)}
    assert set(FAMILIES) <= names


def test_command_counters_and_latency_histograms_move_over_http(bot_server: BotProcess) -> None:
    before = scrape(bot_server)
    bot_server.ask("ps", user_id="U0VIEW")
    bot_server.ask("rm some-container", user_id="U0VIEW")  # a viewer may not: refused
    bot_server.ask("frobnicate --now", user_id="U0VIEW")  # not a command: invalid
    bot_server.ask(f"logs {unique('missing')}", user_id="U0VIEW")  # the engine says no such
    for labels in ({"command": "ps", "outcome": "ok"}, {"command": "rm", "outcome": "refused"},
                   {"command": "invalid", "outcome": "invalid"},
                   {"command": "logs", "outcome": "error"}):
        wait_for(moved(bot_server, before, "dockops_commands_total", **labels),
                 what=f"dockops_commands_total{labels} to grow")
    after = scrape(bot_server)
    # No such container is the user's error, not the engine's failure.
    assert value(after, "dockops_engine_errors_total", host="local") == \
        value(before, "dockops_engine_errors_total", host="local")
    assert value(after, "dockops_command_errors_total", kind="not_found") - \
        value(before, "dockops_command_errors_total", kind="not_found") == 1
    assert value(after, "dockops_ack_seconds_count") - value(before, "dockops_ack_seconds_count") >= 4
    assert value(after, "dockops_command_seconds_count", command="ps") - \
        value(before, "dockops_command_seconds_count", command="ps") == 1
    # Every ack of a slash command took well under Slack's 3 s.
    assert value(after, "dockops_ack_seconds_bucket", le="2.5") == \
        value(after, "dockops_ack_seconds_count")


def test_job_runs_are_counted_and_timed(start_bot) -> None:
    job = unique("prune")
    bot = start_bot(ACCESS + f"""
[[jobs]]
name = "{job}"
type = "prune"
schedule = "0 3 * * *"
channel = "C0OPS"
dry_run = true
""")
    before = scrape(bot)
    bot.ask(f"jobs run {job}", user_id="U0ADMIN")
    wait_for(lambda: any(name == "dockops_job_runs_total" and ("job", job) in labels
                         for name, labels in scrape(bot)), timeout=30,
             what="dockops_job_runs_total for the job")
    after = scrape(bot)
    assert value(after, "dockops_job_seconds_count", job=job) - \
        value(before, "dockops_job_seconds_count", job=job) == 1
    wait_for(lambda: value(scrape(bot), "dockops_outbox_depth") == 0, timeout=30,
             what="the job's report to leave the outbox")


def test_socket_mode_serves_metrics_and_health_on_the_metrics_port(start_bot) -> None:
    bot = start_bot(mode="socket")
    status, body = bot.get("/healthz")
    assert status == 200 and '"reachable": true' in body
    assert bot.get("/nothing-here")[0] == 404
    before = scrape(bot)
    bot.ask("version", user_id="U0VIEW")
    wait_for(moved(bot, before, "dockops_commands_total", command="version", outcome="ok"),
             what="the version command to be counted")
    assert value(scrape(bot), "dockops_ack_seconds_count") > value(before, "dockops_ack_seconds_count")
    assert bot.stop() == 0  # Socket Mode shuts down cleanly too
    assert "stopped" in bot.log()
