"""`build`: only from configured contexts, its log streamed into one updated message."""

from __future__ import annotations

import os

from bot import refs
from bot.config import BuildConfig
from bot.engine import build as engine_build
from bot.engine.build import BuildProgress, BuildSpec
from bot.errors import DockopsError, RefusedError, UsageError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles
from bot.handlers.progress import ThrottledThread
from bot.views import build as build_views
from bot.views.message import Message


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


def resolve_context(config: BuildConfig, context: str) -> str:
    """The directory a CONTEXT names: a `[build.contexts]` name, or a path inside `[build] roots`."""
    if context in config.contexts:
        directory = config.contexts[context]
        where = f"[build.contexts] {context}"
    else:
        directory = os.path.realpath(context) if os.path.isabs(context) else ""
        if not directory or not any(_inside(directory, os.path.realpath(root))
                                    for root in config.roots):
            names = ", ".join(f"`{name}`" for name in sorted(config.contexts)) or "none yet"
            roots = ", ".join(f"`{root}`" for root in config.roots) or "none"
            example = min(config.contexts) if config.contexts else "NAME"
            raise RefusedError(
                f"`{context}` is not a build context dockops may use: builds use contexts named "
                f"in config, so type `/docker build -t NAME:TAG {example}` (a name in "
                "[build.contexts] or a path inside [build] roots).",
                detail=f"Configured contexts: {names}. Allowed roots: {roots}. An admin adds one "
                       "in the dockops config: [build.contexts] NAME = \"/path\", or its parent "
                       "directory to [build] roots.")
        where = "[build] roots"
    if not os.path.isdir(directory):
        raise DockopsError(f"The build context `{context}` ({where}) points at {directory}, "
                           "which is not a directory on the bot's host.",
                           detail="Create it, or fix the path in the dockops config.")
    return directory


def dockerfile_in(context: str, name: str | None) -> str | None:
    """`-f` as a path inside the context; anything outside it is refused (it would be sent)."""
    if not name:
        return None
    path = os.path.realpath(os.path.join(context, name))
    if os.path.isabs(name) or not _inside(path, os.path.realpath(context)):
        raise RefusedError(f"`-f {name}` is outside the build context.",
                           detail="Name the Dockerfile relative to the context, e.g. "
                                  "`-f docker/Dockerfile.prod`.")
    if not os.path.isfile(path):
        raise UsageError(f"There is no file `{name}` in the build context.",
                         detail="`-f` names a Dockerfile relative to the context directory.")
    return os.path.relpath(path, os.path.realpath(context))


def check_tag(tag: str) -> None:
    """A `-t` name docker accepts: a reference with a tag, never a digest."""
    try:
        digest = refs.parse(tag).digest
    except refs.InvalidReference as exc:
        raise UsageError(f'invalid tag "{tag}": {exc.reason}.',
                         detail="Use NAME[:TAG], e.g. team/app:1.0 or "
                                "127.0.0.1:5000/team/app:1.0.") from None
    if digest:
        raise UsageError(f'invalid tag "{tag}": a build tags its image, it cannot name a digest.',
                         detail="Use NAME[:TAG], e.g. team/app:1.0.")


def build_spec(ctx: Context) -> BuildSpec:
    """Everything `build` needs, checked before the engine is touched."""
    inv = ctx.invocation
    config: BuildConfig = ctx.services.settings.build
    context = resolve_context(config, inv.args[0])
    for tag in inv.opt("tag"):
        check_tag(tag)
    return BuildSpec(
        context=context, tags=tuple(inv.opt("tag")),
        dockerfile=dockerfile_in(context, inv.opt("file")),
        buildargs=inv.opt("build_arg"), labels=inv.opt("label"),
        nocache=bool(inv.opt("no_cache")), pull=bool(inv.opt("pull")),
        timeout=config.timeout_seconds)


@handles("build")
def build(ctx: Context) -> Message | None:
    spec = build_spec(ctx)
    context = ctx.invocation.args[0]
    name = spec.tags[0] if spec.tags else context
    thread = ThrottledThread(ctx.responder.start_thread(build_views.building(name, context, None)))

    def show(progress: BuildProgress) -> None:
        thread.progress(lambda: build_views.building(name, context, progress))

    try:
        result = engine_build.build(ctx.engine, spec, show)
    except DockopsError as exc:
        thread.finish(build_views.interrupted(name, context, exc))
        raise
    if not result.ok:
        thread.finish(build_views.failed(result, name, context))
        raise DockopsError(
            f"The build of {name} failed at {result.step or 'its start'}: {result.error}",
            detail="The build message above shows the last lines; the whole log is attached to "
                   "it. Fix the Dockerfile or the context, then build again.")
    final = build_views.built(result, name, context)
    # The answer is the updated message; if Slack lost it, answer the command instead.
    return None if thread.finish(final) else final
