"""The Slack Web API client: base URL from SLACK_API_URL, retries for 429/5xx/network errors."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.webhook import WebhookClient


def retry_handlers() -> list[RetryHandler]:
    """Wait out Retry-After on 429, back off on 5xx and dropped connections."""
    return [RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=3)]


def web_client(token: str, base_url: str) -> WebClient:
    url = base_url if base_url.endswith("/") else base_url + "/"
    return WebClient(token=token or None, base_url=url, timeout=30,
                     retry_handlers=retry_handlers())


def webhook(url: str) -> WebhookClient:
    """A response_url poster with the same retry policy."""
    return WebhookClient(url, timeout=30, retry_handlers=retry_handlers())
