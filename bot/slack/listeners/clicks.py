"""What every button listener shares: who clicked, where to answer, work after the ack."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bot.policy import Actor
from bot.slack.responder import SlackResponder
from bot.slack.runtime import Runtime
from bot.views import blocks
from bot.views.message import Message
from bot.workers import TooManyCommands

log = logging.getLogger("dockops.slack")


def actor_from(body: dict[str, Any]) -> Actor:
    """Who clicked, and in which channel (a block_actions payload)."""
    user = body.get("user") or {}
    channel = (body.get("channel") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id", "")
    return Actor(user_id=user.get("id", ""), channel_id=channel,
                 user_name=user.get("username") or user.get("name", ""),
                 team_id=(body.get("team") or {}).get("id", ""))


def clicked_value(body: dict[str, Any]) -> str:
    """The clicked button's value: an opaque token, nothing else is read from it."""
    return str((body.get("actions") or [{}])[0].get("value", ""))


def is_ephemeral(body: dict[str, Any]) -> bool:
    return bool((body.get("container") or {}).get("is_ephemeral"))


def private_responder(runtime: Runtime, body: dict[str, Any]) -> SlackResponder:
    """Answers only the clicker sees."""
    return SlackResponder(runtime.client, body["response_url"], actor_from(body).channel_id,
                          ephemeral=True)


def after_ack(runtime: Runtime, body: dict[str, Any], work: Callable[[], None]) -> None:
    """Run the click's work in the worker pool (the ack went out already). A click counts
    against the clicker's `per_user_commands`; over it, or while shutting down, say so."""
    try:
        if runtime.pool.submit(work, user=actor_from(body).user_id):
            return
        text = ":hourglass: dockops is restarting; click again in a moment."
    except TooManyCommands as exc:
        text = f":hourglass: {exc.message}"
    try:
        private_responder(runtime, body).send(Message(text=text, blocks=(blocks.section(text),)))
    except Exception:
        log.exception("could not answer a click that did not run")
