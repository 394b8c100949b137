"""Buttons that carry commands: a follow's Stop, an update notice's Pull / Recreate / Snooze.

The value is an opaque token; the pipeline looks up the command it stands for and runs
it as the clicker, through the same gate, confirmation and audit as a typed command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App

from bot.incidents.notices import INCIDENT_ACTIONS
from bot.reply import Responder, Thread
from bot.slack.incident_clicks import incident_thread
from bot.slack.listeners.clicks import (
    actor_from,
    after_ack,
    clicked_value,
    is_ephemeral,
    private_responder,
)
from bot.slack.responder import SlackResponder
from bot.slack.runtime import Runtime
from bot.views.jobs import PULL_ACTION, RECREATE_ACTION, SNOOZE_ACTION
from bot.views.lifecycle import STOP_FOLLOW_ACTION
from bot.views.message import Message

COMMAND_BUTTONS = (STOP_FOLLOW_ACTION, PULL_ACTION, RECREATE_ACTION, SNOOZE_ACTION,
                   *INCIDENT_ACTIONS)
# A Stop click answers the clicker alone: the follow's own last update says who stopped it.
ANSWER_PRIVATELY = frozenset({STOP_FOLLOW_ACTION})


def register(app: App, runtime: Runtime) -> None:
    for action_id in COMMAND_BUTTONS:
        app.action(action_id)(_listener(runtime, action_id))


def _listener(runtime: Runtime, action_id: str) -> Callable[[Ack, dict[str, Any]], None]:
    def on_click(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        after_ack(runtime, body, lambda: click(runtime, body, action_id))

    return on_click


def click(runtime: Runtime, body: dict[str, Any], action_id: str) -> None:
    actor = runtime.identify(actor_from(body))
    private = private_responder(runtime, body)
    thread = incident_thread(runtime.client, body) if action_id in INCIDENT_ACTIONS else None
    answer: Responder = thread if thread is not None else \
        private if action_id in ANSWER_PRIVATELY else InPlace(
        SlackResponder(runtime.client, body["response_url"], actor.channel_id,
                       ephemeral=is_ephemeral(body), replace_original=True),
        (body.get("message") or {}).get("blocks") or [])
    runtime.pipeline.click(clicked_value(body), action_id, actor, answer, private)


class InPlace:
    """Answers in the clicked message: its content stays, its buttons give way to the answer."""

    def __init__(self, replace: SlackResponder, original: list[dict[str, Any]]) -> None:
        self.replace = replace
        self.kept = tuple(block for block in original if block.get("type") != "actions")

    def send(self, message: Message) -> None:
        self.replace.send(replace(message, blocks=(*self.kept, *message.blocks)))

    def start_thread(self, message: Message) -> Thread:
        return self.replace.start_thread(message)
