"""Destructive commands as messages: what will happen (previews) and what did (results)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot import units
from bot.engine.results import PrunePlan, PruneResult, Target
from bot.engine.rmi import RmiPlan
from bot.units import disk_size, human_size
from bot.views import blocks
from bot.views.format import short_id, table
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


_STOPPING = frozenset({"KILL", "SIGKILL", "9"})  # any other signal: up to the process


def signal_preview(verb: str, targets: Sequence[Target], how: str, *,
                   signal: str | None = None) -> Message:
    """`kill` and `stop` of containers: what becomes of each, as the engine will do it."""
    count = f"{len(targets)} container{'s' if len(targets) != 1 else ''}"
    removed = [t.name for t in targets if t.auto_remove]
    kept = [t.name for t in targets if not t.auto_remove]
    notes = []
    if signal is not None and signal.upper() not in _STOPPING:
        notes.append(f"`{signal}` is delivered to each container's main process: what happens "
                     "next is up to it (many reload and keep running).")
    else:
        if kept:
            notes.append(f"{_them(kept)} stay{'s' if len(kept) == 1 else ''}, stopped: "
                         "`/docker start NAME` brings one back.")
        if removed:
            notes.append(f"{_them(removed)} {'was' if len(removed) == 1 else 'were'} started "
                         "with `--rm`: the engine removes "
                         f"{'it' if len(removed) == 1 else 'them'} once stopped.")
    return _preview(f":octagonal_sign: *{verb.capitalize()} {count}{how}?*",
                    _targets_table(targets), " ".join(notes), filename=f"{verb}-preview.txt")


def _them(names: Sequence[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _rmi_line(plan: RmiPlan) -> str:
    """One image's fate, as the engine will decide it."""
    target = plan.target
    if plan.outcome == "untag":
        others = ", ".join(t for t in target.tags if t != target.typed)
        return f"untag  {target.typed} (the image stays as {others})"
    if plan.outcome == "untag-keep":
        return (f"untag  {target.typed} (the image stays, untagged: running container "
                f"{', '.join(plan.running)} uses it)")
    tags = ", ".join(target.tags) or "<none>"
    line = f"delete {short_id(target.id)} {tags} ({human_size(target.size)})"
    if plan.stopped:
        line += f"; stopped container {', '.join(plan.stopped)} stays, without its image"
    return line


def rmi_preview(plans: Sequence[RmiPlan], *, force: bool, no_prune: bool = False) -> Message:
    lines = [_rmi_line(plan) for plan in plans]
    count = f"{len(plans)} image{'s' if len(plans) != 1 else ''}"
    deletes = any(plan.outcome == "delete" for plan in plans)
    parents = "Untagged parent layers are kept (`--no-prune`)." if no_prune \
        else "Untagged parent layers go too."
    note = ("Forced (`-f`). " if force else "") + (
        parents if deletes else "No image is deleted, only tags.")
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
            pieces.append(f"deleted image {short_id(deleted[0])}"
                          + (f" and {len(deleted) - 1} parent layer{'s' if len(deleted) != 2 else ''}"
                             if len(deleted) > 1 else ""))
        elif untagged:
            pieces.append("the image itself stays")
        parts.append(blocks.section(f":white_check_mark: `{reference}`: "
                                    f"{'; '.join(pieces) or 'done'}."))
        # The engine's own answer, as `docker rmi` prints it.
        parts.append(blocks.code("\n".join([*(f"Untagged: {u}" for u in untagged),
                                             *(f"Deleted: {d}" for d in deleted)])))
    text = f"rmi: {len(done) - failed} done, {failed} failed"
    return Message(text=text, blocks=tuple(parts[:49]), ok=not failed)


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
                 [(short_id(i.id), i.label, human_size(i.size), units.ago(i.created))
                  for i in plan.images])


def prune_preview(plan: PrunePlan, freed: int | None = None) -> Message:
    """The images a prune would remove and the bytes it frees (`freed`, from the layers no
    other image holds), computed without deleting."""
    skipped = _skipped_note(plan)
    if not plan.images:
        text = f"Nothing to prune: no {_plan_scope(plan)}."
        return Message(text=text, blocks=(blocks.section(f":sparkles: {text}"),
                                          *([blocks.context(skipped)] if skipped else [])),
                       meta={"preview": True, "nothing": True})
    count = f"{len(plan.images)} image{'s' if len(plan.images) != 1 else ''}"
    title = f":wastebasket: *Prune {count}* ({_plan_scope(plan)})?"
    if freed is not None:  # the layers no other image holds: what the engine will count
        title = (f":wastebasket: *Prune {count}* ({_plan_scope(plan)}): frees "
                 f"*{disk_size(freed)}*?")
    note = " ".join(filter(None, ["SIZE counts layers shared with other images, which stay.",
                                  skipped]))
    message = _preview(title, _images_table(plan), note, filename="prune-preview.txt")
    # Confirming removes these images and no others, whatever appears meanwhile.
    return replace(message, meta={**message.meta, "pin": [i.id for i in plan.images]})


def _skipped_note(plan: PrunePlan) -> str:
    if not plan.skipped:
        return ""
    shown = "; ".join(f"{short_id(i.id)} {i.label}: {i.reason}" for i in plan.skipped[:5])
    more = f" and {len(plan.skipped) - 5} more" if len(plan.skipped) > 5 else ""
    return f"Left alone: {shown}{more}."


def prune_result(result: PruneResult, plan: PrunePlan) -> Message:
    """What the removals did, with the engine's figure: the layers they deleted."""
    count = f"{len(result.removed)} image{'s' if len(result.removed) != 1 else ''}"
    reclaimed = max(result.space_reclaimed, 0)
    parts = [blocks.section(f":white_check_mark: Pruned {count} ({_plan_scope(plan)}), "
                            f"reclaimed *{disk_size(reclaimed)}*.")]
    if result.removed:
        lines = [f"untagged: {tag}" for tag in result.untagged]
        lines += [f"deleted: {image_id}" for image_id in result.deleted]
        parts.append(blocks.code("Deleted Images:\n" + "\n".join(lines) + "\n\n"
                                 f"Total reclaimed space: {disk_size(reclaimed)}\n"))
    for image, error in result.failed:
        parts.append(blocks.section(f":x: {short_id(image.id)} {image.label}: {error}"))
    text = f"Pruned {count}, reclaimed {reclaimed:,} bytes" + (
        f"; {len(result.failed)} refused by the engine" if result.failed else "")
    return Message(text=text, blocks=tuple(parts[:49]), ok=not result.failed)
