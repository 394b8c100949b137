"""The Stop button of a follow (`logs -f`, `attach`): ends it; its last update says who stopped it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.follow import FOLLOWS
from bot.policy import role_of
from bot.roles import Role
from bot.slack.listeners.actions import actor_from, private_responder
from bot.slack.runtime import Runtime
from bot.views import blocks
from bot.views.lifecycle import STOP_FOLLOW_ACTION
from bot.views.message import Message

log = logging.getLogger("dockops.slack")


def register(app: App, runtime: Runtime) -> None:
    @app.action(STOP_FOLLOW_ACTION)
    def stop_follow(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        answer = stop(runtime, body)
        if answer:
            try:
                private_responder(runtime, body).send(
                    Message(text=answer, blocks=(blocks.section(answer),)))
            except Exception:
                log.exception("could not answer a Stop click")


def stop(runtime: Runtime, body: dict[str, Any]) -> str:
    """Stop the follow the button belongs to; what to tell the clicker, or '' when done."""
    follow_id = str((body.get("actions") or [{}])[0].get("value", ""))
    follow = FOLLOWS.get(follow_id)
    if follow is None:
        return "That follow has already stopped."
    actor = actor_from(body)
    if actor.user_id != follow.owner:
        # Anyone who could have started the follow may stop it.
        role = role_of(runtime.identify(actor), runtime.services.settings.access)
        if role < Role.OPERATOR:
            return (f"Only <@{follow.owner}> or an operator can stop this follow; it stops by "
                    "itself at its time limit.")
    FOLLOWS.stop(follow_id, f"stopped by <@{actor.user_id}>")
    return ""
