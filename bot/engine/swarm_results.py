"""Swarm results (services, tasks, nodes, stacks, rollouts): plain data, no docker-py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STACK_LABEL = "com.docker.stack.namespace"  # what `docker stack deploy` labels services with


@dataclass(frozen=True)
class ServiceRow:
    """One line of `docker service ls`."""

    id: str
    name: str
    mode: str  # replicated, global, replicated job, global job
    running: int
    desired: int
    image: str  # as in the spec: may be pinned `repo:tag@sha256:...`
    ports: tuple[str, ...] = ()
    max_per_node: int = 0
    labels: tuple[tuple[str, str], ...] = ()
    completed: int = 0  # jobs only

    @property
    def stack(self) -> str:
        return dict(self.labels).get(STACK_LABEL, "")


@dataclass(frozen=True)
class TaskRow:
    """One line of `docker service ps`: a task with its service and node names resolved."""

    id: str
    name: str  # service.slot, or service.nodeID for global services
    image: str
    node: str
    desired_state: str
    state: str
    timestamp: datetime | None
    created: datetime | None
    error: str = ""
    ports: tuple[str, ...] = ()
    service: str = ""
    slot: int = 0


@dataclass(frozen=True)
class NodeRow:
    """One line of `docker node ls`."""

    id: str
    hostname: str
    status: str
    availability: str
    manager_status: str  # Leader, Reachable, Unreachable, or "" for a worker
    engine_version: str
    self: bool = False


@dataclass(frozen=True)
class SwarmState:
    """What `info` says about this engine's Swarm membership."""

    local_state: str  # inactive, pending, active, error, locked
    manager: bool
    node_id: str = ""
    cluster_id: str = ""


@dataclass(frozen=True)
class StackRow:
    """One line of `docker stack ls`."""

    name: str
    services: int


@dataclass(frozen=True)
class ServiceChange:
    """What an update, rollback or scale asked Swarm for, before it starts to converge."""

    id: str
    name: str
    before_image: str
    image: str
    replicas: int | None  # None for a global service
    warning: str = ""  # e.g. the image's digest could not be resolved
    failure_action: str = ""  # the service's update_config failure action (pause, continue, rollback)
    # Swarm must report the rollout itself (the image alone cannot tell old tasks from new).
    forced: bool = False


@dataclass(frozen=True)
class Rollout:
    """Where a rolling update (or rollback, or scale) stands: tasks replaced N of M, then the end.

    `state` is Swarm's UpdateStatus.State (updating, paused, completed, rollback_started,
    rollback_paused, rollback_completed) or "" when Swarm reports none (a scale).
    """

    service: str
    image: str
    replaced: int
    total: int
    state: str = ""
    message: str = ""
    done: bool = False
    ok: bool = False
    rolled_back: bool = False
    timed_out: bool = False
    seconds: float = 0.0
    failed_tasks: tuple[str, ...] = ()
