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
        from bot.jobs import background

        background.start(self.services, self.client)

    def shutdown(self, grace: float) -> bool:
        """Stop taking commands and let those in flight finish; True when all did."""
        clean = self.pool.shutdown(grace)
        if self.services.scheduler is not None:
            from bot.jobs import background

            clean = background.stop(self.services.scheduler, grace) and clean
        return clean

    def identify(self, actor: Actor) -> Actor:
        """The actor with what Slack knows beyond the request (user groups)."""
        return actor
