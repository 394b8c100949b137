"""Text output that may be long: inline when it fits, a snippet plus a file when not."""

from __future__ import annotations

from bot.mrkdwn import without_marks
from bot.views import blocks
from bot.views.limits import SNIPPET_CHARS
from bot.views.message import Attachment, Message


def text_output(title: str, text: str, *, filename: str, note: str = "",
                from_end: bool = False) -> Message:
    """A titled code block; past SNIPPET_CHARS the whole text goes up as `filename`.

    `from_end` shows the last lines inline (logs) instead of the first (tables).
    """
    parts = [blocks.section(title)]
    attachment = None
    if len(text) <= SNIPPET_CHARS:
        parts.append(blocks.code(text))
        if note:
            parts.append(blocks.context(note))
    else:
        cut = blocks.tail_snippet(text) if from_end else blocks.snippet(text)
        shown = cut.count("\n") + 1
        total = text.rstrip("\n").count("\n") + 1
        parts.append(blocks.preformatted(cut))
        where = "last" if from_end else "first"
        parts.append(blocks.context(
            f"Showing the {where} {shown:,} of {total:,} lines; the whole output is attached as "
            f"`{filename}`." + (f" {note}" if note else "")))
        attachment = Attachment(filename, text.encode(), title=filename)
    return Message(text=without_marks(title), blocks=tuple(parts), attachment=attachment)
