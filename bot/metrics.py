"""Prometheus metrics: what the bot did, how fast, and what is waiting."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry()

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
                              "1 while a Socket Mode connection is open, else 0",
                              registry=REGISTRY)


def exposition() -> tuple[bytes, str]:
    """The metrics page body and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
