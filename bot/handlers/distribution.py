"""Registry commands: tag, push, pull, login, logout. Credentials come from config, never Slack."""

from __future__ import annotations

import shlex

from bot import credentials, refs
from bot.engine import registry as engine_registry
from bot.engine import updates as engine_updates
from bot.engine.registry import LayerProgress
from bot.errors import DockopsError, RefusedError, UsageError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles
from bot.handlers.progress import ThrottledThread
from bot.jobs.updates import NOTICE_BUTTON_SECONDS
from bot.views import registry as registry_views
from bot.views.jobs import RECREATE_ACTION
from bot.views.message import Message


def _one_tag_only(ctx: Context, verb: str) -> None:
    if ctx.invocation.opt("all_tags"):
        raise RefusedError(
            f"`{verb} -a` moves every tag of a repository at once; dockops moves one tag at a "
            "time so nobody fills a disk or a registry by accident.",
            detail=f"Name the tag: `/docker {verb} NAME:TAG` (the tag defaults to latest).")


@handles("tag")
def tag(ctx: Context) -> Message:
    source, target = ctx.invocation.args
    # A malformed target, or one naming a digest, is refused before the engine is asked.
    if refs.parse(target).digest:
        raise UsageError(f"`tag {source} {target}`: a tag cannot name a digest.",
                         detail="Write the target as [REGISTRY/]REPOSITORY[:TAG].")
    engine_registry.tag(ctx.engine, source, target)
    return registry_views.tagged(source, target)


@handles("push")
def push(ctx: Context) -> Message | None:
    _one_tag_only(ctx, "push")
    reference = ctx.invocation.args[0]
    auth_config = credentials.auth_config(ctx.services.settings, reference)
    thread = ThrottledThread(ctx.responder.start_thread(registry_views.pushing(reference, None)))

    def show(progress: LayerProgress) -> None:
        thread.progress(lambda: registry_views.pushing(reference, progress))

    try:
        result = engine_registry.push(ctx.engine, reference, auth_config, show)
    except DockopsError as exc:
        thread.finish(registry_views.push_failed(reference, exc))
        raise
    final = registry_views.pushed(result)
    return None if thread.finish(final) else final


@handles("pull")
def pull(ctx: Context) -> Message:
    _one_tag_only(ctx, "pull")
    reference = ctx.invocation.args[0]
    result = engine_registry.pull(ctx.engine, reference,
                                  credentials.auth_config(ctx.services.settings, reference),
                                  platform=ctx.invocation.opt("platform"))
    if not (result.updated and result.id_before):
        return registry_views.pulled(result)
    # Containers still on the image the tag named before: offer to move exactly those.
    stale = [w for w in engine_updates.watchers(ctx.engine) if w.image_id == result.id_before]
    token = ctx.button(RECREATE_ACTION, shlex.join(
        ["recreate", "--image", result.reference, *sorted(w.id for w in stale)]),
        ttl_seconds=NOTICE_BUTTON_SECONDS) if stale and ctx.actor.source == "slack" else ""
    return registry_views.pulled(result, stale=sorted(w.name for w in stale),
                                 recreate_token=token)


@handles("login")
def login(ctx: Context) -> Message:
    if ctx.invocation.given("username"):
        raise RefusedError("dockops does not take a username in Slack: the username and password "
                           "both come from its configuration.",
                           detail="Run `/docker login REGISTRY`; the credentials are in "
                                  "[registries.\"REGISTRY\"] username / password_env / "
                                  "password_file (or the bot host's docker config.json).")
    registry = refs.normalize_registry(ctx.invocation.args[0] if ctx.invocation.args else None)
    found = credentials.require(ctx.services.settings, registry)
    result = engine_registry.login(ctx.engine, registry, found.auth_config())
    if not result.ok:
        raise DockopsError(
            f"{registry} rejected the credentials of `{found.username}` "
            f"(from {found.source}): {result.status}",
            detail="Fix the username or the password where the config says it comes from, then "
                   f"run `/docker login {registry}` again.")
    return registry_views.logged_in(result, found.username, found.source)


@handles("logout")
def logout(ctx: Context) -> Message:
    registry = refs.normalize_registry(ctx.invocation.args[0] if ctx.invocation.args else None)
    held = False
    for engine in ctx.services.hosts.engines.values():
        try:
            held = engine_registry.forget(engine, registry) or held
        except DockopsError:
            continue  # an engine that cannot be reached holds nothing worth forgetting now
    source = credentials.configured_source(ctx.services.settings, registry)
    return registry_views.logged_out(registry, held, source)
