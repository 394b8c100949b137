"""rm, rmi, image prune: a preview applying the seed's rules, then the removal once confirmed."""

from __future__ import annotations

from bot.commands.values import PruneFilters
from bot.engine import lifecycle, prune
from bot.engine import rmi as rmi_rules
from bot.engine.translate import running_rm_message
from bot.errors import DockopsError, EngineError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles, previews
from bot.views import lifecycle as lifecycle_views
from bot.views import remove as views
from bot.views.message import Message


@previews("rm")
def rm_preview(ctx: Context) -> Message:
    """What `rm` will remove; a running container without -f is the seed's error, not a question."""
    inv = ctx.invocation
    targets = lifecycle.find(ctx.engine, inv.args)
    if not inv.opt("force"):
        running = [t for t in targets if t.state in ("running", "restarting", "paused")]
        if running:
            raise EngineError(running_rm_message(running[0].typed)
                              + (" Nothing was removed." if len(targets) > 1 else ""))
    return views.rm_preview(targets, force=bool(inv.opt("force")),
                            volumes=bool(inv.opt("volumes")))


@handles("rm")
def rm(ctx: Context) -> Message:
    inv = ctx.invocation
    results = lifecycle.each(inv.args, lambda name: lifecycle.remove(
        ctx.engine, name, force=bool(inv.opt("force")), volumes=bool(inv.opt("volumes"))))
    return lifecycle_views.done("rm", results, host=ctx.host_label)


@previews("rmi")
def rmi_preview(ctx: Context) -> Message:
    """What `rmi` will do, as the engine decides it; a removal it would refuse is the engine's
    answer with what to type instead, not a question."""
    force = bool(ctx.invocation.opt("force"))
    plans = [rmi_rules.plan(target, force=force)
             for target in prune.find_images(ctx.engine, ctx.invocation.args)]
    refused = [p for p in plans if p.outcome == "refused"]
    if refused:
        raise EngineError(" ".join(p.reason for p in refused))
    return views.rmi_preview(plans, force=force, no_prune=bool(ctx.invocation.opt("no_prune")))


@handles("rmi")
def rmi(ctx: Context) -> Message:
    inv = ctx.invocation
    done: list[tuple[str, list[str], list[str], str]] = []
    for reference in inv.args:
        try:
            untagged, deleted = prune.remove_image(ctx.engine, reference,
                                                   force=bool(inv.opt("force")),
                                                   no_prune=bool(inv.opt("no_prune")))
            done.append((reference, untagged, deleted, ""))
        except DockopsError as exc:
            done.append((reference, [], [], exc.message))
    return views.rmi_result(done)


def _plan(ctx: Context) -> prune.PrunePlan:
    inv = ctx.invocation
    filters: PruneFilters = inv.opt("filter")  # read when the command was parsed
    return prune.plan_prune(ctx.engine, all=bool(inv.opt("all")), until=filters.until,
                            labels=filters.labels)


@previews("image prune")
def prune_preview(ctx: Context) -> Message:
    """The images that would go and the bytes reclaimed, computed without deleting anything."""
    plan = _plan(ctx)
    return views.prune_preview(plan, freed=prune.reclaimable(ctx.engine, plan))


@handles("image prune")
def image_prune(ctx: Context) -> Message:
    # Planned again at confirmation: an image used since the preview is left alone, and one
    # that became unused since is not taken either (the plan is limited to the preview's).
    plan = _plan(ctx)
    if ctx.pinned is not None:
        plan = plan.only(ctx.pinned)
    if not plan.images:
        return views.prune_preview(plan)
    return views.prune_result(prune.execute_prune(ctx.engine, plan), plan)
