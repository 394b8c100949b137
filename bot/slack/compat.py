"""A fix for slack-bolt's form parsing, applied once when the app is built.

Bolt (1.x) treats any form body that merely *contains* the text "payload" as an
interactivity payload, so `/docker logs payload-api` parsed to {} and no listener ran.
The body is signed, so it cannot be rewritten: the parser is corrected instead.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import slack_bolt.request.request as bolt_request


def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
    """Bolt's parse_body, deciding on the `payload` *field*, not the substring."""
    if not body:
        return {}
    if content_type == "application/json" or body.startswith("{"):
        return json.loads(body)
    params = dict(parse_qsl(body, keep_blank_values=True))
    return json.loads(params["payload"]) if "payload" in params else params


def apply() -> None:
    bolt_request.parse_body = parse_body
