"""`cp`: container files to Slack, Slack files into containers, and allow-listed host paths."""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlparse, urlsplit, urlunsplit

import requests

from bot.config import Settings
from bot.engine import copy as engine_copy
from bot.engine.copy import split_container_path, too_large
from bot.errors import DockopsError, RefusedError, UsageError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles
from bot.views import lifecycle as views
from bot.views.message import Attachment, Message

_DISPOSITION_NAME = re.compile(r'filename\*?=(?:UTF-8\'\')?"?([^";]+)"?', re.I)
FETCH_TIMEOUT = 30


@dataclass(frozen=True)
class ContainerPath:
    """`NAME:/path` from the command line."""

    container: str
    path: str
    contents_only: bool  # `/path/.`: a directory's contents, not the directory

    @property
    def display(self) -> str:
        return f"{self.container}:{self.path}"


def container_path(text: str) -> ContainerPath | None:
    """`NAME:/path` as the CLI reads it; None for `-` and host paths (`/x`, `./x`)."""
    if text == "-" or ":" not in text or text.startswith(("/", ".", "~")):
        return None
    name, _, path = text.partition(":")
    if not name:
        return None
    normal, contents_only = split_container_path(path)
    return ContainerPath(name, normal, contents_only)


def host_path(text: str, settings: Settings, *, source: bool) -> Path:
    """A host path `cp` may use: inside a `[copy] host_paths` directory after links and `..`.

    A relative path is read under those directories, in order: a source where it exists,
    a destination where its parent does.
    """
    roots = [Path(os.path.realpath(root)) for root in settings.copy.host_paths]
    if not roots:
        raise RefusedError("Copying to or from the bot's host is off.",
                           detail='An admin can allow a directory with `host_paths = '
                                  '["/srv/exchange"]` under [copy] in the dockops config.')
    if os.path.isabs(text):
        resolved = Path(os.path.realpath(text))
    else:
        candidates = [Path(os.path.realpath(root / text)) for root in roots]
        present = [c for c in candidates if (c if source else c.parent).exists()]
        resolved = (present or candidates)[0]
    if not any(resolved == root or root in resolved.parents for root in roots):
        allowed = ", ".join(f"`{root}`" for root in roots)
        raise RefusedError(f"`{text}` is outside the host directories `cp` may use ({allowed}).",
                           detail="Use a path under one of them, or ask an admin to add a "
                                  "directory to `host_paths` under [copy] in the dockops config.")
    return resolved


# -- container -> Slack -------------------------------------------------------------------

def copy_to_slack(ctx: Context, source: ContainerPath) -> Message:
    """`cp NAME:/path -`: a file as itself, a directory as .tar.gz, attached to the answer."""
    limit = ctx.services.settings.copy.max_bytes
    data, stat = engine_copy.read_archive(ctx.engine, source.container, source.path,
                                          max_bytes=limit)
    if stat.is_link and stat.link_target:
        data, stat = engine_copy.read_archive(ctx.engine, source.container, stat.link_target,
                                              max_bytes=limit)
    name = posixpath.basename(source.path.rstrip("/")) or "root"
    if stat.is_dir:
        attachment = Attachment(f"{name}.tar.gz", engine_copy.gzipped(data), f"{name}.tar.gz")
    else:
        attachment = Attachment(name, engine_copy.single_file(data), name)
    return views.copied_out(source.container, source.path, stat, attachment)


# -- into a container -------------------------------------------------------------------------

@dataclass(frozen=True)
class Placement:
    """Where an entry lands: the existing directory to extract into and the top entry's name."""

    directory: str
    name: str
    into_existing_dir: bool


def place(ctx: Context, destination: ContainerPath, source_name: str, *, source_is_dir: bool
          ) -> Placement:
    """The CLI's rules: into an existing directory under the source's name, else as DEST."""
    engine = ctx.engine
    stat = engine_copy.stat_path(engine, destination.container, destination.path)
    if stat is not None and stat.is_dir:
        return Placement(destination.path, source_name, True)
    if stat is not None and source_is_dir:
        raise UsageError(f"Cannot copy a directory onto the file `{destination.display}`.",
                         detail="Name a directory (or a new path) as the destination.")
    if stat is None and (destination.contents_only or destination.display.endswith("/")):
        raise UsageError(f"`{destination.display}` does not exist in the container.",
                         detail="Create it first (`/docker exec NAME mkdir -p DIR`).")
    parent = posixpath.dirname(destination.path) or "/"
    if stat is None:
        parent_stat = engine_copy.stat_path(engine, destination.container, parent)
        if parent_stat is None or not parent_stat.is_dir:
            raise UsageError(f"The directory `{parent}` does not exist in "
                             f"`{destination.container}`.",
                             detail="Create it first (`/docker exec NAME mkdir -p DIR`).")
    return Placement(parent, posixpath.basename(destination.path), False)


SLACK_FILES_HOST = "files.slack.com"
SLACK_FILES_PATH = "/files-pri/"
MAX_REDIRECTS = 3
# Where two URL parsers may disagree (a backslash, whitespace, controls): the link is refused.
_AMBIGUOUS = re.compile(r"[\\\s\x00-\x1f\x7f]")


def slack_file_url(link: str, settings: Settings) -> str:
    """The URL to fetch with the bot token, rebuilt from the parts checked; RefusedError unless
    it is a Slack file: https://files.slack.com/files-pri/..., or /files-pri/... on the
    configured Slack API host (the test stand-in). The path is checked as the server reads it:
    percent-decoded (`%2e%2e`, `%2f`) and with dot segments resolved."""
    url = link.strip().strip("<>").split("|", 1)[0]
    parsed = urlsplit(url)
    api = urlsplit(settings.env.slack_api_url)
    try:
        port = parsed.port
        path = _file_path(parsed.path)
    except ValueError:  # a port that is not a number, or a path outside /files-pri/
        path = None
    on_slack_files = (parsed.scheme == "https" and parsed.hostname == SLACK_FILES_HOST
                      and port in (None, 443))
    # The API host serves files too (and the test stand-in does), but never API methods:
    # the bot token must not fetch, say, a channel's history into a container.
    on_api_host = (parsed.scheme in ("http", "https") and parsed.scheme == api.scheme
                   and parsed.hostname == api.hostname and port == api.port)
    if (path is None or not (on_slack_files or on_api_host) or "@" in parsed.netloc
            or _AMBIGUOUS.search(url)):
        raise RefusedError("That is not a Slack file link: dockops only fetches files from "
                           "Slack.",
                           detail="Upload the file to Slack, open its menu, copy its download "
                                  "link (https://files.slack.com/files-pri/...) and paste it.")
    host = f"{parsed.hostname}:{port}" if port is not None else str(parsed.hostname)
    return urlunsplit((parsed.scheme, host, quote(path, safe="/"), parsed.query, ""))


def _file_path(raw: str) -> str | None:
    """The path under /files-pri/ that `raw` names once decoded and its `.`/`..` resolved;
    None when it names anything else, read once decoded or decoded all the way (a server
    behind a proxy may decode twice)."""
    once = unquote(raw)
    deepest = once
    for _ in range(5):
        decoded = unquote(deepest)
        if decoded == deepest:
            break
        deepest = decoded
    else:
        return None
    paths = [posixpath.normpath(path) for path in (once, deepest)]
    if not all(path.startswith(SLACK_FILES_PATH) for path in paths):
        return None
    return paths[0]


def fetch_slack_file(link: str, settings: Settings) -> tuple[str, bytes]:
    """Download a Slack file with the bot token (needs files:read); (filename, content).

    Redirects are followed only to Slack file links: the token never leaves Slack.
    """
    url = slack_file_url(link, settings)
    token = settings.env.slack_bot_token
    if not token:
        raise DockopsError("SLACK_BOT_TOKEN is not set, so dockops cannot fetch Slack files.")
    limit = settings.copy.max_bytes
    response = _get(url, token)
    for _ in range(MAX_REDIRECTS):
        if not response.is_redirect:
            break
        location = urljoin(url, response.headers.get("Location", ""))
        response.close()
        try:
            url = slack_file_url(location, settings)
        except RefusedError:
            raise DockopsError("Slack sent that file link elsewhere, away from Slack's files; "
                               "dockops did not follow it.",
                               detail="Copy the file's download link from Slack again.") from None
        response = _get(url, token)
    with response:
        name = _filename(response, url)
        if response.is_redirect:
            raise DockopsError("Slack kept redirecting that file link; dockops stopped.",
                               detail="Copy the file's download link from Slack again.")
        if response.status_code != 200:
            raise DockopsError(f"Slack answered {response.status_code} for that file link.",
                               detail="Check the link, and that the bot can see the file "
                                      "(scope files:read, file shared in this channel).")
        if response.headers.get("Content-Type", "").startswith("text/html") \
                and not name.endswith((".html", ".htm")):
            raise DockopsError("Slack sent a web page instead of the file: the bot may not see it.",
                               detail="Give the app the files:read scope and share the file in a "
                                      "channel the bot is in.")
        declared = int(response.headers.get("Content-Length") or 0)
        if declared > limit:
            raise too_large(name, limit)
        content = bytearray()
        for chunk in response.iter_content(64 * 1024):
            content += chunk
            if len(content) > limit:
                raise too_large(name, limit)
    return name, bytes(content)


def _get(url: str, token: str) -> requests.Response:
    """One GET of a checked Slack file URL with the token; redirects are the caller's to check."""
    try:
        return requests.get(url, headers={"Authorization": f"Bearer {token}"}, stream=True,
                            timeout=FETCH_TIMEOUT, allow_redirects=False)
    except requests.exceptions.RequestException as exc:
        raise DockopsError(f"Could not fetch the file from Slack: {exc.__class__.__name__}.",
                           detail="Try again in a moment.") from None


def _filename(response: requests.Response, url: str) -> str:
    match = _DISPOSITION_NAME.search(response.headers.get("Content-Disposition", ""))
    name = match.group(1) if match else unquote(urlparse(url).path.rsplit("/", 1)[-1])
    name = posixpath.basename(name.replace("\\", "/")).strip()
    return name if name not in ("", ".", "..") else "slack-file"


def copy_from_slack(ctx: Context, link: str, destination: ContainerPath) -> Message:
    name, content = fetch_slack_file(link, ctx.services.settings)
    where = place(ctx, destination, name, source_is_dir=False)
    engine_copy.write_archive(ctx.engine, destination.container, where.directory,
                              engine_copy.tar_of_file(where.name, content))
    target = posixpath.join(where.directory, where.name)
    return views.copied(f"{name} (from Slack)", f"{destination.container}:{target}", 1,
                        len(content))


def copy_from_host(ctx: Context, text: str, destination: ContainerPath) -> Message:
    source = host_path(text, ctx.services.settings, source=True)
    if not source.exists():
        raise UsageError(f"`{text}` does not exist on the bot's host.")
    contents_only = text.rstrip("/").endswith("/.") or text == "."
    where = place(ctx, destination, source.name, source_is_dir=source.is_dir())
    tar = engine_copy.tar_of_host_path(
        source, where.name, contents_only=contents_only and where.into_existing_dir,
        keep_owner=bool(ctx.invocation.opt("archive")),
        max_bytes=ctx.services.settings.copy.max_bytes)
    engine_copy.write_archive(ctx.engine, destination.container, where.directory, tar.data)
    target = where.directory if contents_only and where.into_existing_dir \
        else posixpath.join(where.directory, where.name)
    return views.copied(text, f"{destination.container}:{target}", tar.entries, tar.file_bytes)


# -- container -> host ------------------------------------------------------------------------

def copy_to_host(ctx: Context, source: ContainerPath, text: str) -> Message:
    destination = host_path(text, ctx.services.settings, source=False)
    data, stat = engine_copy.read_archive(ctx.engine, source.container, source.path,
                                          max_bytes=ctx.services.settings.copy.max_bytes)
    if destination.is_dir():
        if source.contents_only and stat.is_dir:
            data = engine_copy.retarget(data, root=None, contents_only=True)
        count = engine_copy.extract_to_host(data, destination)
        target = destination if source.contents_only else destination / stat.name
    else:
        if not destination.parent.is_dir():
            raise UsageError(f"The directory `{destination.parent}` does not exist on the bot's "
                             "host.", detail="Create it first, or copy into an existing one.")
        if stat.is_dir:
            if destination.exists():
                raise UsageError(f"Cannot copy a directory onto the file `{text}`.")
            data = engine_copy.retarget(data, root=destination.name, contents_only=False)
            count = engine_copy.extract_to_host(data, destination.parent)
        else:
            destination.write_bytes(engine_copy.single_file(data))
            count = 1
        target = destination
    nbytes = sum(p.stat().st_size for p in _files(target))
    return views.copied(source.display, str(target), count, nbytes)


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()] \
        if path.is_dir() else []


@handles("cp")
def cp(ctx: Context) -> Message:
    inv = ctx.invocation
    src_text, dest_text = inv.args[0], inv.args[1]
    link = inv.args[2] if len(inv.args) > 2 else None
    source, destination = container_path(src_text), container_path(dest_text)
    if link and src_text != "-":
        raise UsageError("A Slack file link goes with `cp - NAME:/path LINK` only.",
                         detail="Example: /docker cp - web:/tmp/ <Slack file link>")
    if source and destination:
        raise UsageError("Copying between containers is not supported.",
                         detail="Copy to Slack (`cp NAME:/path -`), then into the other one.")
    if source and dest_text == "-":
        return copy_to_slack(ctx, source)
    if src_text == "-" and destination:
        if not link:
            raise UsageError("`cp - NAME:/path` needs the Slack file to copy in.",
                             detail="Upload the file to Slack, copy its link, and add it: "
                                    "/docker cp - web:/tmp/ <link>")
        return copy_from_slack(ctx, link, destination)
    if source:
        return copy_to_host(ctx, source, dest_text)
    if destination:
        if src_text == "-":
            raise UsageError("`cp -` reads a Slack file: add its link.")
        return copy_from_host(ctx, src_text, destination)
    raise UsageError("One side of `cp` must be a container path (NAME:/path).",
                     detail="Examples: /docker cp web:/etc/hostname -  ·  "
                            "/docker cp - web:/tmp/ <Slack file link>")
