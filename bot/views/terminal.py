"""Messages as terminal text, for `dockops console`."""

from __future__ import annotations

import re
from typing import Any

from bot.mrkdwn import unescape
from bot.views.message import Message

_EMOJI = {":x:": "✗", ":warning:": "!", ":no_entry:": "⛔", ":white_check_mark:": "✓",
          ":large_green_circle:": "●", ":white_circle:": "○", ":red_circle:": "●",
          ":heavy_multiplication_x:": "✗", ":ballot_box_with_check:": "✓"}
# Any other Slack emoji code: a terminal shows nothing rather than `:wastebasket:`.
_EMOJI_CODE = re.compile(r"(?<![\w:]):[a-z0-9_+-]+:(?![\w:]) ?")
# C0 controls but tab and newline, DEL and C1 controls, as `cat -v` shows them.
_CONTROLS = {code: f"^{chr(code + 0x40)}" for code in range(0x20) if code not in (0x09, 0x0A)}
_CONTROLS[0x7F] = "^?"
_CONTROLS.update({code: f"M-^{chr(code - 0x80 + 0x40)}" for code in range(0x80, 0xA0)})


def render(message: Message, *, full_attachment: bool = True) -> str:
    """Readable plain text: headers underlined, code blocks as is, buttons in brackets."""
    lines: list[str] = []
    for block in message.blocks:
        lines.extend(_block(block))
    if not message.blocks:
        lines.append(_inline(message.text))
    if message.attachment and message.attachment.spool is not None:  # a whole log: stays on disk
        lines.append(f"[file {message.attachment.filename}: {message.attachment.size:,} bytes]")
    elif message.attachment:
        content = message.attachment.content
        if full_attachment and _is_text(content):
            lines += ["", f"--- {message.attachment.filename} ---", content.decode().rstrip("\n")]
        else:
            lines.append(f"[file {message.attachment.filename}: {len(content):,} bytes]")
    return printable("\n".join(lines).rstrip() + "\n")


def printable(text: str) -> str:
    """Text a terminal prints as text: container output cannot retitle the window, clear the
    screen or move the cursor. Control characters other than newline and tab are shown as
    `cat -v` shows them: ESC as `^[`, BEL `^G`, CR `^M` (a CRLF line end is a newline),
    DEL `^?`, and C1 controls such as CSI (U+009B) as `M-^[`."""
    return text.replace("\r\n", "\n").translate(_CONTROLS)


def _block(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    if kind == "header":
        title = block["text"]["text"]
        return [title, "=" * len(title)]
    if kind == "section":
        out = [_inline(block["text"]["text"])] if "text" in block else []
        for field in block.get("fields", ()):
            label, _, value = field["text"].partition("\n")
            out.append(f"{_inline(label)}: {_inline(value)}")
        return out
    if kind == "context":
        return [_inline(e.get("text", "")) for e in block["elements"]]
    if kind == "actions":
        return ["  ".join(f"[{e['text']['text']}]" for e in block["elements"])]
    if kind == "divider":
        return ["-" * 40]
    return []


def _inline(text: str) -> str:
    """mrkdwn as plain text; code blocks are kept exactly as they are."""
    parts = text.split("```")
    # Odd parts sit between fences: code, printed verbatim.
    return "".join(unescape(part) if i % 2 else _plain_mrkdwn(part)
                   for i, part in enumerate(parts))


def _plain_mrkdwn(text: str) -> str:
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?!\w)", r"\1", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?!\w)", r"\1", text)
    text = text.replace("`", "")
    for code, glyph in _EMOJI.items():
        text = text.replace(code, glyph)
    return unescape(_EMOJI_CODE.sub("", text))


def _is_text(content: bytes) -> bool:
    try:
        content.decode()
    except UnicodeDecodeError:
        return False
    return b"\0" not in content[:4096]
