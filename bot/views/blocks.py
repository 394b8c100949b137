"""Block builders on slack_sdk's models, so every block is checked as it is made."""

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

from bot.views.limits import MAX_FIELD_TEXT, MAX_HEADER_TEXT, MAX_SECTION_TEXT, SNIPPET_CHARS, clip

# Three backticks inside output would close our code block: show look-alikes instead.
_FENCE_SAFE = "\u02cb" * 3


def header(text: str) -> dict[str, Any]:
    return HeaderBlock(text=clip(text, MAX_HEADER_TEXT)).to_dict()


def section(text: str) -> dict[str, Any]:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, MAX_SECTION_TEXT))).to_dict()


def fields(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """`*label*\\nvalue` fields, ten to a section (Slack's limit)."""
    texts = [clip(f"*{label}*\n{value or '—'}", MAX_FIELD_TEXT) for label, value in pairs]
    return [SectionBlock(fields=[MarkdownTextObject(text=t) for t in texts[i:i + 10]]).to_dict()
            for i in range(0, len(texts), 10)]


def context(*texts: str) -> dict[str, Any]:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(t, 3000)) for t in texts]).to_dict()


def divider() -> dict[str, Any]:
    return DividerBlock().to_dict()


def code(text: str, limit: int = SNIPPET_CHARS) -> dict[str, Any]:
    """Preformatted text; longer text is cut at a line boundary (callers attach the rest)."""
    return preformatted(snippet(text, limit))


def preformatted(text: str) -> dict[str, Any]:
    """A code block of `text` as is: Slack's control characters escaped, within 3,000 chars."""
    escaped = mrkdwn_escape(text) or " "
    room = MAX_SECTION_TEXT - 6
    if len(escaped) > room:
        cut = escaped[:room]
        escaped = cut[: cut.rfind("\n")] if "\n" in cut else cut
    return section(f"```{escaped}```")


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The first whole lines of `text` that fit in `limit` characters."""
    text = text.replace("```", _FENCE_SAFE)
    if len(text) <= limit:
        return text.rstrip("\n")
    cut = text[:limit]
    return cut[: cut.rfind("\n")] if "\n" in cut else cut


def tail_snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The last whole lines of `text` that fit in `limit` characters."""
    text = text.replace("```", _FENCE_SAFE).rstrip("\n")
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    return cut[cut.find("\n") + 1:] if "\n" in cut else cut


def buttons(*elements: ButtonElement, block_id: str | None = None) -> dict[str, Any]:
    return ActionsBlock(elements=list(elements), block_id=block_id).to_dict()


def button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=clip(text, 75), action_id=action_id, value=value, style=style)


def mrkdwn_escape(text: str) -> str:
    """Text safe inside mrkdwn: Slack's three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
