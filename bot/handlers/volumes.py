"""Handlers of the volume commands."""

from __future__ import annotations

from bot.engine import volumes
from bot.errors import DockopsError, EngineError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles, previews
from bot.handlers.fanout import per_host
from bot.policy.objects import check_volume_create
from bot.views import networks as network_views
from bot.views import volumes as views
from bot.views.message import Message


@handles("volume ls")
def volume_ls(ctx: Context) -> Message:
    inv = ctx.invocation
    return per_host(
        ctx, "docker volume ls",
        lambda engine: volumes.list_volumes(engine, inv.opt("filter")),
        lambda rows, host: views.volume_ls(rows, quiet=bool(inv.opt("quiet")),
                                           template=inv.opt("format"), host=host),
        filename="volumes-by-host.txt")


@handles("volume inspect")
def volume_inspect(ctx: Context) -> Message:
    name = ctx.invocation.args[0]
    return network_views.inspect_document("volume", name, volumes.inspect_volume(ctx.engine, name),
                                          ctx.invocation.opt("format"))


@handles("volume create")
def volume_create(ctx: Context) -> Message:
    inv = ctx.invocation
    options = inv.opt("opt") or {}
    check_volume_create(inv.opt("driver"), options, ctx.services.settings.run)
    name = volumes.create_volume(ctx.engine, inv.args[0] if inv.args else None,
                                 driver=inv.opt("driver"), options=options,
                                 labels=inv.opt("label"))
    return network_views.done(f"Created volume `{name}`.")


@previews("volume rm")
def volume_rm_preview(ctx: Context) -> Message:
    inv = ctx.invocation
    rows = volumes.find_volumes(ctx.engine, inv.args)
    used = [row for row in rows if row.used_by]
    if used:  # the engine refuses even with -f ("volume is in use"): say so instead of asking
        row = used[0]
        raise EngineError(f"Volume `{row.name}` is in use by container {', '.join(row.used_by)}: "
                          f"remove that container first (`/docker rm {row.used_by[0]}`), even "
                          "`-f` does not remove a volume in use. Nothing was removed.")
    return views.volume_rm_preview(rows, force=bool(inv.opt("force")))


@handles("volume rm")
def volume_rm(ctx: Context) -> Message:
    inv = ctx.invocation
    results: list[tuple[str, str]] = []
    for name in inv.args:
        try:
            volumes.remove_volume(ctx.engine, name, force=bool(inv.opt("force")))
            results.append((name, ""))
        except DockopsError as exc:
            results.append((name, exc.message))
    return network_views.removed("volume", results)
