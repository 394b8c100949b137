"""Destructive commands as messages: what will happen (previews) and what did (results)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.engine.results import ImageTarget, PrunePlan, PruneResult, Target
from bot.views import blocks
from bot.views.format import ago, short_id, size, table
from bot.views.message import Message
from bot.views.output import text_output


def _targets_table(targets: Sequence[Target]) -> str:
    return table(("NAME", "CONTAINER ID", "IMAGE", "STATUS"),
                 [(t.name, short_id(t.id), t.image, t.status) for t in targets])


def _preview(title: str, body: str, note: str, *, filename: str) -> Message:
    message = text_output(title, body, filename=filename, note=note)
    return Message(text=message.text, blocks=message.blocks, attachment=message.attachment,
                   meta={"preview": True})


def rm_preview(targets: Sequence[Target], *, force: bool, volumes: bool) -> Message:
    running = [t for t in targets if t.state in ("running", "restarting", "paused")]
    count = f"{len(targets)} container{'s' if len(targets) != 1 else ''}"
    notes = []
    if force and running:
        notes.append(f"{len(running)} running: `-f` kills "
                     f"{'it' if len(running) == 1 else 'them'} first.")
    notes.append("Anonymous volumes are removed too (`-v`)." if volumes
                 else "Their volumes are kept.")
    return _preview(f":wastebasket: *Remove {count}?*", _targets_table(targets), " ".join(notes),
                    filename="rm-preview.txt")


def signal_preview(verb: str, targets: Sequence[Target], how: str) -> Message:
    """`kill` and `stop` of several containers."""
    count = f"{len(targets)} container{'s' if len(targets) != 1 else ''}"
    return _preview(f":octagonal_sign: *{verb.capitalize()} {count}{how}?*",
                    _targets_table(targets), "They stay, stopped: `/docker start NAME` brings "
                    "one back.", filename=f"{verb}-preview.txt")


def rmi_preview(targets: Sequence[ImageTarget], *, force: bool) -> Message:
    lines = []
    for target in targets:
        users = ", ".join(f"{name} ({state})" for name, state in target.used_by)
        if target.untag_only:
            others = ", ".join(t for t in target.tags if t != target.typed)
            lines.append(f"untag  {target.typed} (the image stays as {others})")
        elif target.used_by and target.typed in target.tags:
            lines.append(f"untag  {target.typed} (forced; the image stays for {users})")
        elif target.used_by:
            lines.append(f"delete {short_id(target.id)} (forced, although {users} use it)")
        else:
            tags = ", ".join(target.tags) or "<none>"
            lines.append(f"delete {short_id(target.id)} {tags} ({size(target.size)})")
    count = f"{len(targets)} image{'s' if len(targets) != 1 else ''}"
    note = "Untagged parent layers go too." if not force else "Forced (`-f`)."
    return _preview(f":wastebasket: *Remove {count}?*", "\n".join(lines), note,
                    filename="rmi-preview.txt")


def rmi_result(done: Sequence[tuple[str, list[str], list[str], str]]) -> Message:
    """(reference, untagged, deleted, error) for each image named."""
    parts = []
    failed = 0
    for reference, untagged, deleted, error in done:
        if error:
            failed += 1
            parts.append(blocks.section(f":x: `{reference}`: {error}"))
            continue
        pieces = []
        if untagged:
            pieces.append("untagged " + ", ".join(f"`{u}`" for u in untagged))
        if deleted:
            pieces.append(f"deleted {len(deleted)} image layer"
                          f"{'s' if len(deleted) != 1 else ''} ({short_id(deleted[0])}…)")
        parts.append(blocks.section(f":white_check_mark: `{reference}`: "
                                    f"{'; '.join(pieces) or 'done'}."))
    text = f"rmi: {len(done) - failed} done, {failed} failed"
    return Message(text=text, blocks=tuple(parts), ok=not failed)


def _plan_scope(plan: PrunePlan) -> str:
    scope = ["unused images" if plan.all else "dangling images"]
    if plan.until is not None:
        scope.append(f"created more than {_duration(plan.until.total_seconds())} ago")
    if plan.labels:
        scope.append("matching " + ", ".join(f"`{label}`" for label in plan.labels))
    return ", ".join(scope)


def _duration(seconds: float) -> str:
    for unit, length in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= length and seconds % length == 0:
            return f"{int(seconds // length)}{unit}"
    return f"{int(seconds)}s"


def _images_table(plan: PrunePlan) -> str:
    return table(("IMAGE ID", "TAGS", "SIZE", "CREATED"),
                 [(short_id(i.id), i.label, size(i.size), ago(i.created)) for i in plan.images])


def prune_preview(plan: PrunePlan) -> Message:
    """The images a prune would remove and the bytes reclaimed, computed without deleting."""
    skipped = _skipped_note(plan)
    if not plan.images:
        text = f"Nothing to prune: no {_plan_scope(plan)}."
        return Message(text=text, blocks=(blocks.section(f":sparkles: {text}"),
                                          *([blocks.context(skipped)] if skipped else [])),
                       meta={"preview": True, "nothing": True})
    count = f"{len(plan.images)} image{'s' if len(plan.images) != 1 else ''}"
    title = (f":wastebasket: *Prune {count}* ({_plan_scope(plan)}): reclaims up to "
             f"*{size(plan.total_bytes)}*?")
    message = _preview(title, _images_table(plan), skipped, filename="prune-preview.txt")
    # Confirming removes these images and no others, whatever appears meanwhile.
    return replace(message, meta={**message.meta, "pin": [i.id for i in plan.images]})


def _skipped_note(plan: PrunePlan) -> str:
    if not plan.skipped:
        return ""
    shown = "; ".join(f"{short_id(i.id)} {i.label}: {i.reason}" for i in plan.skipped[:5])
    more = f" and {len(plan.skipped) - 5} more" if len(plan.skipped) > 5 else ""
    return f"Left alone: {shown}{more}."


def prune_result(result: PruneResult, plan: PrunePlan) -> Message:
    count = f"{len(result.removed)} image{'s' if len(result.removed) != 1 else ''}"
    parts = [blocks.section(f":white_check_mark: Pruned {count} ({_plan_scope(plan)}), "
                            f"reclaimed up to *{size(result.reclaimed_bytes)}*.")]
    if result.removed:
        rows = [(short_id(i.id), i.label, size(i.size)) for i in result.removed]
        parts.append(blocks.code(table(("IMAGE ID", "TAGS", "SIZE"), rows)))
    for image, error in result.failed:
        parts.append(blocks.section(f":x: {short_id(image.id)} {image.label}: {error}"))
    text = f"Pruned {count}, reclaimed {result.reclaimed_bytes:,} bytes" + (
        f"; {len(result.failed)} refused by the engine" if result.failed else "")
    return Message(text=text, blocks=tuple(parts[:49]), ok=not result.failed)
