"""Scheduled jobs as messages: update notices with buttons, prune reports, job lists.

`render(notice)` turns a job's notice (bot/jobs/notices.py) into the message the outbox
posts; it runs at delivery, so a queued notice reads as the view says when it is sent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.jobs.notices import (
    PULL_ACTION,
    RECREATE_ACTION,
    SNOOZE_ACTION,
    CheckedImage,
    CheckFailed,
    CleanedImage,
    HostFailed,
    JobFailed,
    NoticeButtons,
    NoticeData,
    PrunedImage,
    PruneDryRun,
    PruneReport,
    Pulled,
    PullFailed,
    Recreated,
    RefusedImage,
    TagAvailable,
    UpdateApplied,
    UpdateAvailable,
    UpdateDetails,
    UpdatesPending,
    UpdateSummary,
)
from bot.mrkdwn import Mrkdwn, channel_mention, md
from bot.units import disk_size
from bot.views import blocks
from bot.views.format import ago, size, table
from bot.views.limits import SNIPPET_CHARS
from bot.views.message import Message

if TYPE_CHECKING:
    from bot.store import JobRun

def short_digest(digest: str) -> str:
    return digest[:19] if digest else "none"


def _code_lines(lines: Sequence[str], limit: int = SNIPPET_CHARS) -> str:
    """As many lines as fit, then how many more there are."""
    shown: list[str] = []
    used = 0
    for n, line in enumerate(lines):
        if used + len(line) + 40 > limit:
            shown.append(f"... and {len(lines) - n} more")
            break
        shown.append(line)
        used += len(line) + 1
    return "\n".join(shown)


def render(notice: NoticeData) -> Message:
    """The Slack message for a job's notice."""
    match notice:
        case UpdateAvailable():
            return update_available(notice.job, notice.host, notice.ref, notice.old, notice.new,
                                    notice.containers, notice.buttons, notice.details)
        case TagAvailable():
            return tag_available(notice)
        case Pulled():
            return pulled(notice)
        case Recreated():
            return recreated(notice)
        case PullFailed():
            return pull_failed(notice)
        case CheckFailed():
            return check_failed(notice)
        case HostFailed():
            return host_failed(notice)
        case UpdateSummary():
            return update_summary(notice)
        case UpdateApplied():
            return update_applied(notice)
        case UpdatesPending():
            return updates_pending(notice)
        case PruneDryRun():
            return prune_dry_run(notice)
        case PruneReport():
            return prune_report(notice)
        case JobFailed():
            return job_failed(notice)
    raise TypeError(f"no view for {type(notice).__name__}")


# -- update job ---------------------------------------------------------------------------

def _size_change(details: UpdateDetails) -> str:
    if not details.local_size:
        return size(details.size)
    delta = details.size - details.local_size
    sign = "+" if delta >= 0 else "-"
    return f"{size(details.size)} ({sign}{size(abs(delta))} vs the local image)"


def update_details(details: UpdateDetails | None) -> list[tuple[str, str | Mrkdwn]]:
    """The new image's card fields: created, platform, size change, OCI version and source."""
    if details is None:
        return []
    found: list[tuple[str, str | Mrkdwn]] = [
        ("Created", details.created.replace("T", " ")[:19] + " UTC" if details.created
         else "unknown"),
        ("Platform", details.platform or "unknown"),
        ("Size (compressed layers)", _size_change(details))]
    if details.version or details.revision:
        found.append(("Version", " ".join(part for part in (
            details.version, f"({details.revision[:12]})" if details.revision else "") if part)))
    if details.link:
        found.append(("Source", md("<{}|{}>", details.link, details.link[:80])))
    elif details.source:
        found.append(("Source", details.source))
    return found


def update_available(job: str, host: str, ref: str, old: str, new: str,
                     containers: Sequence[str], tokens: NoticeButtons,
                     details: UpdateDetails | None = None) -> Message:
    users = ", ".join(f"`{c}`" for c in containers) or "none"
    parts = [
        blocks.header(f"Update available: {ref}"),
        *blocks.fields([("Image", f"`{ref}`"), ("Host", host),
                        ("Running digest", f"`{short_digest(old)}`"),
                        ("New digest", f"`{short_digest(new)}`"),
                        ("Containers using it", users), *update_details(details)]),
        blocks.buttons(*(button for button in (
            blocks.button("Pull now", PULL_ACTION, tokens.pull, style="primary"),
            blocks.button("Recreate now", RECREATE_ACTION, tokens.recreate)
            if tokens.recreate else None,
            blocks.button("Snooze 24h", SNOOZE_ACTION, tokens.snooze)) if button)),
        blocks.context(f"Job `{job}`: the registry has a new image under this tag (checked "
                       "without pulling). Pull and Recreate need the operator role on "
                       f"{host}; Recreate acts only on the containers listed here and asks "
                       "for a confirmation."),
    ]
    return Message(text=f"Update available for {ref} on {host}: {short_digest(old)} -> "
                        f"{short_digest(new)} (containers: {', '.join(containers) or 'none'})",
                   blocks=tuple(parts))


def tag_available(notice: TagAvailable) -> Message:
    """`app 1.25.3 -> 1.25.4 available`, with Pull / Recreate on the new tag."""
    name = notice.repository.rsplit("/", 1)[-1]
    head = f"{name} {notice.current} -> {notice.tag} available"
    users = ", ".join(f"`{c}`" for c in notice.containers) or "none"
    tokens = notice.buttons
    parts = [
        blocks.section(f":new: *{head}*"),
        *blocks.fields([("Repository", f"`{notice.repository}`"), ("Host", notice.host),
                        ("Watched tag", f"`{notice.current}`"), ("New tag", f"`{notice.tag}`"),
                        ("Containers on the watched tag", users)]),
        blocks.buttons(*(button for button in (
            blocks.button(f"Pull {notice.tag}", PULL_ACTION, tokens.pull, style="primary"),
            blocks.button(f"Recreate on {notice.tag}", RECREATE_ACTION, tokens.recreate)
            if tokens.recreate else None) if button)),
        blocks.context(f"Job `{notice.job}`: a newer version tag is in the registry (told "
                       f"once per tag). Pull and Recreate need the operator role on "
                       f"{notice.host}; Recreate asks for a confirmation."),
    ]
    return Message(text=f"{head} ({notice.repository} on {notice.host})", blocks=tuple(parts))


def pulled(notice: Pulled) -> Message:
    text = (f":arrow_down: Pulled `{notice.ref}` on {notice.host}: `{short_digest(notice.old)}` "
            f"-> `{short_digest(notice.new)}`.")
    if notice.stale:
        text += (f"\nStill on the old image: {', '.join(f'`{c}`' for c in notice.stale)} "
                 "(recreate them to switch).")
    return Message(text=text.replace("`", ""), blocks=(blocks.section(text),
                                                       blocks.context(f"Job `{notice.job}`")))


class RecreateLike(Protocol):
    """How one container's recreation went (read-only: engine results are frozen)."""

    @property
    def container(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def rolled_back(self) -> bool: ...
    @property
    def reason(self) -> str: ...
    @property
    def log_tail(self) -> str: ...
    @property
    def started(self) -> bool: ...
    @property
    def note(self) -> str: ...


def recreate_outcomes(results: Sequence[RecreateLike]) -> list[dict[str, Any]]:
    """Which containers now run the new image, and which were rolled back, why, and their log."""
    good = [r for r in results if r.ok]
    parts: list[dict[str, Any]] = []
    if good:
        parts.append(blocks.section("Now on the new image: " + ", ".join(
            f"`{r.container}`" + ("" if r.started else " (not started: it was stopped)")
            for r in good)))
    parts.extend(blocks.context(f":information_source: `{r.container}`: {r.note}.")
                 for r in good if r.note)
    for result in (r for r in results if not r.ok):
        what = "rolled back to the old image" if result.rolled_back else "left as it was"
        parts.append(blocks.section(f":leftwards_arrow_with_hook: `{result.container}` {what}: "
                                    f"the new container did not stay up ({result.reason})."))
        if result.log_tail.strip():
            parts.append(blocks.code(result.log_tail, 1200))
    return parts


def recreated(notice: Recreated) -> Message:
    results = notice.results
    good = [r for r in results if r.ok]
    bad = [r for r in results if not r.ok]
    icon = ":white_check_mark:" if not bad else ":warning:"
    head = (f"{icon} `{notice.ref}` on {notice.host}: pulled `{short_digest(notice.old)}` -> "
            f"`{short_digest(notice.new)}`, {len(good)} container(s) recreated"
            + (f", {len(bad)} rolled back" if bad else ""))
    parts: list[dict[str, Any]] = [blocks.section(head), *recreate_outcomes(results)]
    if not results:
        parts.append(blocks.context("No container uses this image."))
    parts.extend(cleanup_notes(notice.cleanup))
    parts.append(blocks.context(f"Job `{notice.job}`"))
    return Message(text=head.replace("`", ""), blocks=tuple(parts), ok=not bad)


def cleanup_notes(cleaned: Sequence[CleanedImage]) -> list[dict[str, Any]]:
    """One line per image a recreate replaced: removed, or kept and why (`cleanup`)."""
    return [blocks.context(
        f":wastebasket: removed the old image `{image.image_id.removeprefix('sha256:')[:12]}`"
        if image.removed else
        f"Kept the old image `{image.image_id.removeprefix('sha256:')[:12]}`: {image.reason}.")
        for image in cleaned]


def pull_failed(notice: PullFailed) -> Message:
    text = f":x: Could not pull `{notice.ref}`: {notice.error}"
    return Message(text=text.replace("`", ""), ok=False,
                   blocks=(blocks.section(text), blocks.context(f"Job `{notice.job}`")))


def check_failed(notice: CheckFailed) -> Message:
    text = (f":warning: Could not check `{notice.ref}` on {notice.host} for updates: "
            f"{notice.error}\nThe other images were checked; this one is tried again on the next "
            "run (you hear again only after it worked once).")
    return Message(text=text.replace("`", ""), ok=False,
                   blocks=(blocks.section(text), blocks.context(f"Job `{notice.job}`")))


def host_failed(notice: HostFailed) -> Message:
    text = f":x: Job `{notice.job}` could not work on host `{notice.host}`: {notice.error}"
    return Message(text=text.replace("`", ""), ok=False, blocks=(blocks.section(text),))


def _state(image: CheckedImage) -> str:
    if image.error:
        return f"check failed: {image.error}"
    return "new digest " + short_digest(image.new) if image.new else "up to date"


def update_summary(notice: UpdateSummary) -> Message:
    rows = [(image.host, image.ref, _state(image)) for image in notice.images]
    body = table(("HOST", "IMAGE", "STATE"), rows) if rows else "(nothing watched)"
    return Message(text=f"Update check {notice.job}: {notice.summary}",
                   blocks=(blocks.section(f"*Update check `{notice.job}`*: {notice.summary}"),
                           blocks.code(body)))


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")


def applied_by(by: str, how: str) -> Mrkdwn:
    """`applied by <@U0ALICE> (recreate)`, or `updated outside dockops`."""
    if not by:
        return md("updated outside dockops")
    who = md("<@{}>", by) if _USER_ID.match(by) else md("`{}`", by)
    return md("applied by {} ({})", who, how or "dockops")


def update_applied(notice: UpdateApplied) -> Message:
    """What an update notice becomes once its containers run the new digest (no buttons)."""
    users = ", ".join(f"`{c}`" for c in notice.containers) or "none"
    head = md(":white_check_mark: *Update applied: {}* on {}: `{}` -> `{}`, {}.", notice.ref,
              notice.host, short_digest(notice.old), short_digest(notice.new),
              applied_by(notice.by, notice.how))
    text = md("Update applied: {} on {}, {}", notice.ref, notice.host,
              applied_by(notice.by, notice.how))
    return Message(text=text, blocks=(blocks.section(head),
                                      blocks.context(f"Containers: {users}"),
                                      blocks.context(f"Job `{notice.job}`")))


def updates_pending(notice: UpdatesPending) -> Message:
    """The daily or weekly reminder: each update still pending, told when, used by whom."""
    head = (f":hourglass: {len(notice.updates)} update(s) still pending for job "
            f"`{notice.job}` ({notice.remind} reminder)")
    rows = [(u.host, u.ref, short_digest(u.new), ", ".join(u.containers) or "-",
             ago(datetime.fromtimestamp(u.told_at, UTC))) for u in notice.updates]
    return Message(text=head.replace("`", ""), blocks=(
        blocks.section(head),
        blocks.code(_code_lines(table(("HOST", "IMAGE", "NEW", "CONTAINERS", "TOLD"), rows)
                                .splitlines()))))


# -- prune job ----------------------------------------------------------------------------

def _image_lines(images: Sequence[PrunedImage]) -> list[str]:
    return [f"{image.label}  {size(image.size)}" for image in images]


def prune_dry_run(notice: PruneDryRun) -> Message:
    head = (f":mag: Dry run of `{notice.job}` on {notice.host}: would remove "
            f"{len(notice.images)} image(s), freeing {disk_size(notice.total_bytes)}.")
    parts = [blocks.section(head)]
    if notice.images:
        parts.append(blocks.code(_code_lines(_image_lines(notice.images))))
    if notice.kept:
        parts.append(blocks.context(f"{notice.kept} image(s) kept (in use or by `keep`)."))
    parts.append(blocks.context("Nothing was removed: the job has `dry_run = true`."))
    return Message(text=head.replace("`", ""), blocks=tuple(parts))


def _refused_lines(images: Sequence[RefusedImage]) -> list[str]:
    return [f"{image.label}: {image.reason}" for image in images]


def prune_report(notice: PruneReport) -> Message:
    # The engine's figure; a notice queued before it existed has the before/after sizes.
    legacy = notice.reclaimed is None
    reclaimed = max(0, notice.before - notice.after) if legacy else max(0, notice.reclaimed or 0)
    icon = ":broom:" if not notice.refused else ":warning:"
    head = (f"{icon} `{notice.job}` on {notice.host}: removed {len(notice.removed)} image(s), "
            f"reclaimed {disk_size(reclaimed)}.")
    facts = [("Images before", size(notice.before)), ("Images after", size(notice.after))
             ] if legacy else []
    parts = [blocks.section(head),
             *blocks.fields([*facts,
                             ("Reclaimed", f"{disk_size(reclaimed)} (the engine's figure: the "
                                           "layers it deleted)" if not legacy
                              else disk_size(reclaimed)),
                             ("Kept", f"{notice.kept} (in use or by `keep`)")])]
    if notice.removed:
        parts.append(blocks.code(_code_lines(_image_lines(notice.removed))))
    if notice.refused:
        parts.append(blocks.section("*The engine refused to remove:*"))
        parts.append(blocks.code(_code_lines(_refused_lines(notice.refused))))
    return Message(text=head.replace("`", ""), blocks=tuple(parts), ok=not notice.refused)


def job_failed(notice: JobFailed) -> Message:
    text = f":x: Job `{notice.job}` failed: {notice.error}"
    parts = [blocks.section(text)]
    if notice.detail:
        parts.append(blocks.context(notice.detail))
    return Message(text=text.replace("`", ""), blocks=tuple(parts), ok=False)


# -- the slash commands -------------------------------------------------------------------

def when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def job_list(rows: Sequence[tuple[str, str, str, str, str, str]], note: str = "",
             quotas: Sequence[str] = ()) -> Message:
    """Rows of (name, type, schedule, next run, last result, channel); `quotas`: what the
    registries' pull allowances were at their last answer."""
    if not rows:
        return Message(text="No jobs are configured.",
                       blocks=(blocks.section("No jobs are configured."),
                               blocks.context("Add `[[jobs]]` entries to the dockops config.")))
    body = table(("NAME", "TYPE", "SCHEDULE (UTC)", "NEXT RUN", "LAST RESULT", "CHANNEL"), rows)
    parts = [blocks.section(f"*{len(rows)} scheduled job(s)*"), blocks.code(body)]
    if quotas:
        parts.append(blocks.context("Registry pull allowance (update checks are HEADs, which "
                                    "do not count): " + "; ".join(quotas)))
    if note:
        parts.append(blocks.context(note))
    return Message(text=f"{len(rows)} scheduled jobs", blocks=tuple(parts))


def last_result(outcome: str, summary: str, finished: datetime | None) -> str:
    if not outcome:
        return "never ran"
    return f"{outcome} {ago(finished)}: {summary}"[:80] if finished else f"{outcome} (running)"


def history(name: str, runs: Sequence[JobRun]) -> Message:
    if not runs:
        return Message(text=f"Job {name} has not run yet.",
                       blocks=(blocks.section(f"Job `{name}` has not run yet."),))
    rows = [(f"{r.started_at:%Y-%m-%d %H:%M:%S}", r.trigger, r.outcome,
             f"{(r.finished_at - r.started_at).total_seconds():.1f}s" if r.finished_at else "-",
             r.summary[:100]) for r in runs]
    body = table(("STARTED (UTC)", "TRIGGER", "OUTCOME", "TOOK", "SUMMARY"), rows)
    return Message(text=f"Last {len(runs)} runs of {name}",
                   blocks=(blocks.section(f"*Last {len(runs)} run(s) of `{name}`*"),
                           blocks.code(body)))


def run_queued(name: str, channel: str, next_run: datetime | None) -> Message:
    text = md(":arrow_forward: Job `{}` is running now; its report goes to {}. The schedule "
              "does not move (next run {}).", name, channel_mention(channel), when(next_run))
    return Message(text=text, blocks=(blocks.section(text),))


def run_finished(name: str, outcome: str, summary: str, shown: int) -> Message:
    icon = {"ok": ":white_check_mark:", "skipped": ":double_vertical_bar:"}.get(outcome, ":x:")
    text = f"{icon} Job `{name}` {outcome}: {summary}"
    parts = [blocks.section(text)]
    if shown:
        parts.append(blocks.context(f"{shown} notification(s) above."))
    return Message(text=text.replace("`", ""), blocks=tuple(parts), ok=outcome != "error")


def paused(name: str) -> Message:
    text = f":double_vertical_bar: Job `{name}` is paused. `jobs resume {name}` restarts it."
    return Message(text=text, blocks=(blocks.section(text),))


def resumed(name: str, next_run: datetime | None) -> Message:
    text = f":arrow_forward: Job `{name}` resumed; next run {when(next_run)}."
    return Message(text=text, blocks=(blocks.section(text),))


# -- buttons ------------------------------------------------------------------------------

def snoozed(ref: str, user: str, until: datetime) -> Mrkdwn:
    """`user` is markup (a mention) or text to escape."""
    return md(":zzz: {} snoozed updates of `{}` until {}.", user, ref, when(until))
