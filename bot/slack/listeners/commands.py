"""The slash command: ack at once, then run the pipeline in the worker pool."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.commands import TABLE, parse
from bot.commands.secrets import carries_password
from bot.errors import DockopsError
from bot.policy import Actor
from bot.slack.responder import SlackResponder
from bot.slack.runtime import Runtime
from bot.workers import TooManyCommands

# Reads that answer within an engine call or two: they get the pool's quick lane, so a `ps`
# is answered while long commands (attached runs, builds, pulls) hold every worker.
QUICK_COMMANDS = frozenset({"ps", "images", "inspect", "image inspect", "logs", "version",
                            "info", "hosts", "help", "audit", "jobs", "jobs history"})


def actor_from(body: dict[str, Any]) -> Actor:
    return Actor(user_id=body.get("user_id", ""), channel_id=body.get("channel_id", ""),
                 user_name=body.get("user_name", ""), team_id=body.get("team_id", ""))


def register(app: App, runtime: Runtime) -> None:
    command = runtime.services.settings.slack.command

    @app.command(command)
    def docker_command(ack: Ack, body: dict[str, Any]) -> None:
        text = body.get("text", "")
        try:
            queued = runtime.pool.submit(lambda: run(runtime, body, text),
                                         user=body.get("user_id", ""), quick=is_quick(text))
        except TooManyCommands as exc:
            ack(text=f":hourglass: {exc.message}")
            return
        if not queued:
            ack(text=":hourglass: dockops is restarting; try again in a moment.")
            return
        ack()


def is_quick(text: str) -> bool:
    """A quick read (`logs -f` is not: it follows); text that does not parse fails fast."""
    try:
        invocation = parse(text, TABLE)
    except DockopsError:
        return True
    name = invocation.command.name
    return name in QUICK_COMMANDS and not (name == "logs" and invocation.opt("follow"))


def run(runtime: Runtime, body: dict[str, Any], text: str) -> None:
    actor = runtime.identify(actor_from(body))
    settings = runtime.services.settings
    # A typed password must not be echoed: Slack shows the command with an in_channel reply.
    private = ("--private" in text.split() or settings.slack.reply == "ephemeral"
               or carries_password(text))
    responder = SlackResponder(runtime.client, body["response_url"], actor.channel_id,
                               ephemeral=private, user_id=actor.user_id)
    runtime.pipeline.execute(text, actor, responder)
