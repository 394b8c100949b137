"""`docker cp` through the engine's archive API: tar out of a container, tar into one.

The tar helpers here follow the CLI's rules: `SRC/.` copies a directory's contents,
a missing destination takes the source's content under the destination's name.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import docker.errors

from bot.engine.client import Engine
from bot.engine.results import PathStat
from bot.engine.translate import engine_call
from bot.errors import DockopsError, UsageError


class TooLarge(DockopsError):
    """A copy went past `[copy] max_bytes`."""


def too_large(what: str, limit: int) -> TooLarge:
    return TooLarge(f"{what} is larger than the copy limit ({limit:,} bytes).",
                    detail="An admin can raise `max_bytes` under [copy] in the dockops config.")


def _stat_from_header(value: str | None) -> PathStat | None:
    if not value:
        return None
    raw = json.loads(base64.b64decode(value))
    return PathStat(raw.get("name", ""), int(raw.get("size") or 0), int(raw.get("mode") or 0),
                    raw.get("linkTarget") or "")


@engine_call
def stat_path(engine: Engine, container: str, path: str) -> PathStat | None:
    """The path's stat in the container (HEAD on the archive endpoint), None when it is absent."""
    api = engine.api
    url = f"{api.base_url}/v{api.api_version}/containers/{quote(container, safe='')}/archive"
    response = api.head(url, params={"path": path})
    if response.status_code == 404:
        # The engine says 404 both for a missing path and a missing container: tell them apart.
        api.inspect_container(container)
        return None
    if response.status_code >= 400:
        raise docker.errors.APIError(f"{response.status_code} {response.reason}",
                                     response=response,
                                     explanation=f"Cannot read {path} in {container}")
    return _stat_from_header(response.headers.get("X-Docker-Container-Path-Stat"))


@engine_call
def read_archive(engine: Engine, container: str, path: str, *, max_bytes: int
                 ) -> tuple[bytes, PathStat]:
    """A tar of `path` in the container (file or directory), refused past `max_bytes`."""
    chunks, raw_stat = engine.api.get_archive(container, path, chunk_size=256 * 1024)
    stat = PathStat(raw_stat.get("name", ""), int(raw_stat.get("size") or 0),
                    int(raw_stat.get("mode") or 0), raw_stat.get("linkTarget") or "")
    if not stat.is_dir and stat.size > max_bytes:
        chunks.close()
        raise too_large(f"{container}:{path}", max_bytes)
    data = bytearray()
    # Tar headers and padding add to the content: stop reading at twice the limit (plus a
    # margin for many small files), then judge by the content itself.
    ceiling = 2 * max_bytes + 1024 * 1024
    try:
        for chunk in chunks:
            data += chunk
            if len(data) > ceiling:
                raise too_large(f"{container}:{path}", max_bytes)
    finally:
        chunks.close()
    archive = bytes(data)
    del data  # one copy in memory, not two
    if _content_bytes(archive) > max_bytes:
        raise too_large(f"{container}:{path}", max_bytes)
    return archive, stat


def _content_bytes(data: bytes) -> int:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return sum(member.size for member in tar if member.isfile())


@engine_call
def write_archive(engine: Engine, container: str, directory: str, data: bytes) -> None:
    """Extract a tar into an existing directory of the container."""
    engine.api.put_archive(container, directory, data)


# -- tar helpers ------------------------------------------------------------------------------

def single_file(data: bytes) -> bytes:
    """The content of the one regular file in a tar (what `cp NAME:/file -` gets)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            if member.isfile():
                extracted = tar.extractfile(member)
                return extracted.read() if extracted else b""
    raise DockopsError("The container sent no regular file for that path.")


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def tar_of_file(name: str, content: bytes, mode: int = 0o644) -> bytes:
    """A tar holding one file."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        info.mode = mode
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _host_entries(source: Path) -> Iterator[Path]:
    yield source
    if source.is_dir() and not source.is_symlink():
        yield from sorted(source.rglob("*"))


@dataclass(frozen=True)
class HostTar:
    """A tar built from a host path: the bytes, how many entries, how many file bytes."""

    data: bytes
    entries: int
    file_bytes: int


def tar_of_host_path(source: Path, root: str, *, contents_only: bool, keep_owner: bool,
                     max_bytes: int) -> HostTar:
    """A tar of a host file or directory whose top entry is named `root`.

    `contents_only` (`SRC/.`) puts the directory's entries at the top instead. Symlinks
    are stored as links, never followed (a link cannot pull in files outside SRC).
    """
    buffer = io.BytesIO()
    total = entries = 0
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in _host_entries(source):
            relative = path.relative_to(source).as_posix()
            if contents_only:
                if relative == ".":
                    continue
                name = relative
            else:
                name = root if relative == "." else f"{root}/{relative}"
            info = tar.gettarinfo(str(path), arcname=name)
            if not (info.isfile() or info.isdir() or info.issym()):
                continue  # devices, sockets, fifos: never copied
            if not keep_owner:
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
            total += info.size
            entries += 1
            if total > max_bytes:
                raise too_large(str(source), max_bytes)
            if info.isfile():
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    return HostTar(buffer.getvalue(), entries, total)


def retarget(data: bytes, *, root: str | None, contents_only: bool) -> bytes:
    """A tar from the engine with its top entry renamed to `root`, or (contents_only) dropped."""

    def rename(name: str) -> str | None:
        _, _, rest = name.partition("/")
        if contents_only:
            return rest or None
        if root is None:
            return name
        return f"{root}/{rest}" if rest else root

    buffer = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(data)) as source, \
            tarfile.open(fileobj=buffer, mode="w") as out:
        for member in source:
            name = rename(member.name)
            link = rename(member.linkname) if member.islnk() else member.linkname
            if name is None or link is None:
                continue
            member.name, member.linkname = name, link
            out.addfile(member, source.extractfile(member) if member.isfile() else None)
    return buffer.getvalue()


def extract_to_host(data: bytes, directory: Path) -> int:
    """Extract a tar under `directory` safely (no absolute paths, `..` or links leaving it);
    the number of entries written."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = [m for m in tar.getmembers() if m.isfile() or m.isdir() or m.issym()
                   or m.islnk()]
        try:
            tar.extractall(directory, members=members, filter="data")
        except tarfile.FilterError as exc:
            raise DockopsError(f"Refused to write outside the destination: {exc}.") from None
    return len(members)


def split_container_path(path: str) -> tuple[str, bool]:
    """(`path` normalised, whether it ended in `/.`: copy a directory's contents)."""
    if not path.startswith("/"):
        raise UsageError(f"`{path}`: a path inside a container must be absolute.",
                         detail="Example: /docker cp web:/etc/hostname -")
    contents_only = path.endswith("/.")
    normal = posixpath.normpath(path)
    return normal, contents_only
