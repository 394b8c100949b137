"""Exactly once per user action: a re-delivered slash command or click is acked, not run.

Slack delivers again when an ack was late: over HTTP with `X-Slack-Retry-Num`, in Socket
Mode as the same payload in a new envelope (`retry_attempt` > 0). Each action has a key
(`trigger_id`; for a click without one, action_ts + user + action_id; else a hash of the
body); the first delivery of a key runs, later ones within DEDUP_SECONDS are logged and
dropped. Decided in memory and written in batches (`KeyLedger`), so the ack stays fast and
a restart still remembers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse

from bot.slack.replay import KeyLedger
from bot.store import Store

# Slack retries within a few minutes; a key is kept twice as long as that needs.
DEDUP_SECONDS = 600

log = logging.getLogger("dockops.slack")


def delivery_key(body: dict[str, Any]) -> str:
    """What makes one user action: a slash command or click's trigger_id, else its parts."""
    kind = "command" if "command" in body else str(body.get("type") or "event")
    if body.get("trigger_id"):
        return f"{kind}:{body['trigger_id']}"
    action = (body.get("actions") or [{}])[0]
    if action.get("action_ts"):
        user = (body.get("user") or {}).get("id", "")
        return f"{kind}:{action['action_ts']}:{user}:{action.get('action_id', '')}"
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return f"{kind}:sha256:{digest}"


def ledger(store: Store) -> KeyLedger:
    return KeyLedger(store.delivered, store.remember_deliveries, name="delivery-keys")


def once_per_action(deliveries: KeyLedger) -> Callable[..., BoltResponse | None]:
    """The Bolt middleware: lets a command or click through once, acks its repeats."""

    def middleware(body: dict[str, Any], next_: Callable[[], None]) -> BoltResponse | None:
        if "command" not in body and body.get("type") not in ("block_actions", "view_submission"):
            next_()
            return None
        key = delivery_key(body)
        if deliveries.first(key, deliveries.clock() + DEDUP_SECONDS):
            next_()
            return None
        log.info("ignored a repeated delivery of %s", key.split(":", 1)[0],
                 extra={"delivery_key": key})
        return BoltResponse(status=200, body="")

    return middleware


def register(app: App, store: Store) -> None:
    app.use(once_per_action(ledger(store)))
