"""The Confirm and Cancel buttons of a destructive command's preview."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.slack.listeners.clicks import (
    actor_from,
    after_ack,
    clicked_value,
    is_ephemeral,
    private_responder,
)
from bot.slack.responder import SlackResponder
from bot.slack.runtime import Runtime
from bot.views.confirm import CANCEL_ACTION, CONFIRM_ACTION


def register(app: App, runtime: Runtime) -> None:
    @app.action(CONFIRM_ACTION)
    def confirm(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        after_ack(runtime, body, lambda: decide(runtime, body, confirm=True))

    @app.action(CANCEL_ACTION)
    def cancel(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        after_ack(runtime, body, lambda: decide(runtime, body, confirm=False))


def decide(runtime: Runtime, body: dict[str, Any], *, confirm: bool) -> None:
    actor = runtime.identify(actor_from(body))
    # The outcome takes the preview's place; "not yours" and "already done" go to the clicker.
    replace = SlackResponder(runtime.client, body["response_url"], actor.channel_id,
                             ephemeral=is_ephemeral(body), replace_original=True)
    runtime.pipeline.decide(clicked_value(body), actor, replace, confirm=confirm,
                            private=private_responder(runtime, body))
