"""A reply as data: Block Kit blocks, fallback text and an optional file."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bot.engine.results import Spool
from bot.mrkdwn import escape


@dataclass(frozen=True)
class Attachment:
    """Output too long for a message: it goes up as a file."""

    filename: str
    content: bytes
    title: str = ""
    # Instead of `content`: a file on disk (a whole log), uploaded in pieces, never read whole.
    spool: Spool | None = None

    @property
    def size(self) -> int:
        return self.spool.size if self.spool is not None else len(self.content)


@dataclass(frozen=True)
class Message:
    """What the bot says. `blocks` are Block Kit dicts already within Slack's limits; `text`,
    the fallback, is mrkdwn: a plain `str` given here is escaped (bot/views/mrkdwn.py)."""

    text: str
    blocks: tuple[dict[str, Any], ...] = ()
    attachment: Attachment | None = None
    ok: bool = True
    # Extra data a caller may need (e.g. the confirmation token); never rendered.
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", escape(self.text))

    def with_blocks(self, *blocks: dict[str, Any]) -> Message:
        return replace(self, blocks=(*self.blocks, *blocks))
