"""The port every front end implements: how the pipeline answers (Slack, console)."""

from __future__ import annotations

from typing import Protocol

from bot.views.message import Message


class Thread(Protocol):
    """A posted message that can be updated in place and replied to (follows, builds)."""

    def update(self, message: Message) -> None: ...

    def reply(self, message: Message) -> None: ...


class Responder(Protocol):
    """Where a command's answers go."""

    def send(self, message: Message) -> None:
        """The answer to the command (replaces a preview when answering a confirmation)."""

    def start_thread(self, message: Message) -> Thread:
        """Post a message that later updates or thread replies attach to."""
