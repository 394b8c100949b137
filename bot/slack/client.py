"""The Slack Web API client: base URL from SLACK_API_URL, every call through the governor.

`web_client` is the only way dockops builds a WebClient: its `api_call` asks the governor
(bot/slack/governor.py) first, so no caller can go around Slack's budgets or a 429's pause.
"""

from __future__ import annotations

from http.client import HTTPException
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient

from bot.slack.governor import (
    GOVERNOR,
    Governor,
    RetryAfterHandler,
    api_error,
    count_api_error,
    retry_after,
)


class GovernedClient(WebClient):
    """A WebClient whose every call waits for (or, for a live update, asks) the governor."""

    def __init__(self, *args: Any, governor: Governor = GOVERNOR, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.governor = governor

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        self.governor.admit(api_method, _field(kwargs, "channel"), _field(kwargs, "ts"))
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            count_api_error(api_method, api_error(exc.response.status_code, exc.response.data))
            if exc.response.status_code == 429:  # the retries are spent, or were not wanted
                self.governor.pause(api_method, retry_after(exc.response.headers))
            raise
        except (OSError, HTTPException):  # no answer (after the connection retries)
            count_api_error(api_method, "connection")
            raise


def _field(kwargs: dict[str, Any], name: str) -> str:
    """A call's argument (`channel`, `ts`) wherever slack_sdk put it: json, form or query."""
    for part in ("json", "data", "params"):
        fields = kwargs.get(part)
        if isinstance(fields, dict) and fields.get(name):
            return str(fields[name])
    return ""


def retry_handlers() -> list[RetryHandler]:
    """For response_url posts: wait out Retry-After on 429, back off on 5xx and dropped
    connections."""
    return [RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=3)]


def api_retry_handlers(governor: Governor = GOVERNOR) -> list[RetryHandler]:
    """For Web API calls: a 429 pauses the method for every caller, then an answer retries."""
    return [RetryAfterHandler(governor, max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=3)]


def web_client(token: str, base_url: str, *, timeout: int = 30,
               handlers: list[RetryHandler] | None = None) -> GovernedClient:
    url = base_url if base_url.endswith("/") else base_url + "/"
    return GovernedClient(token=token or None, base_url=url, timeout=timeout,
                          retry_handlers=api_retry_handlers() if handlers is None else handlers)


def webhook(url: str) -> WebhookClient:
    """A response_url poster with the same retry policy."""
    return WebhookClient(url, timeout=30, retry_handlers=retry_handlers())
