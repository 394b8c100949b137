"""Which tags are newer versions of the watched one: tags read as versions
(`packaging.version`; a leading `v` is fine), non-versions skipped, filtered by the job's
`include_tags` / `exclude_tags` regexes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from packaging.version import InvalidVersion, Version


def as_version(tag: str) -> Version | None:
    """`1.25.4`, `v1.25.4`, `1.3.0-rc1` as versions; None for `latest`, `alpine`, ..."""
    try:
        return Version(tag)
    except InvalidVersion:
        return None


def _matches(patterns: Sequence[str], tag: str) -> bool:
    return any(re.search(pattern, tag) for pattern in patterns)


def newer_tags(current: str, tags: Iterable[str], include: Sequence[str] = (),
               exclude: Sequence[str] = ()) -> list[str]:
    """Tags newer than `current`, oldest first. With `include` only tags one of its regexes
    matches; never a tag `exclude` matches. A pre-release (1.3.0-rc1) counts only when the
    current tag is one, or an `include` regex names it."""
    base = as_version(current)
    if base is None:
        return []
    found: list[tuple[Version, str]] = []
    for tag in set(tags):
        version = as_version(tag)
        if version is None or version <= base:
            continue
        if include and not _matches(include, tag):
            continue
        if exclude and _matches(exclude, tag):
            continue
        if (version.is_prerelease or version.is_devrelease) and not (
                base.is_prerelease or (include and _matches(include, tag))):
            continue
        found.append((version, tag))
    return [tag for _, tag in sorted(found)]
