"""The Bolt app: built without calling Slack, listeners wired in one place."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

from bot.follows import FOLLOWS
from bot.pipeline import Pipeline
from bot.services import Services
from bot.slack import compat, middleware, once
from bot.slack.client import web_client
from bot.slack.listeners import register_listeners
from bot.slack.runtime import Runtime
from bot.workers import WorkerPool


def _bolt_logger() -> logging.Logger:
    """Bolt's logger, without its start-up warning that the environment's SLACK_BOT_TOKEN is
    unused because a client was given: the client carries that very token."""
    logger = logging.getLogger("dockops.bolt")
    unused = warning_client_prioritized_and_token_skipped()
    if not any(isinstance(f, _Drop) and f.message == unused for f in logger.filters):
        logger.addFilter(_Drop(unused))
    return logger


class _Drop(logging.Filter):
    """Drops the records whose message is exactly `message`."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self.message


def build_app(services: Services, *, socket_mode: bool = False) -> tuple[App, Runtime]:
    """The Bolt App and the runtime its listeners share. No network call happens here."""
    compat.apply()
    env = services.settings.env
    client = web_client(env.slack_bot_token, env.slack_api_url)
    app = App(
        client=client,
        signing_secret=None if socket_mode else env.slack_signing_secret,
        token_verification_enabled=False,
        request_verification_enabled=not socket_mode,
        logger=_bolt_logger(),
        # Our listeners only hand work to the pool and ack: running them on the request thread
        # skips Bolt's executor hop and its 10 ms ack polling.
        process_before_response=True,
    )
    limits = services.settings.limits
    runtime = Runtime(services, Pipeline(services),
                      WorkerPool(limits.workers, per_user=limits.per_user_commands), client)
    FOLLOWS.per_user = limits.per_user_follows
    middleware.register(app, services.settings.slack)
    once.register(app, services.store)  # after the workspace check: only ours are kept
    register_listeners(app, runtime)
    return app, runtime
