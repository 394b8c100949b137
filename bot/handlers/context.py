"""What a handler gets: the parsed command, who asked, where to answer, what to use."""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.spec import Invocation
from bot.engine.client import Engine
from bot.policy import Actor
from bot.reply import Responder
from bot.roles import Role
from bot.services import Services


@dataclass(frozen=True)
class Context:
    invocation: Invocation
    actor: Actor
    role: Role
    services: Services
    responder: Responder

    @property
    def engine(self) -> Engine:
        return self.services.hosts.get(self.invocation.host)

    @property
    def host_label(self) -> str:
        """The host name to show, only when more than one is configured."""
        return self.engine.name if len(self.services.hosts.engines) > 1 else ""
