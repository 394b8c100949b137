"""Image results as messages: the images table and inspect summaries."""

from __future__ import annotations

from bot.engine.results import ImageDetails, ImageRow
from bot.views import blocks
from bot.views.format import ago, short_id, size, table
from bot.views.message import Message
from bot.views.output import text_output


def images(rows: list[ImageRow], *, quiet: bool = False, no_trunc: bool = False,
           digests: bool = False, host: str = "") -> Message:
    where = f" on `{host}`" if host else ""
    if quiet:
        ids = "\n".join(dict.fromkeys(short_id(r.id, no_trunc) for r in rows))
        return text_output(f"*Image IDs*{where}", ids or "(none)", filename="image-ids.txt")
    if not rows:
        return Message(text="No images.", blocks=(blocks.section(f"No images{where}."),))
    headers = ["REPOSITORY", "TAG", *(["DIGEST"] if digests else []), "IMAGE ID", "CREATED", "SIZE"]
    body = [[r.repository, r.tag, *([r.digest or "<none>"] if digests else []),
             short_id(r.id, no_trunc), ago(r.created), size(r.size)] for r in rows]
    total = len({r.id for r in rows})
    return text_output(f"*{total} images*{where}", table(headers, body), filename="images.txt")


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
