"""Handlers of the network commands."""

from __future__ import annotations

from bot.engine import lifecycle, networks
from bot.engine.privileges import container_privileges
from bot.errors import DockopsError, EngineError, RefusedError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles, previews
from bot.handlers.fanout import per_host
from bot.policy.objects import check_network_driver, check_network_join, check_own_container
from bot.views import networks as views
from bot.views.message import Message


@handles("network ls")
def network_ls(ctx: Context) -> Message:
    inv = ctx.invocation
    return per_host(
        ctx, "docker network ls",
        lambda engine: networks.list_networks(engine, inv.opt("filter")),
        lambda rows, host: views.network_ls(rows, quiet=bool(inv.opt("quiet")),
                                            no_trunc=bool(inv.opt("no_trunc")),
                                            template=inv.opt("format"), host=host),
        filename="networks-by-host.txt")


@handles("network inspect")
def network_inspect(ctx: Context) -> Message:
    name = ctx.invocation.args[0]
    return views.inspect_document("network", name, networks.inspect_network(ctx.engine, name),
                                  ctx.invocation.opt("format"))


@handles("network create")
def network_create(ctx: Context) -> Message:
    inv = ctx.invocation
    check_network_driver(inv.opt("driver"), ctx.services.settings.run)
    network_id = networks.create_network(ctx.engine, inv.args[0], driver=inv.opt("driver"),
                                         subnets=inv.opt("subnet") or (),
                                         labels=inv.opt("label"), internal=bool(inv.opt("internal")),
                                         attachable=bool(inv.opt("attachable")))
    return views.done(f"Created network `{inv.args[0]}`: {network_id}")


def _refuse_predefined(names: tuple[str, ...]) -> None:
    fixed = [name for name in names if name in networks.PREDEFINED]
    if fixed:
        raise RefusedError(f"`{fixed[0]}` is one of the engine's own networks (bridge, host, none), "
                           "which cannot be removed. Nothing was removed.")


@previews("network rm")
def network_rm_preview(ctx: Context) -> Message:
    _refuse_predefined(ctx.invocation.args)
    rows = networks.find_networks(ctx.engine, ctx.invocation.args)
    used = [row for row in rows if row.containers]
    if used:  # the engine would refuse ("has active endpoints"): say so instead of asking
        row = used[0]
        raise EngineError(f"Network `{row.name}` has containers attached ({', '.join(row.containers)}): "
                          f"disconnect them first (`/docker network disconnect {row.name} "
                          f"{row.containers[0]}`). Nothing was removed.")
    return views.network_rm_preview(rows)


@handles("network rm")
def network_rm(ctx: Context) -> Message:
    _refuse_predefined(ctx.invocation.args)
    results: list[tuple[str, str]] = []
    for name in ctx.invocation.args:
        try:
            networks.remove_network(ctx.engine, name)
            results.append((name, ""))
        except DockopsError as exc:
            results.append((name, exc.message))
    return views.removed("network", results)


def _check_container(ctx: Context, verb: str, network: str, container: str) -> None:
    """dockops's own container, and the host/none networks, stay as they are."""
    facts = container_privileges(ctx.engine, container)
    if facts is None:
        raise EngineError(f"No such container: {container}. Nothing was changed.",
                          detail="`/docker ps -a` lists the containers.")
    check_own_container(verb, container, facts.is_self)
    if verb == "connect":
        driver = str(networks.inspect_network(ctx.engine, network).get("Driver", ""))
        check_network_join(network, driver, ctx.services.settings.run)


@handles("network connect")
def network_connect(ctx: Context) -> Message:
    inv = ctx.invocation
    network, container = inv.args
    _check_container(ctx, "connect", network, container)
    networks.connect(ctx.engine, network, container, aliases=inv.opt("alias") or ())
    return views.done(f"Connected `{container}` to network `{network}`.")


@previews("network disconnect")
def network_disconnect_preview(ctx: Context) -> Message:
    network, container = ctx.invocation.args
    _check_container(ctx, "disconnect", network, container)
    target = lifecycle.find(ctx.engine, [container])[0]
    return views.question(f"Force-disconnect `{target.name}` ({target.status}) from network "
                          f"`{network}`?")


@handles("network disconnect")
def network_disconnect(ctx: Context) -> Message:
    inv = ctx.invocation
    network, container = inv.args
    _check_container(ctx, "disconnect", network, container)
    networks.disconnect(ctx.engine, network, container, force=bool(inv.opt("force")))
    return views.done(f"Disconnected `{container}` from network `{network}`.")
