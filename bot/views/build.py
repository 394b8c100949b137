"""Build messages: the step in progress, then the image built or the step that failed."""

from __future__ import annotations

import re

from bot.engine.results import BuildProgress, BuildResult
from bot.errors import DockopsError
from bot.mrkdwn import Mrkdwn, md
from bot.views import blocks
from bot.views.format import short_id
from bot.views.message import Attachment, Message

FAILURE_LINES = 15


def log_filename(name: str) -> str:
    """`build-team-app-1.0.log` for `team/app:1.0`."""
    return "build-" + re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") + ".log"


def _title(name: str, context: str) -> Mrkdwn:
    return md("`{}` from `{}`", name, context) if name != context else md("`{}`", context)


def building(name: str, context: str, progress: BuildProgress | None) -> Message:
    """The message a running build keeps updating."""
    title = md(":hammer_and_wrench: Building {}…", _title(name, context))
    parts = [blocks.section(title)]
    if progress is not None:
        if progress.step:
            parts.append(blocks.context(progress.step))
        if progress.recent:
            parts.append(blocks.code("\n".join(progress.recent), 1500))
    step = f" ({progress.step})" if progress and progress.step else ""
    return Message(text=f"Building {name}{step}", blocks=tuple(parts))


def built(result: BuildResult, name: str, context: str) -> Message:
    """Success: the image ID and every tag, with the full log attached."""
    tags = ", ".join(f"`{t}`" for t in result.tags) or "none (untagged: use `-t NAME:TAG`)"
    text = md(":white_check_mark: Built {} in {:.1f} s: image `{}`", _title(name, context),
              result.seconds, short_id(result.image_id))
    parts = [blocks.section(text),
             *blocks.fields([("Image ID", f"`{result.image_id}`"), ("Tags", tags)]),
             blocks.context(f"The full build log is attached as `{log_filename(name)}`.")]
    return Message(text=f"Built {name}: {short_id(result.image_id)}", blocks=tuple(parts),
                   attachment=_log(result, name))


def failed(result: BuildResult, name: str, context: str) -> Message:
    """Failure: the failing step, the engine's reason and the last lines of the log."""
    step = result.step or "before the first step"
    text = md(":x: The build of {} failed at *{}*", _title(name, context), step)
    parts = [blocks.section(text), blocks.section(result.error),
             blocks.code(result.tail(FAILURE_LINES), 2000),
             blocks.context(f"The last {FAILURE_LINES} lines are shown; the full log is attached "
                            f"as `{log_filename(name)}`. No intermediate container was kept.")]
    return Message(text=f"Build of {name} failed at {step}: {result.error}", blocks=tuple(parts),
                   attachment=_log(result, name), ok=False)


def interrupted(name: str, context: str, exc: DockopsError) -> Message:
    """The build stopped because the engine failed (not because a step failed)."""
    text = md(":x: The build of {} stopped: {}", _title(name, context), exc.message)
    return Message(text=text, blocks=(blocks.section(text),), ok=False)


def _log(result: BuildResult, name: str) -> Attachment:
    filename = log_filename(name)
    return Attachment(filename, result.log.encode(), title=filename)
