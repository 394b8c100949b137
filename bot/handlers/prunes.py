"""`container prune`, `volume prune`, `system prune`: a preview of every object, then the
engine's prunes with the same filters, refused if more would go than the preview showed."""

from __future__ import annotations

from bot.engine import system_prune
from bot.engine.system_prune import PruneScope
from bot.errors import UsageError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles, previews
from bot.views import prunes as views
from bot.views.message import Message


def _scope(ctx: Context) -> PruneScope:
    inv = ctx.invocation
    filters = inv.opt("filter") or {}
    name = inv.command.name
    if name == "container prune":
        return PruneScope(containers=True, filters=filters)
    if name == "volume prune":
        return PruneScope(volumes=True, all=bool(inv.opt("all")), filters=filters)
    if inv.opt("volumes") and "until" in filters:
        raise UsageError('The "until" filter is not supported with "--volumes".',
                         detail="Prune volumes on their own: `volume prune --filter label=...`.")
    return PruneScope(containers=True, networks=True, volumes=bool(inv.opt("volumes")),
                      images=True, build_cache=True, all=bool(inv.opt("all")), filters=filters)


@previews("container prune", "volume prune", "system prune")
def prune_preview(ctx: Context) -> Message:
    """Every object the prune would take now, with sizes; nothing is deleted."""
    return views.prune_preview(ctx.invocation.command.name,
                               system_prune.plan_objects(ctx.engine, _scope(ctx)))


@handles("container prune", "volume prune", "system prune")
def prune(ctx: Context) -> Message:
    command = ctx.invocation.command.name
    scope = _scope(ctx)
    plan = system_prune.plan_objects(ctx.engine, scope)
    if ctx.pinned is not None:
        new = sorted(set(plan.keys) - set(ctx.pinned))
        if new:  # the engine's prune cannot be limited to IDs: take nothing rather than more
            return views.changed_since_preview(command, new)
    return views.prune_report(command, system_prune.execute_objects(ctx.engine, scope, plan))
