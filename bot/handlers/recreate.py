"""`recreate`: replace containers with new ones on their image's newest local copy (or a
newer tag of the same repository), same config, rolled back when the new one won't run.

What an update notice's Recreate button runs (with the notice's exact container IDs, and
`--cleanup` when the job has `cleanup = true`); the notices of the containers it recreated
turn "applied by" its user at once (bot/jobs/applied.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot import credentials, refs
from bot.engine import lifecycle
from bot.engine import registry as engine_registry
from bot.engine.privileges import container_privileges
from bot.engine.recreate import RecreateResult
from bot.engine.recreate import recreate as engine_recreate
from bot.errors import DockopsError, RefusedError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles, previews
from bot.jobs import applied, policy
from bot.policy.run import check_exec, check_start
from bot.views import blocks
from bot.views import jobs as job_views
from bot.views import lifecycle as views
from bot.views.message import Message

# How long a new container must come up (and turn healthy) before it counts as running.
UP_SECONDS = 60.0
CLEANUP_PREVIEW = ("--cleanup: then each image the containers ran is removed if no other "
                   "container or tag uses it (never forced); the answer says why one stays.")
log = logging.getLogger("dockops.recreate")


@dataclass(frozen=True)
class Plan:
    """One container to recreate, and the image reference it will run."""

    id: str
    name: str
    ref: str


def _plans(ctx: Context) -> list[Plan]:
    """Each named container with the reference it goes to; refuses another repository."""
    typed = ctx.invocation.opt("image")
    plans: list[Plan] = []
    for target in lifecycle.find(ctx.engine, ctx.invocation.args):
        from_id = refs.is_image_id(target.image)
        if from_id and not typed:
            raise DockopsError(f"`{target.name}` was created from an image ID, not a name: "
                               "there is no newer copy to recreate it on.",
                               detail="Say which image with `--image REPOSITORY:TAG`.")
        ref = refs.normalize(typed or target.image)
        if typed and not from_id and refs.repository(typed) != refs.repository(target.image):
            raise RefusedError(
                f"`recreate --image {typed}` would put `{target.name}` on another repository "
                f"than its own (`{refs.repository(target.image)}`); nothing was done.",
                detail="recreate keeps a container's config and only moves it to a newer image "
                       "of the same repository. For another image, `run` a new container.")
        _check_policy(ctx, target.id)
        plans.append(Plan(target.id, target.name, ref))
    return plans


def _check_policy(ctx: Context, container_id: str) -> None:
    """A new copy gets the old one's privileges and binds: the exec and start rules apply."""
    privileges = container_privileges(ctx.engine, container_id)
    if privileges is not None:
        run = ctx.services.settings.run
        check_exec(privileges, ctx.role, run, verb="recreate")
        check_start(privileges, ctx.role, run, verb="recreate")


@previews("recreate")
def recreate_preview(ctx: Context) -> Message:
    preview = views.recreate_preview(_plan_rows(_plans(ctx)),
                                     pull=bool(ctx.invocation.opt("pull")), host=ctx.host_label)
    if ctx.invocation.opt("cleanup"):
        preview = preview.with_blocks(blocks.context(CLEANUP_PREVIEW))
    return preview


@handles("recreate")
def recreate(ctx: Context) -> Message:
    plans = _plans(ctx)
    engine = ctx.engine
    if ctx.invocation.opt("pull"):
        for ref in dict.fromkeys(plan.ref for plan in plans):
            engine_registry.pull(engine, ref, credentials.auth_config(ctx.services.settings, ref))
    results: list[RecreateResult] = []
    for plan in plans:  # one at a time: a bad image stops at the first it breaks
        try:
            results.append(engine_recreate(engine, plan.id, plan.ref, timeout=UP_SECONDS))
        except DockopsError as exc:
            results.append(RecreateResult(plan.name, "", "", ok=False, reason=exc.message))
    report = views.recreate_report(results, host=ctx.host_label)
    if ctx.invocation.opt("cleanup"):
        report = report.with_blocks(*_cleanup(ctx, results))
    _tell_applied(ctx, results)
    return report


def _cleanup(ctx: Context, results: list[RecreateResult]) -> list[dict[str, Any]]:
    """`--cleanup`: remove the images the recreated containers ran when nothing else uses
    them (never forced), one line each; nothing when a container was rolled back."""
    if any(not r.ok for r in results):
        return [blocks.context("Kept the old image(s): a container was rolled back and still "
                               "runs its old image.")]
    return job_views.cleanup_notes(policy.remove_replaced(ctx.engine, results))


def _tell_applied(ctx: Context, results: list[RecreateResult]) -> None:
    """Update notices of the containers just recreated turn "applied by" this user now."""
    done = {r.container for r in results if r.ok}
    if not done or len(ctx.hosts) != 1:
        return
    try:
        applied.look(ctx.services, hosts=ctx.hosts, by=ctx.actor.user_id, how="recreate",
                     only=done)
    except Exception:  # the scheduler's next look tells it; the recreate itself went well
        log.exception("could not check the update notices after a recreate")


def _plan_rows(plans: list[Plan]) -> list[tuple[str, str, str]]:
    return [(plan.name, plan.id[:12], plan.ref) for plan in plans]
