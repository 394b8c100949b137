"""Handlers of the alerts commands: rules and open incidents, mutes, history, and what the
incident message's buttons run (resolve, rollback)."""

from __future__ import annotations

import time

from bot.engine.privileges import container_privileges
from bot.engine.recreate import recreate as engine_recreate
from bot.errors import DockopsError, UsageError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles, previews
from bot.handlers.recreate import UP_SECONDS
from bot.policy.run import check_exec, check_start
from bot.services import Services
from bot.store import incidents as records
from bot.timeparse import parse_duration
from bot.views import incidents as views
from bot.views import lifecycle as lifecycle_views
from bot.views.message import Message


def _rule(services: Services, name: str) -> None:
    names = [rule.name for rule in services.settings.alerts]
    if name not in names:
        known = ", ".join(f"`{n}`" for n in names) or "none (add [[alerts]] to the config)"
        raise UsageError(f"No alert rule named `{name}`.", detail=f"Rules: {known}.")


def _incident(ctx: Context) -> records.Incident:
    text = ctx.invocation.args[0].lstrip("#")
    incident = records.get(ctx.services.store, int(text)) if text.isdigit() else None
    if incident is None:
        raise UsageError(f"No incident #{text}.",
                         detail="`/docker alerts history` lists them with their numbers.")
    return incident


@handles("alerts")
def list_alerts(ctx: Context) -> Message:
    store = ctx.services.store
    open_by_rule = records.counts(store)
    mutes = {(mute.rule, mute.container): mute for mute in records.mutes(store)}
    rules = []
    for rule in ctx.services.settings.alerts:
        whole = mutes.get((rule.name, ""))
        muted = f"until {time.strftime('%H:%M UTC', time.gmtime(whole.until))}" if whole else ""
        rules.append((rule.name, ", ".join(rule.events), ", ".join(rule.hosts) or "every host",
                      rule.channel, muted, open_by_rule.get(rule.name, 0)))
    incidents = [(i.id, i.rule, i.container, i.host, i.kind, i.count, i.opened_at)
                 for i in records.open_incidents(store)]
    running = getattr(ctx.services, "incidents", None)
    note = "" if running is not None and running.running else \
        "Events are followed by `dockops serve`, not here."
    return views.alert_list(rules, incidents, note)


@handles("alerts mute")
def mute(ctx: Context) -> Message:
    args = ctx.invocation.args
    _rule(ctx.services, args[0])
    duration = args[1] if len(args) > 1 else "1h"
    seconds = parse_duration(duration).total_seconds()
    if seconds <= 0:
        raise UsageError(f"`{duration}`: a mute lasts a while, e.g. 1h or 30m.")
    container = str(ctx.invocation.opt("container") or "")
    until = time.time() + seconds
    records.mute(ctx.services.store, args[0], container, until, ctx.actor.display)
    return views.muted(args[0], container, until, ctx.actor.display)


@handles("alerts unmute")
def unmute(ctx: Context) -> Message:
    name = ctx.invocation.args[0]
    _rule(ctx.services, name)
    return views.unmuted(name, records.unmute(ctx.services.store, name))


@handles("alerts history")
def alert_history(ctx: Context) -> Message:
    rule = ctx.invocation.args[0] if ctx.invocation.args else ""
    if rule:
        _rule(ctx.services, rule)
    last = max(1, min(100, ctx.invocation.opt("last") or 20))
    rows = [(i.id, i.rule, i.container, i.host, i.kind, i.count, i.opened_at, i.state)
            for i in records.history(ctx.services.store, rule or None, last)]
    return views.history(rule, rows)


@handles("alerts resolve")
def resolve(ctx: Context) -> Message:
    incident = _incident(ctx)
    if not incident.is_open:
        raise DockopsError(f"Incident #{incident.id} is already {incident.state}; nothing "
                           "changed.")
    from bot.incidents.tracker import Tracker

    running = getattr(ctx.services, "incidents", None)
    tracker = running.tracker if running is not None else \
        Tracker(ctx.services.settings, ctx.services.store)
    done = tracker.resolve(incident.id, ctx.actor.display)
    if done is None:
        raise DockopsError(f"Incident #{incident.id} was closed a moment ago; nothing changed.")
    return views.resolved(incident.id, incident.container, ctx.actor.display)


def _rollback_plan(ctx: Context) -> tuple[records.Incident, str, str]:
    incident = _incident(ctx)
    if ctx.hosts and ctx.hosts[0] != incident.host:
        raise UsageError(f"Incident #{incident.id} is on host `{incident.host}`, not "
                         f"`{ctx.hosts[0]}`.", detail=f"Add `--host {incident.host}`.")
    previous = records.previous_image(ctx.services.store, incident.host, incident.container)
    if previous is None:
        raise DockopsError(f"dockops does not know what `{incident.container}` ran before: it "
                           "was not recreated while dockops followed its host; nothing was done.",
                           detail="Use `recreate --image IMAGE` with the image you want.")
    privileges = container_privileges(ctx.engine, incident.container)
    if privileges is None:
        raise DockopsError(f"`{incident.container}` no longer exists; nothing was done.")
    run = ctx.services.settings.run
    check_exec(privileges, ctx.role, run, verb="recreate")
    check_start(privileges, ctx.role, run, verb="recreate")
    return incident, previous[0], previous[1]


@previews("alerts rollback")
def rollback_preview(ctx: Context) -> Message:
    incident, image_id, image = _rollback_plan(ctx)
    return views.rollback_preview(incident.id, incident.container, incident.host, image_id,
                                  image)


@handles("alerts rollback")
def rollback(ctx: Context) -> Message:
    incident, image_id, _ = _rollback_plan(ctx)
    result = engine_recreate(ctx.engine, incident.container, image_id, timeout=UP_SECONDS)
    return lifecycle_views.recreate_report([result], host=ctx.host_label)
