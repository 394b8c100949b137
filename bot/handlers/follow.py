"""`logs -f` and `attach`: live output into one message that updates in place, bounded in time."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import docker.errors

from bot.engine import containers, streams
from bot.engine.client import Engine
from bot.engine.streams import Closable, StreamReader
from bot.errors import EngineError, UsageError
from bot.follows import FOLLOWS, Follow
from bot.handlers.context import Context
from bot.handlers.dispatch import handles
from bot.mrkdwn import md
from bot.timeparse import engine_timestamp
from bot.views import lifecycle as views
from bot.views.lifecycle import STOP_FOLLOW_ACTION
from bot.views.message import Message


def follow_seconds(ctx: Context) -> float:
    limits = ctx.services.settings.limits
    return min(limits.follow_seconds, limits.follow_max_seconds)


def _end_reason(engine: Engine, container_id: str, name: str) -> str:
    """Why a stream ended by itself: read once, when it did."""
    try:
        state = engine.api.inspect_container(container_id)["State"]
    except docker.errors.NotFound:
        return f"`{name}` was removed"
    except Exception:
        return (f"the Docker Engine at {engine.display_url} stopped answering: check that "
                "dockerd is running, then follow again")
    if state.get("Running"):
        return "the engine closed the stream"
    return f"`{name}` exited with code {state.get('ExitCode', '?')}"


def _start(ctx: Context, title: str, container_id: str, name: str, stream: Closable, *,
           until: float | None = None) -> None:
    engine = ctx.engine

    def describe_end() -> str:
        if until is not None and time.time() >= until:
            return "the log reached `--until`"
        return _end_reason(engine, container_id, name)

    # The engine ends the stream at the first line past --until; a quiet log ends by the clock.
    seconds = None if until is None else max(0.0, until - time.time()) + 1.0
    start_follow(ctx, title, name, StreamReader(stream, name), describe_end=describe_end,
                 seconds=seconds)


def start_follow(ctx: Context, title: str, name: str, reader: StreamReader,
                 describe_end: Callable[[], str], seconds: float | None = None) -> None:
    """Post the message, then stream `reader` (not started) into it from a follow thread;
    the console waits for it. Shared by logs -f, attach, stats and events. `seconds`: a
    shorter bound than the configured one (`logs -f --until` stops at that time)."""
    follow_id = uuid.uuid4().hex[:12]
    seconds = follow_seconds(ctx) if seconds is None else min(seconds, follow_seconds(ctx))
    # The Stop button carries `follows stop ID`: a click passes the gate like a typed command.
    stop_token = ctx.button(STOP_FOLLOW_ACTION, f"follows stop {follow_id}",
                            ttl_seconds=seconds + 60) if ctx.actor.source == "slack" else ""
    try:
        thread = ctx.responder.start_thread(views.follow(
            title, "", follow_id=follow_id, live=True, stop_token=stop_token,
            note=f"Live · stops by itself in {seconds:.0f} s · follow `{follow_id}`"))
    except BaseException:
        reader.close()
        raise
    follow = Follow(title=title, container=name, owner=ctx.actor.user_id, reader=reader.start(),
                    thread=thread, seconds=seconds, id=follow_id, stop_token=stop_token,
                    describe_end=describe_end)
    FOLLOWS.start(follow)
    if ctx.actor.source == "console":
        # A terminal has nothing else to do meanwhile; Ctrl-C stops the follow, not the console.
        try:
            follow.wait()
        except KeyboardInterrupt:
            follow.stop("interrupted at the console")
            follow.wait(5)


def _check_room(ctx: Context) -> None:
    if ctx.invocation.private:
        raise UsageError("A follow is a channel message updated in place: it cannot be private.",
                         detail="Drop `--private`, or read the end of the log with "
                                "`/docker logs --private NAME`.")
    FOLLOWS.check_room(ctx.actor.user_id)  # before the message is posted


def follow_logs(ctx: Context, *, tail: int | None) -> Message | None:
    """`logs -f NAME`: the last `tail` lines, then new lines as they come."""
    inv = ctx.invocation
    _check_room(ctx)
    since = engine_timestamp(inv.opt("since")) if inv.opt("since") else None
    # As the CLI: the follow stops at --until (and shows no line after it).
    until = engine_timestamp(inv.opt("until")) if inv.opt("until") else None
    details = containers.inspect(ctx.engine, inv.args[0])
    stream = streams.open_logs(ctx.engine, details.id, tail=tail, since=since, until=until,
                               timestamps=bool(inv.opt("timestamps")),
                               details=bool(inv.opt("details")))
    _start(ctx, f"*Logs of `{details.name}`*", details.id, details.name, stream,
           until=float(until) if until is not None else None)
    return None


@handles("attach")
def attach(ctx: Context) -> Message | None:
    """`attach NAME`: the container's live output (no backlog) for a bounded time."""
    _check_room(ctx)
    name = ctx.invocation.args[0]
    details = containers.inspect(ctx.engine, name)
    if details.state != "running":
        raise EngineError(f"`{details.name}` is not running: there is no live output to attach to.",
                          detail=f"Start it with `/docker start -a {details.name}`, or read its "
                                 f"log with `/docker logs {details.name}`.")
    stream = streams.open_attach(ctx.engine, details.id)
    _start(ctx, f"*Attached to `{details.name}`*", details.id, details.name, stream)
    return None


@handles("follows")
def list_follows(ctx: Context) -> Message:
    """`follows`: what is streaming now, for whom, and for how much longer."""
    return views.open_follows([(f.id, f.title, f.owner, f.seconds_left) for f in FOLLOWS.open()])


@handles("follows stop")
def stop_follow(ctx: Context) -> Message:
    """`follows stop ID` (the Stop button's command): the follow's last update names who."""
    follow_id = ctx.invocation.args[0]
    if not FOLLOWS.stop(follow_id, md("stopped by {}", ctx.actor.display)):
        return views.follow_gone(follow_id)
    return views.follow_stopped(follow_id, ctx.actor.display)
