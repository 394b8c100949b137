"""Volume results as the docker CLI prints them, and the previews of `volume rm`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.engine.results import VolumeRow
from bot.units import disk_size
from bot.views.format import table
from bot.views.message import Message
from bot.views.networks import MIN_WIDTH, format_rows
from bot.views.output import text_output

VOLUME_HEADERS = {"Driver": "DRIVER", "Name": "VOLUME NAME", "Scope": "SCOPE",
                  "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "Links": "LINKS",
                  "Size": "SIZE", "Group": "GROUP", "Availability": "AVAILABILITY",
                  "Status": "STATUS"}


def volume_fields(row: VolumeRow) -> dict[str, str]:
    """The fields `docker volume ls --format` knows (N/A where the list does not measure)."""
    return {"Availability": "N/A", "Driver": row.driver, "Group": "N/A",
            "Labels": ",".join(f"{k}={v}" for k, v in sorted(row.labels.items())),
            "Links": "N/A", "Mountpoint": row.mountpoint, "Name": row.name, "Scope": row.scope,
            "Size": disk_size(row.size) if row.size >= 0 else "N/A", "Status": "N/A"}


def volume_ls(rows: Sequence[VolumeRow], *, quiet: bool = False, template: str | None = None,
              host: str = "") -> Message:
    where = f" on `{host}`" if host else ""
    if quiet:
        return text_output(f"*Volume names*{where}", "\n".join(r.name for r in rows) or "(none)",
                           filename="volume-names.txt")
    fields = [volume_fields(r) for r in rows]
    noun = "volume" if len(rows) == 1 else "volumes"
    if template:
        return text_output(f"*{len(rows)} {noun}*{where}",
                           format_rows(template, fields, VOLUME_HEADERS) or "(none)",
                           filename="volumes.txt")
    body = table(("DRIVER", "VOLUME NAME"), [(r.driver, r.name) for r in rows],
                 min_width=MIN_WIDTH)
    return text_output(f"*{len(rows)} {noun}*{where}", body, filename="volumes.txt")


def volume_rm_preview(rows: Sequence[VolumeRow], *, force: bool) -> Message:
    count = f"{len(rows)} volume{'s' if len(rows) != 1 else ''}"
    body = table(("VOLUME NAME", "DRIVER", "SIZE", "USED BY"),
                 [(r.name, r.driver, disk_size(r.size) if r.size >= 0 else "N/A",
                   ", ".join(r.used_by) or "-") for r in rows], min_width=MIN_WIDTH)
    note = "Their data is deleted for good." + (
        " `-f`: a volume already gone is not an error." if force else "")
    message = text_output(f":wastebasket: *Remove {count}?*", body, filename="volume-rm.txt",
                          note=note)
    return Message(text=message.text, blocks=message.blocks, attachment=message.attachment,
                   meta={"preview": True})
