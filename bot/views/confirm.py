"""What a destructive command says before and after it is confirmed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.mrkdwn import Mrkdwn, escape, md, user_mention
from bot.views import blocks
from bot.views.limits import MAX_BLOCKS
from bot.views.message import Message

CONFIRM_ACTION = "dockops.confirm"
CANCEL_ACTION = "dockops.cancel"
# Block IDs of what only makes sense with buttons; the console leaves these out.
BUTTONS_BLOCK = "dockops.confirmation"
NOTE_BLOCK = "dockops.confirmation.note"


def who(user_id: str, source: str) -> Mrkdwn:
    """A user as Slack shows a mention; console users by name."""
    return user_mention(user_id) if source == "slack" else escape(user_id)


def generic_preview(text: str, host: str = "") -> Message:
    """When a command has no preview of its own: at least say exactly what will run."""
    where = md(" on `{}`", host) if host else ""
    line = md(":warning: This will run `docker {}`{}.", text.strip(), where)
    return Message(text=line, blocks=(blocks.section(line),))


def request(preview: Message, *, token: str, requester: str, ttl_seconds: float,
            expires: float) -> Message:
    """The preview with Confirm and Cancel buttons, saying who may press them and until when."""
    until = datetime.fromtimestamp(expires, UTC).strftime("%H:%M UTC")
    note = md(":hourglass_flowing_sand: Only {} or an admin can confirm; this expires in {} "
              "({}).", requester, _duration(ttl_seconds), until)
    actions = blocks.buttons(
        blocks.button("Confirm", CONFIRM_ACTION, token, style="danger"),
        blocks.button("Cancel", CANCEL_ACTION, token),
        block_id=BUTTONS_BLOCK,
    )
    context = {**blocks.context(note), "block_id": NOTE_BLOCK}
    # Room for our two blocks: a long preview must never push the buttons out.
    shown = preview.blocks[: MAX_BLOCKS - 3]
    if len(shown) < len(preview.blocks):
        shown = (*shown, blocks.context(f"_{len(preview.blocks) - len(shown)} more lines of the "
                                        "preview not shown._"))
    return replace(preview, text=md("{}\nConfirm or cancel.", preview.text),
                   blocks=(*shown, context, actions), meta={**preview.meta, "confirmation": token})


def without_buttons(message: Message) -> Message:
    """The preview as the console shows it: the buttons and their note left out."""
    kept = tuple(b for b in message.blocks if b.get("block_id") not in (BUTTONS_BLOCK, NOTE_BLOCK))
    return replace(message, blocks=kept)


def confirmed(outcome: Message | None, text: str, by: str) -> Message:
    """The command's own answer, marked with who confirmed it (it replaces the preview)."""
    note = md("Confirmed by {}: `docker {}`", by, text.strip())
    if outcome is None:
        return Message(text=note, blocks=(blocks.context(note),))
    return replace(outcome, blocks=(*outcome.blocks[: MAX_BLOCKS - 1], blocks.context(note)))


def cancelled(text: str, by: str) -> Message:
    line = md(":heavy_multiplication_x: Cancelled by {}: `docker {}` was not run.", by,
              text.strip())
    return Message(text=line, blocks=(blocks.section(line),))


def expired(text: str, ttl_seconds: float) -> Message:
    line = md(":hourglass: This confirmation expired after {}: `docker {}` was not run.",
              _duration(ttl_seconds), text.strip())
    fix = "Run the command again to get a fresh preview."
    return Message(text=md("{} {}", line, fix), blocks=(blocks.section(line), blocks.context(fix)),
                   ok=False)


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} second{'s' if seconds != 1 else ''}"
