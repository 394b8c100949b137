"""Reading images: images, image inspect."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.engine.client import Engine
from bot.engine.containers import filters_dict
from bot.engine.results import ImageDetails, ImageRow
from bot.engine.translate import engine_call
from bot.redact import mask_document
from bot.timeparse import from_docker


@engine_call
def images(engine: Engine, *, repository: str | None = None, all: bool = False,
           filters: Mapping[str, Sequence[str]] | None = None) -> list[ImageRow]:
    """`docker images`: one row per tag, `<none>` for dangling images."""
    raw = engine.api.images(name=repository, all=all, filters=filters_dict(filters) or None)
    rows: list[ImageRow] = []
    for item in raw:
        created = from_docker(item.get("Created")) or datetime.fromtimestamp(0, UTC)
        digests = item.get("RepoDigests") or []
        digest = digests[0].partition("@")[2] if digests else ""
        tags = [t for t in item.get("RepoTags") or [] if t != "<none>:<none>"]
        size = int(item.get("Size") or 0)
        for tag in tags:
            repo, name = tag.rsplit(":", 1)
            rows.append(ImageRow(item["Id"], repo, name, digest, created, size))
        if not tags:
            repo = digests[0].partition("@")[0] if digests else "<none>"
            rows.append(ImageRow(item["Id"], repo, "<none>", digest, created, size))
    rows.sort(key=lambda r: r.created, reverse=True)
    return rows


@engine_call
def inspect_raw(engine: Engine, image: str) -> dict[str, Any]:
    """The engine's image document, secrets masked: `Config.Env` and `ContainerConfig.Env`
    (the classic builder copies ENV there too) alike. Summary, `--format` and `--raw` read it."""
    return mask_document(engine.api.inspect_image(image))


@engine_call
def inspect(engine: Engine, image: str) -> ImageDetails:
    """`docker image inspect`, summarised with the fields the seed lists."""
    raw = inspect_raw(engine, image)
    config = raw.get("Config") or {}
    return ImageDetails(
        id=raw["Id"],
        tags=tuple(raw.get("RepoTags") or ()),
        digests=tuple(raw.get("RepoDigests") or ()),
        created=from_docker(raw.get("Created")) or datetime.fromtimestamp(0, UTC),
        os=raw.get("Os", ""),
        architecture=raw.get("Architecture", ""),
        size=int(raw.get("Size") or 0),
        exposed_ports=tuple(sorted((config.get("ExposedPorts") or {}).keys())),
        env=tuple(config.get("Env") or ()),
        entrypoint=tuple(config.get("Entrypoint") or ()),
        cmd=tuple(config.get("Cmd") or ()),
        workdir=config.get("WorkingDir") or "",
        user=config.get("User") or "",
        labels=config.get("Labels") or {},
        layers=len((raw.get("RootFS") or {}).get("Layers") or ()),
        raw=raw,
    )
