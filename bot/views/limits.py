"""Slack's Block Kit limits, in one place, and the code that keeps messages inside them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.mrkdwn import Mrkdwn, cut, escape
from bot.views.message import Message

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BUTTON_TEXT = 75
MAX_MESSAGE_TEXT = 40000
# The fallback `text` (notifications, screen readers): the blocks carry the message itself.
MAX_FALLBACK_TEXT = 300
MAX_CONTEXT_ELEMENTS = 10
# A code block shown inline: room left for the fences and a line of context.
SNIPPET_CHARS = 2800


def clip(text: str, limit: int, marker: str = "…") -> str:
    """Plain `text` cut to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - len(marker)] + marker


def clip_mrkdwn(text: str, limit: int, marker: str = "…") -> Mrkdwn:
    """mrkdwn cut to `limit` characters, marking the cut; never inside an entity (`&am`)."""
    text = Mrkdwn(text)  # already escaped: a block's text, a Message's text
    return text if len(text) <= limit else Mrkdwn(cut(text, limit - len(marker)) + marker)


def _fit_block(block: dict[str, Any]) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "section":
        block = dict(block)
        if "text" in block:
            block["text"] = {**block["text"], "text": _clip_text(block["text"]["text"],
                                                                  MAX_SECTION_TEXT)}
        if "fields" in block:
            block["fields"] = [{**f, "text": clip_mrkdwn(f["text"], MAX_FIELD_TEXT)}
                               for f in block["fields"][:MAX_FIELDS]]
    elif kind == "header":
        block = {**block, "text": {**block["text"], "text": clip(block["text"]["text"],
                                                                  MAX_HEADER_TEXT)}}
    elif kind == "context":
        block = {**block, "elements": block["elements"][:MAX_CONTEXT_ELEMENTS]}
    return block


def _clip_text(text: str, limit: int) -> str:
    """Clip mrkdwn, keeping a code fence closed if the cut falls inside one."""
    if len(text) <= limit:
        return text
    head = clip_mrkdwn(text, limit - 4)
    if head.count("```") % 2 == 1:
        head += Mrkdwn("\n```")
    return head


def fit(message: Message) -> Message:
    """The message within every limit: blocks clipped, at most 50 of them, the fallback text
    escaped and at most 300 characters."""
    blocks = [_fit_block(b) for b in message.blocks]
    if len(blocks) > MAX_BLOCKS:
        dropped = len(blocks) - (MAX_BLOCKS - 1)
        note = {"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"_{dropped} more blocks not shown._"}]}
        blocks = [*blocks[: MAX_BLOCKS - 1], note]
    return replace(message, text=clip_mrkdwn(escape(message.text), MAX_FALLBACK_TEXT),
                   blocks=tuple(blocks))
