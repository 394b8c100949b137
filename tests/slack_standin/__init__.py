"""A local stand-in for Slack, faithful enough to drive the real Bolt app in tests.

Typical use::

    with SlackStandIn() as slack:
        client = WebClient(base_url=slack.api_url, token=slack.bot_token)
        ...
        assert slack.violations == []
"""

from . import blockkit, payloads, signing
from .blockkit import MessageCheck, check_message, validate_blocks
from .payloads import block_action, form_body, interactivity_body, slash_command
from .records import Ack, ApiCall, Envelope, UploadedFile
from .server import RESPONSE_URL_MAX_USES, Delivery, SlackStandIn
from .signing import signature, signed_headers
from .webapi import SlackError

__all__ = [
    "RESPONSE_URL_MAX_USES",
    "Ack",
    "ApiCall",
    "Delivery",
    "Envelope",
    "MessageCheck",
    "SlackError",
    "SlackStandIn",
    "UploadedFile",
    "block_action",
    "blockkit",
    "check_message",
    "form_body",
    "interactivity_body",
    "payloads",
    "signature",
    "signed_headers",
    "signing",
    "slash_command",
    "validate_blocks",
]
