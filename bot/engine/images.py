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
from bot.units import familiar_name


@engine_call
def images(engine: Engine, *, repository: str | None = None, all: bool = False,
           filters: Mapping[str, Sequence[str]] | None = None, digests: bool = False,
           digest_field: bool = False) -> list[ImageRow]:
    """`docker images`: rows as the CLI makes them (see `image_rows`), newest first."""
    raw = engine.api.images(name=repository, all=all, filters=filters_dict(filters) or None)
    raw = sorted(raw, key=lambda item: int(item.get("Created") or 0), reverse=True)
    return [row for item in raw
            for row in image_rows(item, digests=digests, digest_field=digest_field)]


def _is_dangling(item: dict[str, Any]) -> bool:
    tags, digests = item.get("RepoTags") or [], item.get("RepoDigests") or []
    return (not tags and not digests) or (tags == ["<none>:<none>"]
                                         and digests == ["<none>@<none>"])


def _repo_tag(reference: str) -> tuple[str, str] | None:
    name, _, tag = reference.rpartition(":")
    if not name or "/" in tag or "<" in reference:
        return None
    return familiar_name(name), tag


def image_rows(item: dict[str, Any], *, digests: bool = False,
               digest_field: bool = False) -> list[ImageRow]:
    """One image's rows as docker/cli `imageFormatTaggedAndDigest` makes them: a row per tag
    (per tag and digest of the same repository with `--digests`), a `<none>` tag row for a
    repository that holds only a digest, one `<none>` row for a dangling image."""
    created = from_docker(item.get("Created")) or datetime.fromtimestamp(0, UTC)

    def row(repo: str, tag: str, digest: str) -> ImageRow:
        return ImageRow(item["Id"], repo, tag, digest, created, int(item.get("Size") or 0),
                        containers=int(item.get("Containers", -1)),
                        shared_size=int(item.get("SharedSize", -1)))

    if _is_dangling(item):
        return [row("<none>", "<none>", "<none>")]
    repo_tags: dict[str, list[str]] = {}
    for reference in item.get("RepoTags") or []:
        if parsed := _repo_tag(reference):
            repo_tags.setdefault(parsed[0], []).append(parsed[1])
    repo_digests: dict[str, list[str]] = {}
    for reference in item.get("RepoDigests") or []:
        name, _, digest = reference.partition("@")
        if digest and "<" not in reference:
            repo_digests.setdefault(familiar_name(name), []).append(digest)
    rows = []
    for repo, tags in repo_tags.items():
        paired = repo_digests.pop(repo, [])
        if not (digests or digest_field):
            paired = []
        rows += [row(repo, tag, digest) for tag in tags for digest in paired or ["<none>"]]
    for repo, only in repo_digests.items():
        rows += [row(repo, "<none>", d) for d in only] if digests else [row(repo, "<none>", "")]
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
