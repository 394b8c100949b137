"""Lifecycle results as messages: runs, start/stop/restart/kill, exec, follows, copies."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from bot.engine.results import (
    Attached,
    Done,
    ExecResult,
    LayerProgress,
    PathStat,
    PullResult,
    Started,
)
from bot.errors import DockopsError
from bot.mrkdwn import Mrkdwn, md, user_mention, without_marks
from bot.units import human_size
from bot.views import blocks
from bot.views.format import size
from bot.views.jobs import RecreateLike, recreate_outcomes
from bot.views.message import Attachment, Message
from bot.views.output import text_output

STOP_FOLLOW_ACTION = "dockops.stop_follow"


def _where(host: str) -> str:
    return f" on `{host}`" if host else ""


def started(result: Started, *, host: str = "") -> Message:
    """A detached run: the full container ID as `docker run -d` prints it, name, ports."""
    ports = ", ".join(result.ports) if result.ports else "none published"
    parts = [
        blocks.section(f":white_check_mark: Started `{result.name}`{_where(host)}"),
        blocks.preformatted(result.id),
        *blocks.fields([("Name", f"`{result.name}`"), ("Ports", ports)]),
    ]
    notes = [f"Follow it: `/docker logs -f {result.name}`"]
    if result.removed_on_exit:
        notes.append("removed when it exits (`--rm`)")
    parts.append(blocks.context(" · ".join(notes)))
    return Message(text=f"Started {result.name} ({result.id}) ports: {ports}",
                   blocks=tuple(parts))


def _not_local(reference: str, missing: bool = True) -> str:
    """The CLI's first line (`--pull always` prints none: it pulls without asking)."""
    return f"Unable to find image '{reference}' locally" if missing \
        else f"Pulling {reference} first (--pull always)"


def run_pulling(reference: str, progress: LayerProgress | None, *,
                missing: bool = True) -> Message:
    """A run whose image is not local: the CLI's first line, then the pull as it goes."""
    first = _not_local(reference, missing)
    head = f":arrow_down: {first}: pulling it…" if missing else f":arrow_down: {first}…"
    if progress is None or not progress.layers:
        return Message(text=first, blocks=(blocks.section(head),))
    moved = (f", {human_size(progress.current)} of {human_size(progress.total)}"
             if progress.total else "")
    line = f"{progress.done} of {progress.layers} layers done{moved}"
    if progress.status:  # the engine's latest line, as the CLI's progress shows it
        line += f" · {progress.status}"
    return Message(text=first, blocks=(blocks.section(head), blocks.context(line)))


def run_pulled(result: PullResult, *, missing: bool = True) -> Message:
    """The pull a run needed, done: the CLI's Digest and Status lines."""
    lines = [_not_local(result.reference)] if missing else []
    if result.digest_after:
        lines.append(f"Digest: {result.digest_after}")
    lines.append(f"Status: {result.status or 'Downloaded newer image for ' + result.reference}")
    return Message(text=lines[0], blocks=(
        blocks.section(f":white_check_mark: Pulled `{result.reference}` for the run "
                       f"({result.seconds:.1f} s)."),
        blocks.preformatted("\n".join(lines))))


def run_pull_failed(reference: str, exc: DockopsError, *, missing: bool = True) -> Message:
    """The pull a run needed failed: no container was created."""
    extra = [blocks.context(exc.detail)] if exc.detail else []
    return Message(text=exc.message, blocks=(
        blocks.section(f":x: {_not_local(reference, missing)}, and {exc.message[:1].lower()}"
                       f"{exc.message[1:]} No container was created."), *extra), ok=False)


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def attached(result: Attached, *, wait_seconds: float, host: str = "") -> Message:
    """An attached run or `start -a`: exit code and output, or still running past the wait."""
    name = result.name
    cut = " Only the end of the output was kept." if result.output_cut else ""
    if result.finished:
        ok = result.exit_code == 0
        icon = ":white_check_mark:" if ok else ":x:"
        title = f"{icon} `{name}` exited with code {result.exit_code}{_where(host)} " \
                f"after {_seconds(result.waited)}"
        note = ("Removed (`--rm`)." if result.removed_on_exit else
                f"The container stays: `/docker rm {name}` removes it.") + cut
    else:
        ok = True
        title = (f":hourglass_flowing_sand: `{name}` is still running after "
                 f"{_seconds(wait_seconds)}{_where(host)}: dockops left it running.")
        note = (f"Follow it: `/docker logs -f {name}` · stop it: `/docker stop {name}`"
                + (" · removed when it exits (`--rm`)." if result.removed_on_exit else ".") + cut)
    output = result.output if result.output.strip() else "(no output)"
    message = text_output(title, output, filename=f"{name}.log", note=note, from_end=True)
    return Message(text=message.text, blocks=message.blocks, attachment=message.attachment, ok=ok)


_VERBS = {"start": "Started", "stop": "Stopped", "restart": "Restarted", "kill": "Killed",
          "rm": "Removed"}


def done(verb: str, results: Sequence[Done], *, suffix: str = "", host: str = "") -> Message:
    """`start/stop/restart/kill/rm` of several containers: one line for each that failed."""
    succeeded = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    parts = []
    if succeeded:
        names = ", ".join(f"`{r.name}`" for r in succeeded)
        parts.append(blocks.section(f":white_check_mark: {_VERBS.get(verb, verb)} {names}"
                                    f"{suffix}{_where(host)}."))
    for result in failed:
        parts.append(blocks.section(f":x: `{result.name}`: {result.error}"))
    text = "; ".join(
        [f"{_VERBS.get(verb, verb)} {', '.join(r.name for r in succeeded)}"] if succeeded else []
        + [f"{r.name}: {r.error}" for r in failed])
    return Message(text=text, blocks=tuple(parts), ok=not failed)


def exec_result(result: ExecResult, *, wait_seconds: float) -> Message:
    command = shlex.join(result.command)
    if result.detached:
        return Message(text=f"Started `{command}` in {result.container}", blocks=(
            blocks.section(f":white_check_mark: Started `{command}` in `{result.container}` in "
                           "the background (`-d`)."),))
    cut = " Only the end of the output was kept." if result.output_cut else ""
    output = result.output if result.output.strip() else "(no output)"
    if result.exit_code is None:
        title = (f":hourglass_flowing_sand: `{command}` is still running in `{result.container}` "
                 f"after {_seconds(wait_seconds)}: dockops stopped waiting (it keeps running).")
        ok = True
    else:
        ok = result.exit_code == 0
        icon = ":white_check_mark:" if ok else ":x:"
        title = f"{icon} `{command}` in `{result.container}` exited with code {result.exit_code}"
    message = text_output(title, output, filename=f"{result.container}-exec.log",
                          note=cut.strip(), from_end=True)
    return Message(text=message.text, blocks=message.blocks, attachment=message.attachment, ok=ok)


# -- follows (logs -f, attach) -----------------------------------------------------------------

def follow(title: str, text: str, *, follow_id: str, live: bool, note: str,
           stop_token: str = "") -> Message:
    """The one message a follow updates in place: the latest lines, a Stop button while live."""
    body = blocks.tail_snippet(text) if text.strip() else "(no output yet)" if live \
        else "(no output)"
    parts = [blocks.section(title), blocks.preformatted(body), blocks.context(note)]
    if live and stop_token:
        parts.append(blocks.buttons(blocks.button("Stop", STOP_FOLLOW_ACTION, stop_token,
                                                  style="danger"),
                                    block_id=f"follow-{follow_id}"))
    last = text.rstrip("\n").rsplit("\n", 1)[-1] if text.strip() else ""
    plain = without_marks(title)
    return Message(text=md("{}: {}", plain, last) if last else plain, blocks=tuple(parts))


def follow_transcript(name: str, text: str, *, cut: bool) -> Message:
    """Everything a follow kept, as a file in its thread (when more than the message showed)."""
    note = " (only the end was kept)" if cut else ""
    return Message(text=f"Full output of {name}{note}",
                   blocks=(blocks.context(f"The whole followed output of `{name}`{note} is "
                                          "attached."),),
                   attachment=Attachment(f"{name}-follow.log", text.encode(), f"{name}-follow.log"))


# -- cp -------------------------------------------------------------------------------------

def copied_out(container: str, path: str, stat: PathStat, attachment: Attachment) -> Message:
    what = "directory (as .tar.gz)" if stat.is_dir else "file"
    return Message(
        text=f"{container}:{path} ({what}, {len(attachment.content):,} bytes)",
        blocks=(blocks.section(f":page_facing_up: `{container}:{path}`: {what}, "
                               f"{size(len(attachment.content))}, attached as "
                               f"`{attachment.filename}`."),),
        attachment=attachment)


def copied(source: str, destination: str, count: int, nbytes: int) -> Message:
    entries = f"{count} entr{'y' if count == 1 else 'ies'}"
    text = f"Copied {source} to {destination} ({entries}, {nbytes:,} bytes)"
    return Message(text=text, blocks=(
        blocks.section(f":white_check_mark: Copied `{source}` to `{destination}` ({entries}, "
                       f"{size(nbytes)})."),))


def open_follows(rows: Sequence[tuple[str, str, str, float]]) -> Message:
    """`follows`: one line per open follow (ID, what, who started it, time left)."""
    if not rows:
        text = "No follow is open. `/docker logs -f NAME` or `/docker attach NAME` opens one."
        return Message(text=text, blocks=(blocks.section(text),))
    lines = [md("`{}` {} · started by {} · {:.0f} s left", follow_id, title, user_mention(owner),
                left) for follow_id, title, owner, left in rows]
    head = f"*{len(rows)} open follow{'s' if len(rows) != 1 else ''}*"
    return Message(text=f"{len(rows)} open follows", blocks=(
        blocks.section(Mrkdwn("\n").join([head, *lines])),
        blocks.context("Stop one with its Stop button or `/docker follows stop ID`.")))


def follow_stopped(follow_id: str, by: str) -> Message:
    """`by` is markup (a mention) or text to escape."""
    text = md(":octagonal_sign: Follow `{}` stopped by {}.", follow_id, by)
    return Message(text=text, blocks=(blocks.section(text),))


def follow_gone(follow_id: str) -> Message:
    text = f"Follow `{follow_id}` is not open: it has already stopped."
    return Message(text=text, blocks=(blocks.section(text),),
                   ok=False)


# -- recreate ------------------------------------------------------------------------------------

def recreate_preview(rows: Sequence[tuple[str, str, str]], *, pull: bool, host: str) -> Message:
    """Exactly what `recreate` will do, container by container."""
    where = f" on {host}" if host else ""
    lines = [f"• `{name}` (`{short}`) -> `{ref}`" for name, short, ref in rows]
    first = "pull each image, then " if pull else ""
    text = (f"This will {first}replace {len(rows)} container(s){where} by new ones with the "
            "same name and config on the image shown:\n" + "\n".join(lines))
    note = ("One at a time: a container whose new copy does not keep running is rolled back to "
            "the old one, and the others are left as they are.")
    return Message(text=f"Recreate {len(rows)} container(s){where}",
                   blocks=(blocks.section(text), blocks.context(note)))


def recreate_report(results: Sequence[RecreateLike], *, host: str) -> Message:
    """Which containers now run the new image, and which were rolled back and why."""
    good = [r for r in results if r.ok]
    bad = [r for r in results if not r.ok]
    where = f" on {host}" if host else ""
    icon = ":white_check_mark:" if not bad else ":warning:"
    head = (f"{icon} {len(good)} container(s) recreated{where}"
            + (f", {len(bad)} rolled back" if bad else "") + ".")
    return Message(text=head, blocks=(blocks.section(head), *recreate_outcomes(results)),
                   ok=not bad)
