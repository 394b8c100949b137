"""Builders for the requests Slack sends to an app (slash commands, block actions)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

TEAM_ID = "T0STANDIN"
TEAM_DOMAIN = "standin"
API_APP_ID = "A0DOCKOPS"
BOT_USER_ID = "U0DOCKBOT"
BOT_ID = "B0DOCKBOT"
# The deprecated verification token Slack still puts in every payload.
VERIFICATION_TOKEN = "standinVerificationToken"
# Default response_url when none is given: loopback port 9 (discard), where nothing
# listens, so a stray post fails fast instead of leaving the machine. Prefer
# ``SlackStandIn.new_response_url()``.
UNROUTED_RESPONSE_URL_BASE = "http://127.0.0.1:9"


def new_trigger_id() -> str:
    """A trigger_id shaped like Slack's (``digits.digits.hex``)."""
    return f"{secrets.randbelow(10**11):011d}.{secrets.randbelow(10**9):09d}.{secrets.token_hex(16)}"


def new_ts(now: float | None = None) -> str:
    """A message timestamp shaped like Slack's (``seconds.micro``)."""
    return f"{time.time() if now is None else now:.6f}"


def _unrouted_response_url(kind: str, team_id: str) -> str:
    return (
        f"{UNROUTED_RESPONSE_URL_BASE}/{kind}/{team_id}/{secrets.randbelow(10**13)}/{secrets.token_hex(12)}"
    )


def slash_command(
    text: str,
    *,
    user_id: str = "U0ADMIN",
    channel_id: str = "C0OPS",
    command: str = "/docker",
    response_url: str | None = None,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    user_name: str | None = None,
    channel_name: str | None = None,
    team_domain: str = TEAM_DOMAIN,
    api_app_id: str = API_APP_ID,
) -> dict[str, str]:
    """Form fields of a slash command, in the order and spelling Slack sends them.

    The same dict is the ``payload`` of a Socket Mode ``slash_commands`` envelope.
    """
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name or channel_id.lower(),
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url or _unrouted_response_url("commands", team_id),
        "trigger_id": trigger_id or new_trigger_id(),
    }


def _iter_elements(blocks: Any) -> Iterator[tuple[str | None, Mapping[str, Any]]]:
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Mapping):
            continue
        block_id = block.get("block_id")
        if isinstance(block.get("accessory"), Mapping):
            yield block_id, block["accessory"]
        for el in block.get("elements") or []:
            if isinstance(el, Mapping):
                yield block_id, el


def bot_message(
    *,
    text: str = "",
    blocks: list[dict[str, Any]] | None = None,
    ts: str | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A message as Slack shows it after the bot posted it with chat.postMessage."""
    return {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": API_APP_ID,
        "text": text,
        "ts": ts or new_ts(),
        "team": team_id,
        "blocks": blocks or [],
    }


def block_action(
    action_id: str,
    value: str,
    *,
    user_id: str = "U0ADMIN",
    channel_id: str = "C0OPS",
    response_url: str | None = None,
    message: Mapping[str, Any] | None = None,
    block_id: str | None = None,
    action_type: str = "button",
    text: str = "Button",
    ephemeral: bool = False,
    team_id: str = TEAM_ID,
    api_app_id: str = API_APP_ID,
    trigger_id: str | None = None,
    user_name: str | None = None,
    channel_name: str | None = None,
) -> dict[str, Any]:
    """An interactivity payload (``type: block_actions``) for one clicked element.

    When ``message`` is given (e.g. the ``message`` returned by chat.postMessage), the
    element with ``action_id`` is looked up in it so ``block_id``/``text``/``type`` match
    what Slack would send. Without it a bot message holding one button is made up.
    With ``ephemeral=True`` the payload has no ``message`` (Slack never sends the content
    of ephemeral messages) and ``container.is_ephemeral`` is true.
    """
    element: Mapping[str, Any] | None = None
    if message is not None:
        for bid, el in _iter_elements(message.get("blocks")):
            if el.get("action_id") == action_id:
                element, block_id = el, block_id or bid
                break
    if element is not None:
        action_type = str(element.get("type", action_type))
        el_text = element.get("text")
        if isinstance(el_text, Mapping) and isinstance(el_text.get("text"), str):
            text = el_text["text"]
    block_id = block_id or secrets.token_urlsafe(4)
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": new_ts(),
    }
    if action_type in ("button", "workflow_button"):
        action["text"] = {"type": "plain_text", "text": text, "emoji": True}
        action["value"] = value
    elif action_type in ("static_select", "overflow", "radio_buttons", "external_select"):
        action["selected_option"] = {
            "text": {"type": "plain_text", "text": text, "emoji": True},
            "value": value,
        }
    else:
        action["value"] = value
    if message is None and not ephemeral:
        button = {
            "type": "button",
            "action_id": action_id,
            "text": {"type": "plain_text", "text": text, "emoji": True},
            "value": value,
        }
        message = bot_message(
            text=text,
            blocks=[{"type": "actions", "block_id": block_id, "elements": [button]}],
            team_id=team_id,
        )
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": str((message or {}).get("ts") or new_ts()),
        "channel_id": channel_id,
        "is_ephemeral": ephemeral,
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {
            "id": user_id,
            "username": user_name or user_id.lower(),
            "name": user_name or user_id.lower(),
            "team_id": team_id,
        },
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name or channel_id.lower()},
        "state": {"values": {}},
        "response_url": response_url or _unrouted_response_url("actions", team_id),
        "actions": [action],
    }
    if message is not None:
        payload["message"] = dict(message)
    return payload


def form_body(fields: Mapping[str, Any]) -> str:
    """URL-encode form fields as Slack does for slash commands."""
    return urlencode({k: str(v) for k, v in fields.items()})


def interactivity_body(payload: Mapping[str, Any]) -> str:
    """Body of an interactivity request: ``payload=<json>``, URL-encoded."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
