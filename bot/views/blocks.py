"""Block builders on slack_sdk's models, so every block is checked as it is made.

mrkdwn builders (`section`, `fields`, `context`, `code`) escape every plain `str` and take
`Mrkdwn` (bot/views/mrkdwn.py) as it is; `plain_text` ones (`header`, `button`) are not
mrkdwn and get the original characters.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.mrkdwn import Mrkdwn, cut, escape, md, plain
from bot.views.limits import (
    MAX_BUTTON_TEXT,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    SNIPPET_CHARS,
    clip,
    clip_mrkdwn,
)

# Three backticks inside output would close our code block: show look-alikes instead.
_FENCE_SAFE = "\u02cb" * 3


def header(text: str) -> dict[str, Any]:
    return HeaderBlock(text=clip(plain(text), MAX_HEADER_TEXT)).to_dict()


def section(text: str) -> dict[str, Any]:
    return SectionBlock(text=_mrkdwn(text, MAX_SECTION_TEXT)).to_dict()


def fields(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """`*label*\\nvalue` fields, ten to a section (Slack's limit)."""
    texts = [_mrkdwn(md("*{}*\n{}", label, value or "—"), MAX_FIELD_TEXT)
             for label, value in pairs]
    return [SectionBlock(fields=texts[i:i + 10]).to_dict() for i in range(0, len(texts), 10)]


def context(*texts: str) -> dict[str, Any]:
    return ContextBlock(elements=[_mrkdwn(t, MAX_SECTION_TEXT) for t in texts]).to_dict()


def _mrkdwn(text: str, limit: int) -> MarkdownTextObject:
    # Slack refuses an empty text object (an error without a message, an empty step name).
    return MarkdownTextObject(text=clip_mrkdwn(escape(text) or Mrkdwn(" "), limit))


def divider() -> dict[str, Any]:
    return DividerBlock().to_dict()


def code(text: str, limit: int = SNIPPET_CHARS) -> dict[str, Any]:
    """Preformatted text; longer text is cut at a line boundary (callers attach the rest)."""
    return preformatted(snippet(plain(text), limit))


def preformatted(text: str) -> dict[str, Any]:
    """A code block of `text` as is: escaped (Slack reads entities in code too), within 3,000
    characters."""
    escaped = escape(plain(text)) or Mrkdwn(" ")
    room = MAX_SECTION_TEXT - 6
    if len(escaped) > room:
        head = cut(escaped, room)
        escaped = Mrkdwn(head[: head.rfind("\n")]) if "\n" in head else Mrkdwn(head)
    return section(md("```{}```", escaped))


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The first whole lines of `text` that fit in `limit` characters."""
    text = text.replace("```", _FENCE_SAFE)
    if len(text) <= limit:
        return text.rstrip("\n")
    head = text[:limit]
    return head[: head.rfind("\n")] if "\n" in head else head


def tail_snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The last whole lines of `text` that fit in `limit` characters."""
    text = text.replace("```", _FENCE_SAFE).rstrip("\n")
    if len(text) <= limit:
        return text
    tail = text[-limit:]
    return tail[tail.find("\n") + 1:] if "\n" in tail else tail


def buttons(*elements: ButtonElement, block_id: str | None = None) -> dict[str, Any]:
    return ActionsBlock(elements=list(elements), block_id=block_id).to_dict()


def button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=clip(plain(text), MAX_BUTTON_TEXT), action_id=action_id, value=value,
                         style=style)
