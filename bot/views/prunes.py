"""`container|volume|system prune`: the preview of what goes, and the engine's report."""

from __future__ import annotations

from bot.engine.results import ObjectPrunePlan, ObjectPruneReport
from bot.units import disk_size, short_id
from bot.views import blocks
from bot.views.format import table
from bot.views.message import Message
from bot.views.networks import MIN_WIDTH
from bot.views.output import text_output

_NOUNS = {"container": "containers", "network": "networks", "volume": "volumes",
          "image": "images"}


def _size(value: int) -> str:
    return disk_size(value) if value >= 0 else "-"


def _count(items: int, noun: str) -> str:
    return f"{items} {noun}{'s' if items != 1 else ''}"


def prune_preview(command: str, plan: ObjectPrunePlan) -> Message:
    """Every object the prune would remove, with the bytes the engine counts for each."""
    scope = "\n".join(f"- {line}" for line in plan.scope)
    if not plan.items and not plan.build_cache_entries:
        text = f"Nothing to prune: `{command}` would remove nothing now."
        return Message(text=text, blocks=(blocks.section(f":sparkles: {text}"),
                                          blocks.context(f"It removes:\n{scope}")),
                       meta={"preview": True, "nothing": True})
    rows = [(item.kind, item.label, item.key if item.kind == "volume" else short_id(item.key),
             _size(item.size)) for item in plan.items]
    if plan.build_cache_entries:
        rows.append(("build cache", _count(plan.build_cache_entries, "entry")
                     .replace("entrys", "entries"), "-", _size(plan.build_cache)))
    counted = sum(i.size for i in plan.items if i.size > 0) + plan.build_cache
    kinds = ", ".join(_count(sum(1 for i in plan.items if i.kind == kind), kind)
                      for kind in _NOUNS if any(i.kind == kind for i in plan.items))
    title = f":wastebasket: *{command}: remove {kinds or 'build cache'}?*"
    note = (f"This removes:\n{scope}\nSIZE is what the engine counts as reclaimed "
            f"({disk_size(counted)} in all): a container's writable layer, a volume's data, the "
            "layers of an image no other image holds. Confirming removes these and nothing "
            "else: if more would go by then, nothing is removed.")
    message = text_output(title, table(("TYPE", "NAME", "ID", "SIZE"), rows, min_width=MIN_WIDTH),
                          filename="prune-preview.txt", note=note)
    return Message(text=message.text, blocks=message.blocks, attachment=message.attachment,
                   meta={"preview": True, "pin": list(plan.keys)})


def report_text(report: ObjectPruneReport) -> str:
    """What the CLI prints after a prune: each `Deleted X:` list, then the total."""
    out = ""
    for title, names in report.deleted:
        if names:
            out += f"Deleted {title}:\n" + "".join(f"{name}\n" for name in names) + "\n"
    return out + f"Total reclaimed space: {disk_size(report.space_reclaimed)}\n"


def prune_report(command: str, report: ObjectPruneReport) -> Message:
    return text_output(f":white_check_mark: *{command}*: *{disk_size(report.space_reclaimed)}* "
                       "reclaimed (the engine's figure).", report_text(report),
                       filename="prune.txt")


def changed_since_preview(command: str, new: list[str]) -> Message:
    """The prune would now take objects the preview did not show: nothing is removed."""
    shown = ", ".join(key.split(":", 1)[1][:24] for key in new[:5])
    more = f" and {len(new) - 5} more" if len(new) > 5 else ""
    text = (f"Nothing was removed: since the preview, `{command}` would also take {shown}{more}. "
            f"Run `{command}` again to see the new preview.")
    return Message(text=text, blocks=(blocks.section(f":warning: {text}"),), ok=False)

