"""Handlers of stats, port, pause/unpause, rename, wait, diff, history, events and update."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from bot.engine import lifecycle
from bot.engine import runtime as engine
from bot.engine.privileges import container_privileges
from bot.engine.streams import StreamReader
from bot.errors import EngineError, NoSuchContainer, RefusedError, UsageError
from bot.follows import FOLLOWS
from bot.handlers.context import Context
from bot.handlers.dispatch import handles, previews
from bot.handlers.follow import start_follow
from bot.roles import Role
from bot.timeparse import engine_timestamp
from bot.units import bytes_size
from bot.views import runtime as views
from bot.views.message import Message

# A live table holds one engine stream per container: this many at most.
LIVE_STATS_MAX = 10
_PRIVATE_PORT = re.compile(r"(\d{1,5})(?:/(tcp|udp|sctp))?")


def _check_follow_room(ctx: Context, what: str) -> None:
    if ctx.invocation.private:
        raise UsageError(f"{what} is a channel message updated in place: it cannot be private.",
                         detail="Drop `--private`.")
    FOLLOWS.check_room(ctx.actor.user_id)  # before the message is posted


# -- stats -----------------------------------------------------------------------------------

@handles("stats")
def stats(ctx: Context) -> Message | None:
    inv = ctx.invocation
    targets = engine.stats_targets(ctx.engine, inv.args, all=bool(inv.opt("all")))
    no_trunc = bool(inv.opt("no_trunc"))
    if inv.opt("no_stream"):
        return views.stats(engine.stats(ctx.engine, [i for i, _ in targets]), no_trunc=no_trunc,
                           all=bool(inv.opt("all")), host=ctx.host_label,
                           template=inv.opt("format"), typed=inv.args)
    if inv.opt("format"):
        raise UsageError("`--format` shapes the `--no-stream` snapshot; a live `stats` keeps "
                         "the CLI's table.",
                         detail="Add `--no-stream`: `/docker stats --no-stream --format ...`.")
    _check_follow_room(ctx, "A live `stats`")
    idle = [name for name, (_, running) in zip(inv.args, targets, strict=False) if not running]
    if idle:
        raise EngineError(f"`{idle[0]}` is not running: a live `stats` would show nothing.",
                          detail=f"`/docker stats --no-stream {idle[0]}` shows its figures; "
                                 f"`/docker start {idle[0]}` starts it.")
    ids = [i for i, running in targets if running]
    if not ids:
        raise UsageError("No running containers to watch.",
                         detail="Start one, or take a snapshot of all with "
                                "`/docker stats --no-stream -a`.")
    if len(ids) > LIVE_STATS_MAX:
        raise UsageError(f"A live `stats` watches at most {LIVE_STATS_MAX} containers; this "
                         f"would be {len(ids)}.",
                         detail="Name the ones to watch, or take one snapshot of all with "
                                "`/docker stats --no-stream`.")
    reader = engine.open_stats(ctx.engine, ids,
                               lambda rows: views.stats_table(rows, no_trunc=no_trunc))
    names = list(inv.args) or [i[:12] for i in ids]
    start_follow(ctx, views.live_stats_title(names), "stats", reader,
                 describe_end=lambda: "the engine ended the stats stream (the container "
                                      "stopped or was removed)")
    return None


# -- port ------------------------------------------------------------------------------------

@handles("port")
def port(ctx: Context) -> Message:
    inv = ctx.invocation
    name, bindings = engine.port_bindings(ctx.engine, inv.args[0])
    if len(inv.args) == 1:
        return views.port(name, bindings)
    typed = inv.args[1]
    match = _PRIVATE_PORT.fullmatch(typed)
    if not match or int(match.group(1)) > 65535:
        raise UsageError(f"`{typed}` is not a port: give PORT or PORT/PROTO, e.g. `80` or "
                         "`53/udp`.")
    key = f"{match.group(1)}/{match.group(2) or 'tcp'}"
    if not bindings.get(key):
        raise EngineError(f"No public port '{typed}' published for {inv.args[0]}.",
                          detail=f"`/docker port {inv.args[0]}` lists what it publishes.")
    return views.port(name, bindings, only=key)


# -- pause, unpause, rename --------------------------------------------------------------------

@handles("pause")
def pause(ctx: Context) -> Message:
    results = lifecycle.each(ctx.invocation.args, lambda name: engine.pause(ctx.engine, name))
    return views.done("Paused", results, host=ctx.host_label)


@handles("unpause")
def unpause(ctx: Context) -> Message:
    results = lifecycle.each(ctx.invocation.args, lambda name: engine.unpause(ctx.engine, name))
    return views.done("Unpaused", results, host=ctx.host_label)


@handles("rename")
def rename(ctx: Context) -> Message:
    old, new = ctx.invocation.args
    engine.rename(ctx.engine, old, new)
    return views.renamed(old, new, host=ctx.host_label)


# -- wait ------------------------------------------------------------------------------------

@handles("wait")
def wait(ctx: Context) -> Message:
    seconds = ctx.services.settings.limits.attached_run_seconds
    results = engine.wait(ctx.engine, ctx.invocation.args, seconds=seconds)
    return views.waited([(r.name, r.exit_code, r.error) for r in results], seconds=seconds)


# -- diff, history ---------------------------------------------------------------------------

@handles("diff")
def diff(ctx: Context) -> Message:
    name, changes = engine.diff(ctx.engine, ctx.invocation.args[0])
    return views.diff(name, changes)


@handles("history")
def history(ctx: Context) -> Message:
    inv = ctx.invocation
    rows = engine.history(ctx.engine, inv.args[0])
    return views.history(inv.args[0], rows, no_trunc=bool(inv.opt("no_trunc")),
                         quiet=bool(inv.opt("quiet")), template=inv.opt("format"))


# -- events ----------------------------------------------------------------------------------

@handles("events")
def events(ctx: Context) -> Message | None:
    inv = ctx.invocation
    since_text, until_text = inv.opt("since"), inv.opt("until")
    since = engine_timestamp(since_text) if since_text else None
    if until_text and inv.opt("follow"):
        raise UsageError("`events -f` follows live and `--until` lists a past range: use one.",
                         detail="Example: /docker events -f type=container, or /docker events "
                                "--since 10m --until 0s")
    if until_text:
        until = engine_timestamp(until_text)
        if float(until) - time.time() > 1:
            raise UsageError("`--until` is in the future: dockops lists past events at once.",
                             detail="Drop `--until` to follow events live in a thread (bounded), "
                                    "or give a time that has passed (`--until 0s` is now).")
        if since is not None and float(since) > float(until):
            raise UsageError("`--since` is after `--until`: there is nothing in between.")
        found, cut = engine.events(ctx.engine, since=since, until=until,
                                   filters=inv.opt("filter"))
        return views.events(found, cut=cut, host=ctx.host_label, template=inv.opt("format"))
    _check_follow_room(ctx, "A live `events`")
    template = inv.opt("format")
    stream = engine.open_events(ctx.engine, since=since, filters=inv.opt("filter"),
                                line=views.event_formatter(template) if template
                                else views.event_line)
    start_follow(ctx, "*Engine events*", "events", StreamReader(stream, "events"),
                 describe_end=lambda: "the engine closed the events stream")
    return None


# -- update ----------------------------------------------------------------------------------

def _changes(ctx: Context) -> str:
    """What `update` will set, in the CLI's words; UsageError when nothing was given."""
    inv = ctx.invocation
    parts = []
    if inv.opt("restart") is not None:
        parts.append(f"--restart {inv.opt('restart')}")
    if inv.opt("memory") is not None:
        parts.append(f"--memory {bytes_size(inv.opt('memory'))}")
    swap = inv.opt("memory_swap")
    if swap is not None:
        parts.append(f"--memory-swap {bytes_size(swap) if swap >= 0 else -1}")
    if inv.opt("cpus") is not None:
        parts.append(f"--cpus {inv.opt('cpus') / 1e9:g}")
    if not parts:
        raise UsageError("Nothing to update: give `--restart`, `--memory`, `--memory-swap` or "
                         "`--cpus`.",
                         detail="Example: /docker update --restart unless-stopped web")
    return " ".join(parts)


def _check_update(ctx: Context, names: Sequence[str]) -> dict[str, str]:
    """The run policy for every container named, before any changes: name -> ID.

    An operator may not give a container with bind mounts a restart policy: the engine would
    restart it by itself, resolving the bind sources again where dockops cannot re-check them.
    """
    restart = ctx.invocation.opt("restart")
    ids: dict[str, str] = {}
    for name in names:
        target = container_privileges(ctx.engine, name)
        if target is None:
            raise NoSuchContainer(f"No such container: `{name}`. Nothing was changed.",
                                  detail="`/docker ps -a` lists the containers.")
        ids[name] = target.id
        if ctx.role >= Role.ADMIN or restart is None or restart.name == "no":
            continue
        if target.bind_sources:
            raise RefusedError(
                f"`update --restart {restart}` of `{target.name}` is refused by the run policy "
                f"for operators: it has the bind mount `{target.bind_sources[0]}`, and the "
                "engine would restart it by itself, re-reading the bind source without dockops "
                "checking it again. Nothing was changed.",
                detail="Keep `--restart no` and use `/docker start` (which re-checks "
                       "`bind_mounts` under [run]), or ask an admin.")
    return ids


@handles("update")
def update(ctx: Context) -> Message:
    inv = ctx.invocation
    _changes(ctx)
    ids = _check_update(ctx, inv.args)

    def one(name: str) -> str:
        try:
            warnings = engine.update(ctx.engine, ids[name], restart=inv.opt("restart"),
                                     memory=inv.opt("memory"), memory_swap=inv.opt("memory_swap"),
                                     nano_cpus=inv.opt("cpus"))
        except EngineError as exc:
            if "memoryswap" not in exc.message:
                raise
            raise EngineError(exc.message.rstrip(".") + ". Nothing was changed: add "
                              "`--memory-swap -1` (unlimited swap) or a swap limit at least the "
                              "memory, e.g. twice it.") from None
        return " ".join(warnings)

    results = lifecycle.each(inv.args, one)
    return views.done("Updated", results, host=ctx.host_label)


@previews("update")
def update_preview(ctx: Context) -> Message:
    changes = _changes(ctx)
    _check_update(ctx, ctx.invocation.args)
    targets = lifecycle.find(ctx.engine, ctx.invocation.args)
    return views.update_preview(targets, changes)
