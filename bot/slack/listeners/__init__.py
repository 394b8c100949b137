"""One place that says what is wired: every listener kind registers here."""

from __future__ import annotations

from slack_bolt import App

from bot.slack import home
from bot.slack.listeners import actions, buttons, commands
from bot.slack.runtime import Runtime


def register_listeners(app: App, runtime: Runtime) -> None:
    commands.register(app, runtime)
    actions.register(app, runtime)
    buttons.register(app, runtime)
    home.register(app, runtime)
