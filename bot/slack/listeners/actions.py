"""The Confirm and Cancel buttons of a destructive command's preview."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.policy import Actor
from bot.slack.responder import SlackResponder
from bot.slack.runtime import Runtime
from bot.views import blocks
from bot.views.confirm import CANCEL_ACTION, CONFIRM_ACTION
from bot.views.message import Message

log = logging.getLogger("dockops.slack")


def actor_from(body: dict[str, Any]) -> Actor:
    """Who clicked, and in which channel (a block_actions payload)."""
    user = body.get("user") or {}
    channel = (body.get("channel") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id", "")
    return Actor(user_id=user.get("id", ""), channel_id=channel,
                 user_name=user.get("username") or user.get("name", ""),
                 team_id=(body.get("team") or {}).get("id", ""))


def register(app: App, runtime: Runtime) -> None:
    @app.action(CONFIRM_ACTION)
    def confirm(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        submit(runtime, body, confirm=True)

    @app.action(CANCEL_ACTION)
    def cancel(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        submit(runtime, body, confirm=False)


def submit(runtime: Runtime, body: dict[str, Any], *, confirm: bool) -> None:
    """Decide in the worker pool; while shutting down, tell the clicker to try again."""
    if runtime.pool.submit(lambda: decide(runtime, body, confirm=confirm)):
        return
    try:
        text = ":hourglass: dockops is restarting; click again in a moment."
        private_responder(runtime, body).send(Message(text=text, blocks=(blocks.section(text),)))
    except Exception:
        log.exception("could not answer a click while shutting down")


def decide(runtime: Runtime, body: dict[str, Any], *, confirm: bool) -> None:
    actor = runtime.identify(actor_from(body))
    token = str((body.get("actions") or [{}])[0].get("value", ""))
    ephemeral = bool((body.get("container") or {}).get("is_ephemeral"))
    # The outcome takes the preview's place; "not yours" and "already done" go to the clicker.
    replace = SlackResponder(runtime.client, body["response_url"], actor.channel_id,
                             ephemeral=ephemeral, replace_original=True)
    runtime.pipeline.decide(token, actor, replace, confirm=confirm,
                            private=private_responder(runtime, body))


def private_responder(runtime: Runtime, body: dict[str, Any]) -> SlackResponder:
    channel = actor_from(body).channel_id
    return SlackResponder(runtime.client, body["response_url"], channel, ephemeral=True)
