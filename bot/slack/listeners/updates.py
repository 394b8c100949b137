"""The update notice's buttons: Pull now and Recreate now (operators), Snooze 24h (viewers)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.errors import DockopsError, RefusedError
from bot.jobs import buttons
from bot.policy import Actor, check_channel, role_of
from bot.roles import Role
from bot.slack.listeners.actions import actor_from
from bot.slack.responder import SlackResponder
from bot.slack.runtime import Runtime
from bot.store import AuditRow
from bot.views import blocks
from bot.views import jobs as views
from bot.views.message import Message

log = logging.getLogger("dockops.slack")

NEEDS = {views.PULL_ACTION: Role.OPERATOR, views.RECREATE_ACTION: Role.OPERATOR,
         views.SNOOZE_ACTION: Role.VIEWER}
NAMES = {views.PULL_ACTION: "pull", views.RECREATE_ACTION: "recreate",
         views.SNOOZE_ACTION: "snooze"}


def register(app: App, runtime: Runtime) -> None:
    for action_id in NEEDS:
        app.action(action_id)(_listener(runtime, action_id))


def _listener(runtime: Runtime, action_id: str) -> Callable[[Ack, dict[str, Any]], None]:
    def on_click(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        if not runtime.pool.submit(lambda: handle(runtime, body, action_id)):
            _tell(runtime, body, ":hourglass: dockops is restarting; click again in a moment.")

    return on_click


def _tell(runtime: Runtime, body: dict[str, Any], text: str) -> None:
    try:
        private = SlackResponder(runtime.client, body["response_url"], actor_from(body).channel_id,
                                 ephemeral=True)
        private.send(Message(text=text, blocks=(blocks.section(text),)))
    except Exception:
        log.exception("could not answer a click")


def handle(runtime: Runtime, body: dict[str, Any], action_id: str) -> None:
    """Check the clicker's role, do the action, and put the outcome in place of the buttons."""
    started = time.monotonic()
    actor = runtime.identify(actor_from(body))
    services = runtime.services
    try:
        value = views.parse_button_value(str((body.get("actions") or [{}])[0].get("value", "")))
    except (ValueError, KeyError):
        _tell(runtime, body, ":warning: This button is from an older dockops and cannot be used.")
        return
    needed = NEEDS[action_id]
    name = NAMES[action_id]
    try:
        check_channel(actor, services.settings.access)
        role = role_of(actor, services.settings.access)
        if role < needed:
            raise RefusedError(f"*{name.capitalize()}* needs the {needed.label} role; you have "
                               f"{'no role' if role == Role.NONE else f'the {role.label} role'}.")
        outcome = _perform(services, action_id, value, actor.display)
    except DockopsError as exc:
        _tell(runtime, body, f":no_entry: {exc.message}")
        _audit(runtime, actor, name, value,
               "refused" if isinstance(exc, RefusedError) else "error", exc.message, started)
        return
    _replace_notice(runtime, body, actor, outcome)
    _audit(runtime, actor, name, value, "ok" if outcome.ok else "error", outcome.text, started)


def _perform(services: Any, action_id: str, value: dict[str, str],
             who: str) -> buttons.ButtonOutcome:
    if action_id == views.PULL_ACTION:
        return buttons.pull_now(services, value["host"], value["image"], who)
    if action_id == views.RECREATE_ACTION:
        return buttons.recreate_now(services, value["job"], value["host"], value["image"], who)
    return buttons.snooze_now(services, value["image"], who)


def _replace_notice(runtime: Runtime, body: dict[str, Any], actor: Actor,
                    outcome: buttons.ButtonOutcome) -> None:
    """The notice keeps its facts, loses the pressed buttons, and gains the outcome."""
    original = [b for b in (body.get("message") or {}).get("blocks") or []
                if b.get("type") != "actions"]
    parts = [*original, blocks.section(outcome.text)]
    if outcome.stale:
        value = str((body.get("actions") or [{}])[0].get("value", ""))
        parts.append(blocks.buttons(blocks.button("Recreate now", views.RECREATE_ACTION, value)))
    text = (body.get("message") or {}).get("text", "") or "Update"
    replace = SlackResponder(runtime.client, body["response_url"], actor.channel_id,
                             replace_original=True)
    replace.send(Message(text=f"{text}\n{outcome.text}", blocks=tuple(parts)))


def _audit(runtime: Runtime, actor: Actor, name: str, value: dict[str, str], outcome: str,
           message: str, started: float) -> None:
    row = AuditRow(user_id=actor.user_id, user_name=actor.user_name, channel_id=actor.channel_id,
                   source="slack", host=value.get("host", ""), command=f"update {name}",
                   text=f"{name} {value.get('image', '')} (job {value.get('job', '')})",
                   decision="refused" if outcome == "refused" else "allowed", outcome=outcome,
                   message=message[:500], duration_ms=int((time.monotonic() - started) * 1000))
    try:
        runtime.services.store.record_audit(row)
    except Exception:
        log.exception("could not write the audit row")
