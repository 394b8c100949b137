"""The optional audit channel: a one-line summary of every audit row, posted off the command path."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_sdk import WebClient

from bot.config import Settings
from bot.slack.client import web_client
from bot.slack.governor import GOVERNOR, RetryAfterHandler
from bot.store import AuditRow
from bot.views.audit import line

log = logging.getLogger("dockops.audit")


class AuditChannel:
    """Posts audit lines to one channel; a failure is logged and never reaches the command."""

    def __init__(self, client: WebClient, channel: str) -> None:
        self.client = client
        self.channel = channel
        # One poster thread keeps the lines in order and off the command's own time.
        self._poster = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dockops-audit")

    def post(self, row: AuditRow) -> None:
        text = line(row)
        try:
            self._poster.submit(self._send, text)
        except RuntimeError:  # shutting down: the row is in the table anyway
            log.warning("audit channel closed; not posted: %s", text)

    def _send(self, text: str) -> None:
        try:
            self.client.chat_postMessage(channel=self.channel, text=text, unfurl_links=False,
                                         unfurl_media=False)
        except Exception:
            log.exception("could not post to the audit channel %s", self.channel)

    def close(self, wait: bool = True) -> None:
        self._poster.shutdown(wait=wait)


def audit_channel(settings: Settings) -> AuditChannel | None:
    """The audit channel when `[slack] audit_channel` is set and a bot token is there to post."""
    channel = settings.slack.audit_channel
    if not channel:
        return None
    if not settings.env.slack_bot_token:
        log.warning("[slack] audit_channel is set but SLACK_BOT_TOKEN is not: not posting")
        return None
    # Short timeout and no connection retries: a dead Slack must not hold the console's exit.
    client = web_client(settings.env.slack_bot_token, settings.env.slack_api_url, timeout=10,
                        handlers=[RetryAfterHandler(GOVERNOR, max_retry_count=3)])
    return AuditChannel(client, channel)
