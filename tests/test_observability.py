"""Operating for years: credential failures visible, errors told apart, the metrics listener
apart from the public port, and the shipped alert rules and dashboard match the metrics."""

from __future__ import annotations

import json
import logging
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.errors import DockopsError, EngineError, NoSuchContainer, RefusedError, UsageError
from bot.logs import Throttled
from bot.slack.client import web_client
from bot.slack.governor import count_api_error
from tests.bot_rig import BotProcess, free_port
from tests.conftest import ACCESS
from tests.engines_rig import DEAD, LOCAL, hosts_toml
from tests.slack_standin import SlackStandIn, form_body, signed_headers
from tests.support import unique, wait_for
from tests.test_metrics import scrape, value

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "prometheus-rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"
_METRIC = re.compile(r"\b(?:dockops|process|python)_[a-z_]+\b")


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


# -- credential failures ------------------------------------------------------------------


def test_a_throttled_line_goes_out_once_per_interval_and_counts_the_ones_left_out(
        caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    throttled = Throttled(logging.getLogger("dockops.test"), every=10, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, "dockops.test"):
        written = [throttled.warning("refused %s", n) for n in range(5)]
        now[0] += 10
        written.append(throttled.warning("refused %s", "later"))
    assert written == [True, False, False, False, False, True]
    assert [r.getMessage() for r in caplog.records] == [
        "refused 0", "refused later (4 more like it in the last 10 s not logged)"]


def test_forged_requests_are_counted_by_reason_and_logged_once(bot_server: BotProcess,
                                                                slack: SlackStandIn) -> None:
    before = scrape(bot_server)
    body = form_body(slack.slash_command("ps"))
    for _ in range(5):
        status, _ = bot_server.post("/slack/events", body, signed_headers("not-the-secret", body))
        assert status == 401
    assert bot_server.post("/slack/events", body, {})[0] == 401  # unsigned
    after = scrape(bot_server)
    moved = {reason: value(after, "dockops_slack_signature_failures_total", reason=reason)
             - value(before, "dockops_slack_signature_failures_total", reason=reason)
             for reason in metrics.SIGNATURE_REASONS}
    assert moved == {"unsigned": 1, "malformed": 0, "stale": 0, "bad_signature": 5,
                     "replayed": 0}
    # Six refusals within 10 s: one log line; the next one after 10 s carries the count.
    assert bot_server.log().count("refused a request") == 1
    assert "bad signature (HTTP 401)" in bot_server.log()


def test_slack_api_errors_are_counted_by_method_and_error(slack: SlackStandIn) -> None:
    client = web_client(slack.bot_token, slack.api_url)
    slack.error_next("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0OPS", text="hello")
    slack.fail_next("chat.update", status=500, count=4)  # outlasts the 3 server-error retries
    with pytest.raises(SlackApiError):
        client.chat_update(channel="C0OPS", ts="1.2", text="hello")
    dead = web_client(slack.bot_token, f"http://127.0.0.1:{free_port()}/api/", handlers=[])
    with pytest.raises(OSError):
        dead.chat_postMessage(channel="C0OPS", text="hello")

    errors = "dockops_slack_api_errors_total"
    assert sample(errors, method="chat.postMessage", error="channel_not_found") >= 1
    assert sample(errors, method="chat.update", error="http_500") >= 1
    assert sample(errors, method="chat.postMessage", error="connection") >= 1


def test_slack_api_error_labels_stay_bounded() -> None:
    before = sample("dockops_slack_api_errors_total", method="other", error="other")
    count_api_error("some.newMethod", "Not A Code! <script>")
    assert sample("dockops_slack_api_errors_total", method="other", error="other") == before + 1
    assert sample("dockops_slack_api_errors_total", method="some.newMethod",
                  error="Not A Code! <script>") == 0


# -- errors told apart, jobs, process -----------------------------------------------------


def test_error_kinds_say_who_has_to_act() -> None:
    assert [metrics.error_kind(e) for e in (
        UsageError("bad flag"), RefusedError("not yours"), NoSuchContainer("no such"),
        EngineError("engine down"), DockopsError("other"), KeyError("bug"))] == \
        ["usage", "refused", "not_found", "engine", "other", "internal"]


def test_user_errors_are_counted_apart_from_engine_failures_and_logged_with_their_reason(
        start_bot: Callable[..., BotProcess]) -> None:
    bot = start_bot(hosts_toml(default="local", local=LOCAL, dead=DEAD))
    missing = unique("missing")
    before = scrape(bot)
    bot.ask(f"logs {missing}", user_id="U0VIEW")  # no such container: the user's
    bot.ask("ps --frobnicate", user_id="U0VIEW")  # a bad flag
    bot.ask(f"rm {missing}", user_id="U0VIEW")  # a viewer may not: refused
    bot.ask("--host dead logs web", user_id="U0VIEW")  # the engine is not there: the engine's
    kinds = "dockops_command_errors_total"
    wait_for(lambda: value(scrape(bot), kinds, kind="engine") > value(before, kinds, kind="engine"),
             what="the engine failure to be counted")
    after = scrape(bot)
    assert {kind: value(after, kinds, kind=kind) - value(before, kinds, kind=kind)
            for kind in metrics.ERROR_KINDS} == {"usage": 1, "refused": 1, "not_found": 1,
                                                 "engine": 1, "other": 0, "internal": 0}
    engine_errors = "dockops_engine_errors_total"
    assert value(after, engine_errors, host="dead") - value(before, engine_errors, host="dead") == 1
    assert value(after, engine_errors, host="local") == value(before, engine_errors, host="local")
    # Every host label is a configured name: never `default`, `unknown` or typed text.
    assert {dict(labels).get("host") for name, labels in after if name == engine_errors} <= \
        {"local", "dead"}
    line = next(line for line in bot.log().splitlines() if f"target={missing}" in line)
    assert "command=logs" in line and "host=local" in line and "outcome=error" in line
    assert f"error=No such container: {missing}" in line
    assert re.search(r"audit_id=[0-9]+", line)


def test_a_job_success_sets_its_last_success_time_and_a_restart_keeps_it(
        start_bot: Callable[..., BotProcess]) -> None:
    job = unique("prune")
    config = ACCESS + f"""
[[jobs]]
name = "{job}"
type = "prune"
schedule = "0 3 * * *"
channel = "C0OPS"
dry_run = true
"""
    bot = start_bot(config)
    gauge = "dockops_job_last_success_timestamp_seconds"
    assert value(scrape(bot), gauge, job=job) == 0  # never ran
    started = time.time()
    bot.ask(f"jobs run {job}", user_id="U0ADMIN")
    wait_for(lambda: value(scrape(bot), gauge, job=job) > 0, timeout=30,
             what="the job's last success time")
    succeeded = value(scrape(bot), gauge, job=job)
    assert started - 1 <= succeeded <= time.time() + 1
    bot.stop()
    again = start_bot(config, data_dir=bot.data_dir)
    assert abs(value(scrape(again), gauge, job=job) - succeeded) < 1


# -- the listeners ------------------------------------------------------------------------


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: it picks the outbound address
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_the_public_port_serves_only_slack_events(bot_server: BotProcess) -> None:
    for path in ("/healthz", "/metrics", "/"):
        assert bot_server.get(path, public=True)[0] == 404
    status, body = bot_server.get("/healthz")
    assert status == 200 and json.loads(body)["ok"] is True
    assert bot_server.get("/metrics")[1].startswith("# HELP")
    assert f"/metrics and /healthz on 127.0.0.1:{bot_server.metrics_port}" in bot_server.log()
    elsewhere = _non_loopback_address()
    if elsewhere:  # bound to loopback by default: another address of this machine is refused
        with pytest.raises(OSError):
            socket.create_connection((elsewhere, bot_server.metrics_port), timeout=2).close()


def test_the_start_log_has_no_warning(bot_server: BotProcess) -> None:
    bot_server.stop()
    lines = bot_server.log().splitlines()
    assert any(" ready (HTTP on " in line for line in lines)
    assert [line for line in lines if " WARNING " in line or " ERROR " in line] == []


# -- the shipped rules and dashboard ------------------------------------------------------


def _promtool() -> str:
    if not shutil.which("promtool"):
        subprocess.run(["bash", str(ROOT / "scripts" / "rig.sh")], check=True)
    found = shutil.which("promtool")
    assert found, "scripts/rig.sh did not install promtool"
    return found


def test_promtool_accepts_the_alert_rules() -> None:
    result = subprocess.run([_promtool(), "check", "rules", str(RULES)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 9 rules found" in result.stdout


def test_the_dashboard_is_grafana_json_with_the_panels_we_watch() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    titles = {panel["title"] for panel in dashboard["panels"]}
    assert {"Commands/s by outcome", "Ack latency p50 / p99", "Command latency p50 / p99",
            "Engine errors by host", "Slack API errors", "Signature failures", "Job runs",
            "Job last success age", "Outbox depth", "Follow streams open", "Audit failures",
            "Process RSS", "Process CPU"} <= titles
    assert all(panel["targets"] and panel["gridPos"] for panel in dashboard["panels"])


def _served_names(exposition: str) -> set[str]:
    """Sample names, and a family's names from its TYPE line (a labelled metric nobody touched
    yet has no sample), with a histogram's _bucket/_count/_sum."""
    names = {line.split("{")[0].split(" ")[0] for line in exposition.splitlines()
             if line and not line.startswith("#")}
    for kind_line in re.findall(r"^# TYPE (\S+) (\S+)$", exposition, re.M):
        name, kind = kind_line
        names.add(name)
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    return names


def test_every_metric_the_rules_and_the_dashboard_name_is_served(bot_server: BotProcess) -> None:
    named = set(_METRIC.findall(RULES.read_text())) | set(_METRIC.findall(DASHBOARD.read_text()))
    assert {"dockops_audit_failures_total", "dockops_socket_mode_connected",
            "process_resident_memory_bytes", "process_cpu_seconds_total"} <= named
    served = _served_names(bot_server.get("/metrics")[1])
    assert named - served == set()
