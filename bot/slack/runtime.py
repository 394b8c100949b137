"""What the Slack listeners share: the pipeline, the worker pool, the Web API client."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

from slack_sdk import WebClient

from bot.pipeline import Pipeline
from bot.policy import Actor, group_ids
from bot.services import Services
from bot.slack.identity import UserGroups
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
        wanted = group_ids(self.services.settings.access)
        if not wanted or not actor.user_id:
            return actor
        return replace(actor, groups=self.user_groups.groups_of(actor.user_id, wanted))

    @cached_property
    def user_groups(self) -> UserGroups:
        return UserGroups(self.client)
