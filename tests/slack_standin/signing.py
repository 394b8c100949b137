"""Request signing exactly as Slack does it (v0, HMAC-SHA256 over ``v0:{ts}:{body}``)."""

from __future__ import annotations

import hashlib
import hmac
import time

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def _as_bytes(body: bytes | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else body


def signature(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """Return the ``v0=<hex>`` signature Slack puts in ``X-Slack-Signature``."""
    base = b"v0:" + str(timestamp).encode("ascii") + b":" + _as_bytes(body)
    digest = hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(
    secret: str,
    body: bytes | str,
    timestamp: int | float | None = None,
    *,
    content_type: str = FORM_CONTENT_TYPE,
) -> dict[str, str]:
    """Headers Slack sends with a signed request (slash command, interactivity, events).

    ``timestamp`` defaults to now; pass an old one to test replay rejection (> 5 minutes).
    Slash commands and interactivity use form encoding; the Events API uses
    ``application/json``.
    """
    ts = int(time.time() if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "User-Agent": SLACK_USER_AGENT,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(secret, ts, body),
    }
