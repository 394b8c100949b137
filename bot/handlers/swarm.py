"""Handlers of the Swarm commands (service, node, stack): reads, rolling updates, node drains."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from bot import credentials, refs
from bot.commands.swarm import scale_targets
from bot.engine import swarm
from bot.engine.client import Engine
from bot.engine.streams import StreamReader
from bot.engine.swarm_results import Rollout, ServiceChange, ServiceRow, SwarmState
from bot.errors import DockopsError, RefusedError, UsageError
from bot.follows import FOLLOWS
from bot.handlers.context import Context
from bot.handlers.dispatch import handles, previews
from bot.handlers.fanout import fan_out
from bot.handlers.follow import start_follow
from bot.handlers.progress import ThrottledThread
from bot.handlers.read import tail_count
from bot.roles import Role
from bot.views import containers as container_views
from bot.views import swarm as views
from bot.views.hosts import HostAnswer, grouped
from bot.views.message import Message

T = TypeVar("T")

# How long `service update` and `service rollback` watch Swarm converge before they answer
# "still going" (Swarm goes on; `service ps` shows where it is).
ROLLOUT_SECONDS = 300.0


def _filters(ctx: Context) -> dict[str, list[str]]:
    return {key: list(values) for key, values in (ctx.invocation.opt("filter") or {}).items()}


# -- reads, grouped by Swarm on several hosts ---------------------------------------------------

def by_swarm(ctx: Context, title: str, call: Callable[[Engine], T],
             view: Callable[[T, str], Message], *, filename: str) -> Message:
    """A Swarm-wide read on one host, or with several hosts once per Swarm (Cluster.ID).

    Managers of the same Swarm see the same services and nodes: the read runs on the first
    of them that answers `info`, and its header names every host of that Swarm.
    """
    if not ctx.fans_out:
        return view(call(ctx.engine), ctx.host_label)
    states = fan_out(ctx.engines, swarm.swarm_state)
    answers: list[HostAnswer] = []
    clusters: dict[str, list[str]] = {}
    readers: list[Engine] = []
    for outcome in states:
        state: SwarmState | None = outcome.value
        if not outcome.ok or state is None:
            answers.append(HostAnswer(outcome.host, outcome.url, None, outcome.error,
                                      outcome.unreachable, outcome.seconds))
        elif not state.manager:
            why = "a Swarm worker" if state.local_state == "active" else "not in a Swarm"
            answers.append(HostAnswer(outcome.host, outcome.url, None,
                                      f"{why}: run this on a manager", False, outcome.seconds))
        elif state.cluster_id in clusters:
            clusters[state.cluster_id].append(outcome.host)
        else:
            clusters[state.cluster_id] = [outcome.host]
            readers.append(ctx.services.hosts.get(outcome.host))
    swarms = []
    for (cluster, hosts), result in zip(clusters.items(), fan_out(readers, call), strict=True):
        label = " + ".join(hosts) + (f" (Swarm {cluster[:12]})" if len(hosts) > 1 else "")
        message = view(result.value, "") if result.ok and result.value is not None else None
        swarms.append(HostAnswer(label, result.url, message, result.error, result.unreachable,
                                 result.seconds))
    return grouped(title, swarms + answers, filename=filename)


@handles("service ls")
def service_ls(ctx: Context) -> Message:
    filters = _filters(ctx)
    quiet = bool(ctx.invocation.opt("quiet"))
    return by_swarm(ctx, "docker service ls", lambda e: swarm.service_ls(e, filters=filters),
                    lambda rows, host: views.services(rows, quiet=quiet, host=host),
                    filename="services-by-swarm.txt")


@handles("node ls")
def node_ls(ctx: Context) -> Message:
    quiet = bool(ctx.invocation.opt("quiet"))
    return by_swarm(ctx, "docker node ls", swarm.node_ls,
                    lambda rows, host: views.nodes(rows, quiet=quiet, host=host),
                    filename="nodes-by-swarm.txt")


@handles("stack ls")
def stack_ls(ctx: Context) -> Message:
    return by_swarm(ctx, "docker stack ls", swarm.stack_ls,
                    lambda rows, host: views.stacks(rows, host=host),
                    filename="stacks-by-swarm.txt")


@handles("service ps")
def service_ps(ctx: Context) -> Message:
    inv = ctx.invocation
    rows = swarm.service_ps(ctx.engine, list(inv.args), filters=_filters(ctx))
    return views.tasks(rows, what=", ".join(f"`{a}`" for a in inv.args),
                       quiet=bool(inv.opt("quiet")), no_trunc=bool(inv.opt("no_trunc")))


@handles("service inspect")
def service_inspect(ctx: Context) -> Message:
    name = ctx.invocation.args[0]
    return views.inspect_json(name, swarm.service_inspect(ctx.engine, name))


@handles("node inspect")
def node_inspect(ctx: Context) -> Message:
    name = ctx.invocation.args[0]
    return views.inspect_json(name, swarm.node_inspect(ctx.engine, name))


@handles("stack services")
def stack_services(ctx: Context) -> Message:
    stack = ctx.invocation.args[0]
    return views.services(swarm.stack_services(ctx.engine, stack),
                          quiet=bool(ctx.invocation.opt("quiet")), host=ctx.host_label,
                          what=stack)


@handles("stack ps")
def stack_ps(ctx: Context) -> Message:
    stack = ctx.invocation.args[0]
    return views.tasks(swarm.stack_ps(ctx.engine, stack), what=f"stack `{stack}`",
                       no_trunc=bool(ctx.invocation.opt("no_trunc")))


# -- logs ---------------------------------------------------------------------------------------

@handles("service logs")
def service_logs(ctx: Context) -> Message | None:
    inv = ctx.invocation
    tail = tail_count(inv.opt("tail"), ctx.services.settings.limits.log_tail)
    name = inv.args[0]
    if inv.opt("follow"):
        _follow_service(ctx, name, tail)
        return None
    log = swarm.service_logs(ctx.engine, name, tail=tail, timestamps=bool(inv.opt("timestamps")))
    return container_views.logs(log, tail="all" if tail is None else str(tail))


def _follow_service(ctx: Context, name: str, tail: int | None) -> None:
    """`service logs -f`: every task's new lines into one message, like `logs -f`."""
    if ctx.invocation.private:
        raise UsageError("A follow is a channel message updated in place: it cannot be private.",
                         detail="Drop `--private`, or read the end of the log with "
                                "`/docker service logs --private NAME`.")
    FOLLOWS.check_room(ctx.actor.user_id)
    engine = ctx.engine
    service, stream = swarm.open_service_logs(engine, name, tail=tail,
                                              timestamps=bool(ctx.invocation.opt("timestamps")))
    start_follow(ctx, f"*Logs of service `{service}`*", service, StreamReader(stream, service),
                 describe_end=lambda: _service_end(engine, service))


def _service_end(engine: Engine, service: str) -> str:
    try:
        swarm.find_service(engine, service)
    except DockopsError:
        return f"service `{service}` was removed"
    return "the engine closed the stream"


# -- changes ------------------------------------------------------------------------------------

def _watch(ctx: Context, change: ServiceChange, mark: str, *, verb: str) -> Message | None:
    """Report Swarm's convergence in place: tasks replaced N/M, then how it ended."""
    thread = ThrottledThread(ctx.responder.start_thread(views.rollout(change, None, verb=verb)))

    def show(state: Rollout) -> None:
        thread.progress(lambda: views.rollout(change, state, verb=verb))

    try:
        state = swarm.watch(ctx.engine, change, mark, deadline=ROLLOUT_SECONDS,
                            on_progress=show, rolling_back=verb == "rollback")
    except DockopsError as exc:
        thread.finish(views.rollout(change, None, verb=verb))
        raise DockopsError(f"Lost sight of `{change.name}` while it converged: {exc.message}",
                           detail=f"Swarm goes on by itself; `/docker service ps {change.name}` "
                                  "shows where it is.") from exc
    final = views.rollout_end(change, state, verb=verb)
    if not state.ok:
        thread.finish(final)
        raise DockopsError(str(final.text), detail=f"`/docker service ps {change.name}` shows "
                                                   "each task and its error.")
    return None if thread.finish(final) else final


@handles("service update")
def service_update(ctx: Context) -> Message | None:
    inv = ctx.invocation
    name = inv.args[0]
    image = inv.opt("image")
    if not image and not inv.opt("force"):
        raise UsageError("`service update` from Slack changes the image (`--image REF`) or "
                         "restarts every task (`--force`): give one of them.",
                         detail=f"Example: /docker service update --image registry/web:1.1 {name}")
    current = swarm.find_service(ctx.engine, name)
    if image:
        _check_repository(ctx, current, image)
    mark = swarm.update_status_mark(ctx.engine, current.id)
    target = image or current.image
    change = swarm.update_image(ctx.engine, current.id, target, force=bool(inv.opt("force")),
                                auth=credentials.auth_config(ctx.services.settings, target))
    return _watch(ctx, change, mark, verb="update")


def _check_repository(ctx: Context, current: ServiceRow, image: str) -> None:
    """An operator moves a service along its own repository (a new tag or digest); putting
    another image under the service's mounts, secrets and networks is an admin's call."""
    try:
        wanted = refs.repository(image)
    except refs.InvalidReference as exc:
        raise UsageError(f'invalid reference "{image}" for --image: {exc.reason}.',
                         detail="Use REPOSITORY[:TAG][@DIGEST], e.g. registry/team/web:1.1") \
            from None
    own = refs.repository(current.image.partition("@")[0]) if current.image else ""
    if ctx.role < Role.ADMIN and own and wanted != own:
        raise RefusedError(
            f"`service update --image {image}` would put `{current.name}` on another "
            f"repository than its own (`{own}`); nothing was changed.",
            detail="Operators move a service to a new tag or digest of its repository; an "
                   "admin can switch it to another image.")


@handles("service rollback")
def service_rollback(ctx: Context) -> Message | None:
    name = ctx.invocation.args[0]
    mark = swarm.update_status_mark(ctx.engine, name)
    change = swarm.rollback(ctx.engine, name)
    return _watch(ctx, change, mark, verb="rollback")


@previews("service scale")
def scale_preview(ctx: Context) -> Message:
    targets = scale_targets(ctx.invocation.args)
    rows = [(swarm.find_service(ctx.engine, name), n) for name, n in targets]
    return views.scale_preview(rows, host=ctx.host_label)


@handles("service scale")
def service_scale(ctx: Context) -> Message:
    """`NAME scaled to N` for each; Swarm starts or stops the tasks after the answer."""
    done: list[tuple[str, int]] = []
    failed: list[tuple[str, str]] = []
    for name, replicas in scale_targets(ctx.invocation.args):
        try:
            change = swarm.scale(ctx.engine, name, replicas)
            done.append((change.name, replicas))
        except DockopsError as exc:
            failed.append((name, exc.message))
    return views.scaled(done, failed)


@previews("service rm")
def rm_preview(ctx: Context) -> Message:
    rows = [swarm.find_service(ctx.engine, name) for name in ctx.invocation.args]
    return views.rm_preview(rows, host=ctx.host_label)


@handles("service rm")
def service_rm(ctx: Context) -> Message:
    removed: list[str] = []
    failed: list[tuple[str, str]] = []
    for name in ctx.invocation.args:
        try:
            removed.append(swarm.service_rm(ctx.engine, name))
        except DockopsError as exc:
            failed.append((name, exc.message))
    return views.removed(removed, failed)


def _availability(ctx: Context) -> str:
    value = ctx.invocation.opt("availability")
    if not value:
        raise UsageError("`node update` from Slack sets `--availability active|pause|drain`.",
                         detail="Example: /docker node update --availability drain worker-1")
    return str(value)


@previews("node update")
def node_update_preview(ctx: Context) -> Message:
    _availability(ctx)
    node = swarm.find_node(ctx.engine, ctx.invocation.args[0])
    return views.drain_preview(node, swarm.tasks_on_node(ctx.engine, node.id),
                               host=ctx.host_label)


@handles("node update")
def node_update(ctx: Context) -> Message:
    node = swarm.node_update(ctx.engine, ctx.invocation.args[0],
                             availability=_availability(ctx))
    return views.node_updated(node)
