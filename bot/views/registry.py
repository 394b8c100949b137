"""Registry messages: tag, push progress and digest, pull before/after, login, logout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.engine.results import LayerProgress, LoginResult, PullResult, PushResult
from bot.errors import DockopsError
from bot.mrkdwn import without_marks
from bot.views import blocks
from bot.views.format import short_id, size
from bot.views.jobs import RECREATE_ACTION
from bot.views.message import Message


def _message(text: str, *extra: dict, ok: bool = True) -> Message:
    return Message(text=without_marks(text), blocks=(blocks.section(text), *extra), ok=ok)


def tagged(source: str, target: str) -> Message:
    return _message(f":label: Tagged `{source}` as `{target}`.")


def _layers_line(progress: LayerProgress) -> str:
    moved = f", {size(progress.current)} of {size(progress.total)}" if progress.total else ""
    return f"{progress.done} of {progress.layers} layers done{moved}"


def pushing(reference: str, progress: LayerProgress | None) -> Message:
    """The message a running push keeps updating."""
    text = f":arrow_up: Pushing `{reference}`…"
    extra = [blocks.context(_layers_line(progress))] if progress and progress.layers else []
    return _message(text, *extra)


def pushed(result: PushResult) -> Message:
    text = f":white_check_mark: Pushed `{result.reference}` in {result.seconds:.1f} s"
    return _message(text, *blocks.fields([
        ("Digest", f"`{result.digest}`"),
        ("Layers", f"{result.layers} (manifest {size(result.size)})"),
    ]))


def push_failed(reference: str, exc: DockopsError) -> Message:
    """The push message's final state when the registry or engine refused."""
    extra = [blocks.context(exc.detail)] if exc.detail else []
    return _message(f":x: {exc.message}", *extra, ok=False)


def pulled(result: PullResult, *, stale: Sequence[str] = (), recreate_token: str = "") -> Message:
    """Up to date, or downloaded: with the digest and image ID before and after, and the
    containers still on the old image (with a Recreate button that moves exactly those)."""
    if result.updated:
        head = f":arrow_down: Downloaded newer image for `{result.reference}`"
    else:
        head = f":white_check_mark: `{result.reference}` is up to date"
    before = (f"`{result.digest_before or '(no digest)'}`\nimage `{short_id(result.id_before)}`"
              if result.id_before else "not present")
    after = f"`{result.digest_after or '(no digest)'}`\nimage `{short_id(result.id_after)}`"
    extra: list[dict[str, Any]] = []
    if stale:
        names = ", ".join(f"`{name}`" for name in stale)
        extra.append(blocks.section(f"Still on the old image: {names}. `/docker recreate` moves "
                                    "them to the new one (same config)."))
        if recreate_token:
            extra.append(blocks.buttons(blocks.button("Recreate now", RECREATE_ACTION,
                                                      recreate_token)))
    return _message(f"{head} ({result.seconds:.1f} s).", *blocks.fields([
        ("Before", before), ("After", after)]), *extra)


def logged_in(result: LoginResult, username: str, source: str) -> Message:
    text = (f":white_check_mark: The credentials for `{result.registry}` work: {result.status} "
            f"as `{username}`.")
    return _message(text, blocks.context(f"Credentials from {source}. They are used for push and "
                                         "pull; nothing was typed or shown."))


def logged_out(registry: str, held: bool, still_configured: str) -> Message:
    """Forgetting in-memory credentials; says plainly what is still configured."""
    what = "Forgot the credentials held in memory" if held else "No credentials were held in memory"
    text = f":wave: {what} for `{registry}`."
    note = (f"Credentials still come from {still_configured} on the next push, pull or login: "
            "remove them there to stop using them." if still_configured
            else "Pushes and pulls to it go without credentials now.")
    return _message(text, blocks.context(note))
