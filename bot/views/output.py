"""Text output that may be long: inline when it fits, a snippet plus a file when not."""

from __future__ import annotations

from bot.mrkdwn import without_marks
from bot.units import human_size
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


def tail_and_file(title: str, text: str, attachment: Attachment, *, total_lines: int,
                  note: str = "") -> Message:
    """The last lines of a long output inline, all of it as a file, and one sentence saying so
    (a log read without --tail: Slack cannot show all of it in a message)."""
    cut = blocks.tail_snippet(text)
    shown = cut.count("\n") + 1 if cut else 0
    said = (f"Slack shows the last {shown:,} of {total_lines:,} lines here; the whole log "
            f"({human_size(attachment.size)}) is attached as `{attachment.filename}`.")
    parts = [blocks.section(title), blocks.preformatted(cut),
             blocks.context(f"{said} {note}".strip())]
    return Message(text=without_marks(title), blocks=tuple(parts), attachment=attachment)
