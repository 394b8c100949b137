"""Read-only commands: ps, images, logs, inspect, system df, version, info, help."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from bot.commands import TABLE
from bot.engine import containers, images, streams, system
from bot.errors import EngineError, NoSuchContainer, NoSuchImage, UsageError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles
from bot.handlers.fanout import per_host
from bot.handlers.follow import follow_logs
from bot.timeparse import engine_timestamp
from bot.views import containers as container_views
from bot.views import gotemplate
from bot.views import help as help_views
from bot.views import images as image_views
from bot.views import inspect as inspect_views
from bot.views import problems as error_views
from bot.views import system as system_views
from bot.views.message import Message


@handles("ps")
def ps(ctx: Context) -> Message:
    inv = ctx.invocation
    last = 1 if inv.opt("latest") else inv.opt("last")
    if last is not None and last < 0:
        last = None
    template = inv.opt("format")
    used = gotemplate.fields_used(template) if template else set()
    # As the CLI: a template that reads .Size (or all of `.`) asks the engine for sizes.
    size = bool(inv.opt("size")) or bool(used & {"Size", "*"})
    return per_host(
        ctx, "docker ps",
        lambda engine: containers.ps(engine, all=inv.opt("all"), filters=inv.opt("filter"),
                                     last=last, size=size),
        lambda rows, host: container_views.ps(rows, all=inv.opt("all") or last is not None,
                                              quiet=inv.opt("quiet"),
                                              no_trunc=inv.opt("no_trunc"), host=host,
                                              size=inv.opt("size"), template=template),
        filename="ps-by-host.txt")


@handles("images")
def list_images(ctx: Context) -> Message:
    inv = ctx.invocation
    template = inv.opt("format")
    digest_field = bool(template) and "{{.Digest}}" in template
    return per_host(
        ctx, "docker images",
        lambda engine: images.images(engine, repository=inv.args[0] if inv.args else None,
                                     all=inv.opt("all"), filters=inv.opt("filter"),
                                     digests=inv.opt("digests"), digest_field=digest_field),
        lambda rows, host: image_views.images(rows, quiet=inv.opt("quiet"),
                                              no_trunc=inv.opt("no_trunc"),
                                              digests=inv.opt("digests"), host=host,
                                              template=template),
        filename="images-by-host.txt")


def tail_count(value: str | None, default: int) -> int | None:
    """`--tail` as the CLI reads it: a number, or `all` (None)."""
    if value is None:
        return default
    if value == "all":
        return None
    try:
        count = int(value)
    except ValueError:
        raise UsageError(f'invalid argument "{value}" for "-n, --tail": use a number or "all"',
                         detail="Example: /docker logs --tail 50 api") from None
    return None if count < 0 else count


@handles("logs")
def logs(ctx: Context) -> Message | None:
    inv = ctx.invocation
    tail = tail_count(inv.opt("tail"), ctx.services.settings.limits.log_tail)
    if inv.opt("follow"):
        return follow_logs(ctx, tail=tail)
    query = streams.LogQuery(
        tail=tail, timestamps=bool(inv.opt("timestamps")), details=bool(inv.opt("details")),
        since=engine_timestamp(inv.opt("since")) if inv.opt("since") else None,
        until=engine_timestamp(inv.opt("until")) if inv.opt("until") else None)
    if inv.opt("tail") is None:  # the whole log, as the CLI prints it: last lines + a file
        log = streams.spool_logs(ctx.engine, inv.args[0], query, keep=tail or 1)
        return container_views.logs(log, tail="all")
    log = streams.read_logs(ctx.engine, inv.args[0], query)
    return container_views.logs(log, tail="all" if tail is None else str(tail))


def _inspect_output(name: str, document: dict, template: str | None, raw: bool,
                    summary: Message) -> Message:
    if raw:
        return container_views.raw_json(name, json.dumps(document, indent=2, sort_keys=True))
    if template:
        return container_views.formatted(name, gotemplate.render(template, document))
    return summary


# What `top` hands to the engine's ps: option words only (the engine runs ps on the host).
_PS_OPTION = re.compile(r"[-A-Za-z0-9,=%:_]{1,64}")


@handles("top")
def top(ctx: Context) -> Message:
    container, *options = ctx.invocation.args
    bad = next((word for word in options if not _PS_OPTION.fullmatch(word)), None)
    if bad is not None:
        raise UsageError(f"`{bad}` is not a ps option: `top` takes ps's own options, e.g. "
                         "`top web -o pid,user,args`.")
    return container_views.top(containers.top(ctx.engine, container, options))


@handles("inspect")
def inspect(ctx: Context) -> Message:
    """Like `docker inspect`: a container first, then an image of that name."""
    inv = ctx.invocation
    if len(inv.args) > 1:
        return _inspect_several(ctx)
    name = inv.args[0]
    try:
        details = containers.inspect(ctx.engine, name)
    except NoSuchContainer:
        try:
            return _image_inspect(ctx, name)
        except NoSuchImage:
            raise EngineError(f"No such container or image: {name}.",
                              detail="`/docker ps -a` and `/docker images` list them.") from None
    document = inspect_views.container_for_format(details.raw) if inv.opt("format") \
        else details.raw
    return _inspect_output(name, document, inv.opt("format"), inv.opt("raw"),
                           container_views.inspect(details))


def _inspect_document(ctx: Context, name: str) -> dict | None:
    """The container's inspect document, else the image's (as `--format` reads it when one is
    given), or None when `name` is neither."""
    template = ctx.invocation.opt("format")
    try:
        raw = containers.inspect_raw(ctx.engine, name)
        return inspect_views.container_for_format(raw) if template else raw
    except NoSuchContainer:
        return _image_document(ctx, name)


def _image_document(ctx: Context, name: str) -> dict | None:
    """The image's inspect document (as `--format` reads it), or None when there is none."""
    try:
        raw = images.inspect_raw(ctx.engine, name)
    except NoSuchImage:
        return None
    return inspect_views.image_for_format(raw) if ctx.invocation.opt("format") else raw


Lookup = Callable[[Context, str], dict | None]


def _inspect_several(ctx: Context, lookup: Lookup = _inspect_document,
                     kind: str = "object") -> Message:
    """`docker inspect A B`: one JSON array (or a template's line per object), then an error
    line for each name `lookup` does not find, as the CLI prints them."""
    inv = ctx.invocation
    documents: list[dict] = []
    missing: list[str] = []
    for name in inv.args:
        document = lookup(ctx, name)
        if document is None:
            missing.append(name)
        else:
            documents.append(document)
    template = inv.opt("format")
    if inv.opt("raw") and documents and not missing:
        return container_views.raw_json("inspect", inspect_views.json_array(documents))
    if template:
        output = "".join(gotemplate.render(template, document) + "\n" for document in documents)
    else:
        output = inspect_views.json_array(documents)
    return container_views.inspect_several(list(inv.args), output, missing, kind)


def _image_inspect(ctx: Context, name: str) -> Message:
    inv = ctx.invocation
    details = images.inspect(ctx.engine, name)
    document = inspect_views.image_for_format(details.raw) if inv.opt("format") else details.raw
    return _inspect_output(name, document, inv.opt("format"), inv.opt("raw"),
                           image_views.inspect(details))


@handles("image inspect")
def image_inspect(ctx: Context) -> Message:
    if len(ctx.invocation.args) > 1:
        return _inspect_several(ctx, _image_document, kind="image")
    return _image_inspect(ctx, ctx.invocation.args[0])


@handles("system df")
def disk_usage(ctx: Context) -> Message:
    inv = ctx.invocation
    if inv.opt("verbose"):
        return per_host(ctx, "docker system df -v", system.disk_usage_report,
                        system_views.disk_usage_verbose, filename="df-by-host.txt")
    template = inv.opt("format")
    return per_host(ctx, "docker system df", system.disk_usage,
                    lambda rows, host: system_views.disk_usage(rows, host, template),
                    filename="df-by-host.txt")


@handles("version")
def version(ctx: Context) -> Message:
    return per_host(ctx, "docker version", system.version, system_views.version,
                    filename="version-by-host.txt")


@handles("info")
def info(ctx: Context) -> Message:
    return per_host(ctx, "docker info", system.info, system_views.info,
                    filename="info-by-host.txt")


@handles("help")
def help_(ctx: Context) -> Message:
    slash = ctx.services.settings.slack.command
    topic = " ".join(ctx.invocation.args)
    if not topic:
        return help_views.overview(TABLE, slash)
    found = TABLE.resolve(topic.split())
    if found is None:
        return error_views.error(UsageError(f"No help for `{topic}`: it is not a command.",
                                            detail=f"`{slash} help` lists them."))
    return help_views.command_help(found[0], slash)
