"""What a new digest brings, read from its manifest and config (never its layers): created
date, platform, total layer size, and the OCI labels that say which version and source."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bot.registry.client import MANIFEST_TYPES, RegistryClient, RegistryError

INDEX_TYPES = set(MANIFEST_TYPES[::2])  # OCI index, Docker manifest list
VERSION = "org.opencontainers.image.version"
REVISION = "org.opencontainers.image.revision"
SOURCE = "org.opencontainers.image.source"
URL = "org.opencontainers.image.url"
_DIGEST = re.compile(r"^[a-z0-9]+:[a-f0-9]{32,}$")
_LINK = re.compile(r"^https?://[^\s<>|]+$")


@dataclass(frozen=True)
class ImageChanges:
    """A digest's image as its registry describes it ("" / 0 when not given)."""

    digest: str
    created: str  # RFC 3339, as in the config
    platform: str  # linux/amd64
    size: int  # sum of its layers (compressed, as the registry stores them)
    version: str = ""
    revision: str = ""
    source: str = ""
    url: str = ""

    @property
    def link(self) -> str:
        """The release or source page to show (a link only; never fetched); "" when none is
        an http(s) URL."""
        for candidate in (self.url, self.source):
            if _LINK.match(candidate):
                return candidate.removeprefix("git+")
        return ""


def _pick(index: dict[str, Any], os: str, arch: str) -> dict[str, Any]:
    entries = [entry for entry in index.get("manifests") or []
               if (entry.get("platform") or {}).get("os") not in ("unknown",)]
    for entry in entries:
        platform = entry.get("platform") or {}
        if platform.get("os") == os and platform.get("architecture") == arch:
            return entry
    if not entries:
        raise RegistryError("The image index lists no manifest.")
    return entries[0]


def describe(client: RegistryClient, registry: str, repository: str, digest: str, *,
             os: str = "linux", arch: str = "amd64") -> ImageChanges:
    """Read a digest's manifest (the platform's one, from an index) and its config."""
    manifest = client.manifest(registry, repository, digest)
    if manifest.get("mediaType") in INDEX_TYPES or "manifests" in manifest:
        entry = _pick(manifest, os, arch)
        manifest = client.manifest(registry, repository, str(entry.get("digest") or ""))
    config_digest = str((manifest.get("config") or {}).get("digest") or "")
    config = client.blob_json(registry, repository, config_digest) if config_digest else {}
    labels = (config.get("config") or {}).get("Labels") or {}
    size = sum(int(layer.get("size") or 0) for layer in manifest.get("layers") or [])
    platform = "/".join(part for part in (config.get("os"), config.get("architecture"),
                                          config.get("variant")) if part)
    return ImageChanges(digest, str(config.get("created") or ""), platform, size,
                        *(str(labels.get(key) or "")[:200]
                          for key in (VERSION, REVISION, SOURCE, URL)))


class ChangesCache:
    """Descriptions by digest on disk (a digest's content never changes): asked once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, digest: str) -> ImageChanges | None:
        if not _DIGEST.match(digest):
            return None
        try:
            return ImageChanges(**json.loads((self.folder / f"{digest}.json").read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def put(self, changes: ImageChanges) -> None:
        if not _DIGEST.match(changes.digest):
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{changes.digest}.json"
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps(asdict(changes)))
        partial.replace(target)

    def describe(self, client: RegistryClient, registry: str, repository: str, digest: str,
                 **platform: str) -> ImageChanges:
        found = self.get(digest)
        if found is None:
            found = describe(client, registry, repository, digest, **platform)
            self.put(found)
        return found
