"""Answers from several hosts: one part per host under a header line, and `/docker hosts`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.mrkdwn import Mrkdwn, md, without_marks
from bot.views import blocks
from bot.views.limits import MAX_BLOCKS
from bot.views.message import Attachment, Message
from bot.views.terminal import render

_UP = ":large_green_circle:"
_DOWN = ":red_circle:"
_REFUSED = ":warning:"


@dataclass(frozen=True)
class HostAnswer:
    """One host's part of a grouped answer: its one-host message, or why there is none."""

    host: str
    url: str
    message: Message | None = None
    error: str = ""
    unreachable: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class HostStatus:
    """One line of `/docker hosts`."""

    name: str
    url: str
    default: bool = False
    own_roles: bool = False
    version: str = ""
    running: int = 0
    total: int = 0
    error: str = ""
    seconds: float = 0.0


def _header(answer: HostAnswer) -> Mrkdwn:
    """`● *prod*  `tcp://...`  0.04 s`, or the host and why it has no answer."""
    where = md("*{}*  `{}`", answer.host, answer.url)
    if answer.message is not None:
        return md("{} {}  _{:.2f} s_", _UP, where, answer.seconds)
    icon = _DOWN if answer.unreachable else _REFUSED
    return md("{} {}: {}", icon, where, answer.error)


def _body(message: Message) -> list[dict[str, Any]]:
    """A host's blocks, less the note that points at its own file (the combined file replaces it)."""
    if message.attachment is None:
        return list(message.blocks)
    name = message.attachment.filename
    return [block for block in message.blocks
            if not (block.get("type") == "context" and name in str(block))]


def _file_part(answer: HostAnswer) -> str:
    head = f"### {answer.host} ({answer.url})"
    if answer.message is None:
        return f"{head}\n{answer.error}\n"
    attachment = answer.message.attachment
    if attachment is not None:
        return f"{head}\n{attachment.content.decode(errors='replace').rstrip()}\n"
    return f"{head}\n{render(answer.message, full_attachment=False).rstrip()}\n"


def grouped(title: str, answers: Sequence[HostAnswer], *, filename: str) -> Message:
    """One message for a read run on several hosts, a header line per host, in the order named.

    Each host keeps its one-host rendering; when the blocks would pass Slack's 50, each host
    shrinks to its header and summary line. Output cut short on any host goes up as one
    combined file (`filename`) holding every host's whole output.
    """
    failed = [a for a in answers if a.message is None]
    summary = f"*{title}* on {len(answers)} hosts"
    if failed:
        summary += f": {len(failed)} without an answer"
    parts: list[dict[str, Any]] = []
    for answer in answers:
        parts.append(blocks.section(_header(answer)))
        if answer.message is not None:
            parts.extend(_body(answer.message))
    cut = any(a.message is not None and a.message.attachment is not None for a in answers)
    if len(parts) + 2 > MAX_BLOCKS:
        cut = True
        parts = [blocks.section(_header(a) + (md("\n{}", _plain(a.message.text)) if a.message
                                              else Mrkdwn()))
                 for a in answers]
        parts = parts[: MAX_BLOCKS - 2]
    attachment = None
    footer: list[dict[str, Any]] = []
    if cut:
        attachment = Attachment(filename, "\n".join(_file_part(a) for a in answers).encode(),
                                title=filename)
        footer = [blocks.context(f"Every host's whole output is attached as `{filename}`.")]
    text = md("{} on {} hosts: ", _plain(title), len(answers)) + Mrkdwn("; ").join(
        md("{}: {}", a.host, _plain(a.message.text) if a.message else a.error) for a in answers)
    return Message(text=text, blocks=(blocks.section(summary), *parts, *footer),
                   attachment=attachment, ok=not failed)


def _plain(text: str) -> str:
    return without_marks(text)


def hosts_list(statuses: Sequence[HostStatus], *, command: str = "/docker") -> Message:
    """`/docker hosts`: each host's URL, engine version, containers, reachable or not."""
    up = sum(1 for s in statuses if not s.error)
    parts = [blocks.header(f"Docker hosts: {up} of {len(statuses)} reachable")]
    for status in statuses[: MAX_BLOCKS - 2]:
        tags = [tag for tag, on in (("default", status.default), ("own roles", status.own_roles))
                if on]
        name = md("*{}*", status.name) + (f" ({', '.join(tags)})" if tags else "")
        if status.error:
            line = md("{} {}  `{}`\n{}", _DOWN, name, status.url, status.error)
        else:
            line = md("{} {}  `{}`\nEngine {} · {} of {} containers running · answered in "
                      "{:.2f} s", _UP, name, status.url, status.version, status.running,
                      status.total, status.seconds)
        parts.append(blocks.section(line))
    parts.append(blocks.context(f"Target one with `{command} --host NAME ps`; reads also take "
                                "`--host all` or `--host a,b`."))
    text = "; ".join(f"{s.name}: {s.error or f'Engine {s.version}, {s.running}/{s.total} running'}"
                     for s in statuses)
    # Listing an unreachable host is the command working, not failing.
    return Message(text=f"Docker hosts: {text}", blocks=tuple(parts))
