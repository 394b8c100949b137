"""Image results as messages: the images table and inspect summaries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import units
from bot.engine.results import ImageDetails, ImageRow
from bot.views import blocks, gotemplate
from bot.views.containers import go_time
from bot.views.format import ago, short_id, size
from bot.views.message import Message
from bot.views.output import text_output

IMAGE_HEADERS = {
    "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
    "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
    "Containers": "CONTAINERS", "VirtualSize": "SIZE", "SharedSize": "SHARED SIZE",
    "UniqueSize": "UNIQUE SIZE",
}
IMAGES_TABLE = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGES_DIGEST_TABLE = ("table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t"
                       "{{.CreatedSince}}\t{{.Size}}")


def image_fields(row: ImageRow, *, no_trunc: bool = False,
                 now: datetime | None = None) -> dict[str, Any]:
    """One `images` row as the CLI's imageContext fields (`--format '{{json .}}'`)."""
    known = row.size != -1 and row.shared_size != -1
    return {
        "Containers": "N/A" if row.containers == -1 else str(row.containers),
        "CreatedAt": go_time(row.created),
        "CreatedSince": units.ago(row.created, now),
        "Digest": row.digest,
        "ID": row.id if no_trunc else units.short_id(row.id),
        "Repository": row.repository,
        "SharedSize": "N/A" if row.shared_size == -1 else units.disk_size(row.shared_size),
        "Size": units.human_size(row.size),
        "Tag": row.tag,
        "UniqueSize": units.disk_size(row.size - row.shared_size) if known else "N/A",
        "VirtualSize": units.disk_size(row.size),
    }


def images_table(rows: list[ImageRow], *, no_trunc: bool = False, digests: bool = False,
                 template: str | None = None, now: datetime | None = None) -> str:
    """`docker images` output: the CLI's default table (DIGEST with --digests) or `--format`."""
    if template is None or template.strip() == "table":
        template = IMAGES_DIGEST_TABLE if digests else IMAGES_TABLE
    elif digests and template.strip().startswith("table") and "{{.Digest}}" not in template:
        template += "\t{{.Digest}}"
    return gotemplate.render_rows(
        template, [image_fields(r, no_trunc=no_trunc, now=now) for r in rows], IMAGE_HEADERS)


def images(rows: list[ImageRow], *, quiet: bool = False, no_trunc: bool = False,
           digests: bool = False, host: str = "", template: str | None = None) -> Message:
    where = f" on `{host}`" if host else ""
    if quiet and template is None:
        ids = "\n".join(r.id if no_trunc else units.short_id(r.id) for r in rows)
        return text_output(f"*Image IDs*{where}", ids or "(none)", filename="image-ids.txt")
    if not rows and template is None:
        return Message(text="No images.", blocks=(blocks.section(f"No images{where}."),))
    total = len({r.id for r in rows})
    text = images_table(rows, no_trunc=no_trunc, digests=digests, template=template)
    return text_output(f"*{total} images*{where}", text or "(no output)", filename="images.txt")


def inspect(details: ImageDetails) -> Message:
    name = details.tags[0] if details.tags else short_id(details.id)
    command = " ".join(details.cmd)
    entry = " ".join(details.entrypoint)
    summary = [
        ("Created", f"{details.created:%Y-%m-%d %H:%M:%S} UTC ({ago(details.created)})"),
        ("OS / Architecture", f"{details.os}/{details.architecture}"),
        ("Size", size(details.size)),
        ("Layers", str(details.layers)),
        ("Exposed ports", ", ".join(details.exposed_ports) or "none"),
        ("Entrypoint", f"`{entry}`" if entry else "none"),
        ("Cmd", f"`{command}`" if command else "none"),
        ("Working dir", details.workdir or "/"),
        ("User", details.user or "root (default)"),
        ("Tags", "\n".join(details.tags) or "<none>"),
    ]
    parts = [blocks.header(f"Image {name}"), blocks.context(f"ID `{details.id}`"),
             *blocks.fields(summary)]
    if details.digests:
        parts += [blocks.section("*Repo digests*\n" + "\n".join(f"`{d}`" for d in details.digests))]
    if details.env:
        parts += [blocks.section("*Environment* (secret values masked)"),
                  blocks.code("\n".join(details.env), 1500)]
    if details.labels:
        parts += [blocks.section("*Labels*"),
                  blocks.code("\n".join(f"{k}={v}" for k, v in sorted(details.labels.items())),
                              1500)]
    return Message(text=f"Image {name}: {details.os}/{details.architecture}, {size(details.size)}",
                   blocks=tuple(parts))
