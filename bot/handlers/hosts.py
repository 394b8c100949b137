"""`/docker hosts`: every configured host, asked at once, each by its own deadline."""

from __future__ import annotations

from collections.abc import Mapping

from bot.config import HostConfig
from bot.engine import system
from bot.engine.hosts import Hosts
from bot.engine.results import EngineInfo
from bot.handlers.context import Context
from bot.handlers.dispatch import handles
from bot.handlers.fanout import HostOutcome, fan_out
from bot.views.hosts import HostStatus, hosts_list
from bot.views.message import Message


def _status(outcome: HostOutcome[EngineInfo], hosts: Hosts,
            configs: Mapping[str, HostConfig]) -> HostStatus:
    config = configs.get(outcome.host)
    info = outcome.value
    return HostStatus(
        outcome.host, outcome.url,
        default=len(hosts.engines) > 1 and outcome.host == hosts.default,
        own_roles=bool(config and config.roles),
        version=info.server_version if info else "",
        running=info.running if info else 0,
        total=info.containers if info else 0,
        error=outcome.error, seconds=outcome.seconds)


@handles("hosts")
def hosts(ctx: Context) -> Message:
    """Name, URL (credentials masked), engine version, containers running/total, reachable."""
    outcomes = fan_out(ctx.engines, system.info)
    services = ctx.services
    return hosts_list([_status(outcome, services.hosts, services.settings.hosts)
                       for outcome in outcomes],
                      command=ctx.services.settings.slack.command)
