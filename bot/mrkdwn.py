"""Slack mrkdwn, escaped in one place.

A plain `str` is text: a name, a log line, an error. `Mrkdwn` is markup we wrote, with every
value in it escaped (`&` `<` `>` as Slack documents), so it goes out as is. Build markup
with `md(template, *values)`; the block builders escape any plain `str` they are given, so
forgetting to escape shows a value literally, never as a mention or a link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ENTITY = re.compile(r"&(?:amp|lt|gt);")
_ENTITY_MAX = len("&amp;")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")


class Mrkdwn(str):
    """Text already safe in mrkdwn. Adding or joining a plain `str` escapes it first."""

    __slots__ = ()

    def __add__(self, other: str) -> Mrkdwn:
        return Mrkdwn(str.__add__(self, escape(other)))

    def __radd__(self, other: str) -> Mrkdwn:
        return Mrkdwn(str.__add__(escape(other), self))

    def join(self, parts: Iterable[str]) -> Mrkdwn:
        return Mrkdwn(str.join(self, (escape(part) for part in parts)))


def escape(text: str) -> Mrkdwn:
    """`text` safe in mrkdwn; markup (`Mrkdwn`) is returned as it is, never escaped twice."""
    if isinstance(text, Mrkdwn):
        return text
    return Mrkdwn(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def unescape(text: str) -> str:
    """The characters mrkdwn stands for (a terminal, a plain-text field)."""
    return str(text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def plain(text: str) -> str:
    """Text for a `plain_text` field: markup unescaped, a plain `str` as it is."""
    return unescape(text) if isinstance(text, Mrkdwn) else text


def md(template: str, *values: object, **named: object) -> Mrkdwn:
    """`template` (our markup) filled like `str.format`, every value escaped unless Mrkdwn.

    Numbers keep their format specs (`{:.1f}`); any other object is escaped as `str(value)`.
    """
    return Mrkdwn(template.format(*(_value(v) for v in values),
                                  **{k: _value(v) for k, v in named.items()}))


def _value(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return escape(value if isinstance(value, str) else str(value))


def user_mention(user_id: str) -> Mrkdwn:
    """`<@U123>` for a Slack user ID; anything else is shown as text."""
    return Mrkdwn(f"<@{user_id}>") if _USER_ID.fullmatch(user_id) else escape(user_id)


def channel_mention(channel_id: str) -> Mrkdwn:
    """`<#C123>` for a Slack channel ID; anything else is shown as text."""
    return Mrkdwn(f"<#{channel_id}>") if _CHANNEL_ID.fullmatch(channel_id) else escape(channel_id)


def without_marks(text: str) -> str:
    """`text` without `*` and backticks (fallback text), still markup if it was."""
    bare = str.replace(str.replace(text, "*", ""), "`", "")
    return Mrkdwn(bare) if isinstance(text, Mrkdwn) else bare


def cut(text: str, length: int) -> str:
    """The first `length` characters, less an entity the cut would split (`&am`).

    Keeps the type: markup stays `Mrkdwn`.
    """
    if len(text) <= length:
        return text
    split = _entity_across(text, length)
    head = str(text)[: split[0] if split else length]
    return Mrkdwn(head) if isinstance(text, Mrkdwn) else head


def cut_end(text: str, length: int) -> str:
    """The last `length` characters, less an entity the cut would split (`mp;`)."""
    if len(text) <= length:
        return text
    start = len(text) - length
    split = _entity_across(text, start)
    tail = str(text)[split[1] if split else start:]
    return Mrkdwn(tail) if isinstance(text, Mrkdwn) else tail


def _entity_across(text: str, index: int) -> tuple[int, int] | None:
    """The span of the entity that `index` falls inside, if any."""
    for match in _ENTITY.finditer(text, max(0, index - _ENTITY_MAX), index + _ENTITY_MAX):
        if match.start() < index < match.end():
            return match.span()
    return None
