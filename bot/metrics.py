"""Prometheus metrics: what the bot did, how fast, and what is waiting."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot import __version__
from bot.errors import DockopsError, NoSuchContainer, NoSuchImage

REGISTRY = CollectorRegistry()
# process_* (RSS, CPU, open fds), python_info and python_gc_*, as on the default registry.
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

COMMANDS = Counter("dockops_commands_total", "Commands by name and outcome",
                   ["command", "outcome"], registry=REGISTRY)
CLICKS = Counter("dockops_clicks_total", "Button clicks by action and outcome",
                 ["action", "outcome"], registry=REGISTRY)
ACK_SECONDS = Histogram("dockops_ack_seconds", "Time from request to ack",
                        registry=REGISTRY,
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
COMMAND_SECONDS = Histogram("dockops_command_seconds", "Time from request to answer",
                            ["command"], registry=REGISTRY,
                            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
# Labels are names dockops resolved (a command, a configured host, a job), never typed text:
# each label value is a time series kept forever, and /metrics must not repeat what users typed.
ENGINE_ERRORS = Counter("dockops_engine_errors_total", "Engine failures by host",
                        ["host"], registry=REGISTRY)
JOB_RUNS = Counter("dockops_job_runs_total", "Scheduled job runs", ["job", "outcome"],
                   registry=REGISTRY)
JOB_SECONDS = Histogram("dockops_job_seconds", "Scheduled job durations", ["job"],
                        registry=REGISTRY)
OUTBOX_DEPTH = Gauge("dockops_outbox_depth", "Notifications waiting for Slack", registry=REGISTRY)
FOLLOWS_OPEN = Gauge("dockops_follow_streams_open", "logs -f / attach streams open",
                     registry=REGISTRY)
SOCKET_MODE_RECONNECTS = Counter("dockops_socket_mode_reconnects_total",
                                 "Socket Mode connections opened after the first",
                                 registry=REGISTRY)
SOCKET_MODE_CONNECTED = Gauge("dockops_socket_mode_connected",
                              "1 while a Socket Mode connection is open, 0 when not, NaN in "
                              "HTTP mode", registry=REGISTRY)
# NaN until Socket Mode sets it: `== 0` (the disconnected alert) is never true in HTTP mode.
SOCKET_MODE_CONNECTED.set(float("nan"))
JOB_LAST_SUCCESS = Gauge("dockops_job_last_success_timestamp_seconds",
                         "When each job last finished with outcome ok (Unix time)", ["job"],
                         registry=REGISTRY)
# Why a command failed, by who has to act: the user (usage, refused, not_found), the engine,
# or us (internal). `other` is a DockopsError of no finer kind.
ERROR_KINDS = ("usage", "refused", "not_found", "engine", "other", "internal")
COMMAND_ERRORS = Counter("dockops_command_errors_total", "Failed commands by kind of failure",
                         ["kind"], registry=REGISTRY)
SIGNATURE_REASONS = ("unsigned", "malformed", "stale", "bad_signature", "replayed")
SIGNATURE_FAILURES = Counter("dockops_slack_signature_failures_total",
                             "HTTP requests refused by the signature check, by reason",
                             ["reason"], registry=REGISTRY)
# method: a name from bot/slack/governor.py's table, else `other`; error: Slack's code,
# `http_NNN`, or `connection` (bounded there too).
SLACK_API_ERRORS = Counter("dockops_slack_api_errors_total",
                           "Slack Web API calls that failed, by method and error",
                           ["method", "error"], registry=REGISTRY)
# Each is a command refused (its audit row could not be written first) or a row lost.
AUDIT_FAILURES = Counter("dockops_audit_failures_total",
                         "Audit rows that could not be written (disk full, read-only, locked)",
                         registry=REGISTRY)
# Incidents (bot/incidents): per configured host name (and rule), never per container.
INCIDENT_EVENTS = Counter("dockops_incident_events_total",
                          "Container events the incident followers handled", ["host"],
                          registry=REGISTRY)
INCIDENTS_OPENED = Counter("dockops_incidents_opened_total", "Incidents opened",
                           ["host", "rule"], registry=REGISTRY)
INCIDENT_POST_SECONDS = Histogram("dockops_incident_post_seconds",
                                  "From an engine event to its incident message in Slack",
                                  ["host"], registry=REGISTRY,
                                  buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300))
EVENT_STREAM_RECONNECTS = Counter("dockops_event_stream_reconnects_total",
                                  "Engine event streams reopened after a failure", ["host"],
                                  registry=REGISTRY)
# dockops_build_info{version="0.3.0"} 1: which release each bot runs (bot/__init__.py).
Info("dockops_build", "The dockops release running", registry=REGISTRY).info(
    {"version": __version__})
for _kind in ERROR_KINDS:  # fixed label sets start at 0, so rate() sees the first one
    COMMAND_ERRORS.labels(_kind)
for _reason in SIGNATURE_REASONS:
    SIGNATURE_FAILURES.labels(_reason)


def error_kind(exc: BaseException) -> str:
    """The ERROR_KINDS entry for an exception a command raised."""
    if isinstance(exc, NoSuchContainer | NoSuchImage):
        return "not_found"
    if isinstance(exc, DockopsError):
        return exc.kind if exc.kind in ("usage", "refused", "engine") else "other"
    return "internal"


def exposition() -> tuple[bytes, str]:
    """The metrics page body and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
