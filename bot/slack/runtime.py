"""What the Slack listeners share: the pipeline, the worker pool, the Web API client."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from bot.pipeline import Pipeline
from bot.policy import Actor
from bot.services import Services
from bot.workers import WorkerPool


@dataclass
class Runtime:
    services: Services
    pipeline: Pipeline
    pool: WorkerPool
    client: WebClient

    def start(self) -> None:
        """Start background parts (scheduler, outbox) once the app is serving."""

    def shutdown(self, grace: float) -> bool:
        """Stop taking commands and let those in flight finish; True when all did."""
        return self.pool.shutdown(grace)

    def identify(self, actor: Actor) -> Actor:
        """The actor with what Slack knows beyond the request (user groups)."""
        return actor
