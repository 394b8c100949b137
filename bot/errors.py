"""The one error type users see: a sentence naming the problem and the fix."""

from __future__ import annotations


class DockopsError(Exception):
    """A failure to show the user as is: no traceback, one clear message.

    `detail` is optional extra text (a usage block, the tail of a build log)
    shown under the message.
    """

    def __init__(self, message: str, *, detail: str = "", kind: str = "error") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.kind = kind

    def __str__(self) -> str:
        return f"{self.message}\n\n{self.detail}" if self.detail else self.message


class UsageError(DockopsError):
    """The command text does not parse: unknown flag, missing argument, ..."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message, detail=detail, kind="usage")


class RefusedError(DockopsError):
    """Policy said no: the reason names the rule and the fix."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message, detail=detail, kind="refused")


class EngineError(DockopsError):
    """The Docker Engine refused or could not be reached."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message, detail=detail, kind="engine")


class NoSuchContainer(EngineError):
    """The engine has no container of that name or ID (docker-py NotFound on a container)."""


class NoSuchImage(EngineError):
    """The engine has no image of that reference (docker-py ImageNotFound)."""


class CannotPost(DockopsError):
    """Slack refused a post where the command was typed (not_in_channel, channel_not_found,
    a DM): the message says where to run it instead."""

    ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})

    def __init__(self, message: str, *, error: str = "") -> None:
        super().__init__(message, kind="refused")
        self.error = error
