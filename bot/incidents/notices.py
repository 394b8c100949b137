"""What an incident tells people, as data: the outbox stores `encode(notice)` and the view
(bot/views/incidents.py) renders it at delivery, like the jobs' notices."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from bot.jobs.notices import rebuild

# The incident message's buttons: each token names a stored command (bot/store/buttons.py).
RESTART_ACTION = "dockops.incident.restart"
LOGS_ACTION = "dockops.incident.logs"
INSPECT_ACTION = "dockops.incident.inspect"
ROLLBACK_ACTION = "dockops.incident.rollback"
MUTE_ACTION = "dockops.incident.mute"
RESOLVE_ACTION = "dockops.incident.resolve"
TASKS_ACTION = "dockops.incident.tasks"  # a service's `service ps`
INCIDENT_ACTIONS = (RESTART_ACTION, LOGS_ACTION, INSPECT_ACTION, ROLLBACK_ACTION, MUTE_ACTION,
                    RESOLVE_ACTION, TASKS_ACTION)


@dataclass(frozen=True)
class IncidentButtons:
    """Tokens of the incident's buttons; '' draws no button (Roll back without a known image)."""

    restart: str = ""
    logs: str = ""
    inspect: str = ""
    rollback: str = ""
    mute: str = ""
    resolve: str = ""
    tasks: str = ""


@dataclass(frozen=True)
class IncidentCard:
    """The incident message: posted when it opens, updated as events group into it."""

    incident_id: int
    rule: str
    host: str
    container: str
    container_id: str
    image: str
    digest: str
    kind: str  # die | oom | unhealthy | restart_loop | task_failed (container = the service)
    exit_code: int
    oom_killed: bool
    health_output: str
    restart_count: int
    ran_seconds: float  # how long it had been running before the event (-1: unknown)
    log_lines: int
    log_tail: str
    change_by: str  # the audit's last run/recreate/update of it: who, what, when
    change_command: str
    change_at: float
    count: int
    state: str  # open | recovered | resolved
    opened_at: float
    closed_at: float
    closed_by: str
    loop_restarts: int  # > 0: a restart loop, that many restarts within the rule's window
    loop_window: str
    buttons: IncidentButtons
    recovered_after: float = 0.0  # recovered: from the incident to running (healthy) again
    task: str = ""  # task_failed: the task (web.1), its ID, node, state and error
    task_id: str = ""
    node: str = ""
    task_state: str = ""
    error: str = ""


@dataclass(frozen=True)
class IncidentReply:
    """One line in the incident's thread: it happened again, became a loop, recovered, was resolved."""

    incident_id: int
    container: str
    what: str  # again | loop | recovered | resolved
    kind: str = ""
    exit_code: int = 0
    oom_killed: bool = False
    health_output: str = ""
    count: int = 0
    seconds: float = 0.0  # recovered: after how long; loop: the window
    restarts: int = 0
    by: str = ""
    task: str = ""  # task_failed: which task failed again, where, and why
    node: str = ""
    error: str = ""


@dataclass(frozen=True)
class StoppedContainer:
    name: str
    exit_code: int
    oom_killed: bool


@dataclass(frozen=True)
class EventGap:
    """The engine could not replay its events since the cursor (it restarted, or its buffer
    overflowed): what is known to have stopped in that time."""

    host: str
    rule: str
    since: float
    until: float
    stopped: tuple[StoppedContainer, ...]


@dataclass(frozen=True)
class QuietIncident:
    container: str
    host: str
    kind: str
    exit_code: int
    count: int
    opened_at: float


@dataclass(frozen=True)
class QuietSummary:
    """What happened during a rule's quiet hours, posted once when they end."""

    rule: str
    quiet_hours: str
    incidents: tuple[QuietIncident, ...]


IncidentNotice = IncidentCard | IncidentReply | EventGap | QuietSummary
KINDS: dict[str, type] = {"incident-card": IncidentCard, "incident-reply": IncidentReply,
                          "event-gap": EventGap, "quiet-summary": QuietSummary}
_TAGS = {cls: kind for kind, cls in KINDS.items()}
TAG = "incident"  # the payload key that marks an incident notice in the outbox


def encode(notice: IncidentNotice) -> dict[str, Any]:
    return {TAG: _TAGS[type(notice)], "notice": dataclasses.asdict(notice)}


def is_incident(payload: dict[str, Any]) -> bool:
    return TAG in payload


def decode(payload: dict[str, Any]) -> IncidentNotice:
    cls = KINDS.get(str(payload.get(TAG)))
    if cls is None:
        raise ValueError(f"unknown incident notice {payload.get(TAG)!r}")
    notice: IncidentNotice = rebuild(cls, payload["notice"])
    return notice
