"""Block Kit limit checks, as Slack applies them to every message it receives.

Errors are phrased like Slack's own: ``"<problem> [json-pointer:/blocks/0/text/text]"``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MAX_BLOCKS = 50
MAX_MESSAGE_TEXT = 40_000
MAX_ATTACHMENTS = 100
MAX_BLOCK_ID = 255
MAX_ACTION_ID = 255
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_MARKDOWN_BLOCK_TEXT = 12_000
MAX_ALT_TEXT = 2000
MAX_PLACEHOLDER = 150
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_SELECT_OPTIONS = 100
MAX_CHOICE_OPTIONS = 10
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30
MAX_INPUT_LABEL = 2000

BLOCK_TYPES = frozenset(
    {
        "actions",
        "call",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
SELECT_TYPES = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
INTERACTIVE_TYPES = SELECT_TYPES | frozenset(
    {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "overflow",
        "radio_buttons",
        "timepicker",
        "workflow_button",
    }
)
INPUT_ELEMENT_TYPES = INTERACTIVE_TYPES | frozenset(
    {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "rich_text_input",
        "file_input",
    }
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})


@dataclass
class MessageCheck:
    """Outcome of checking one message: Slack's error code (or None) and details."""

    error: str | None = None
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when Slack would accept the message."""
        return self.error is None


def _ptr(base: str, *parts: object) -> str:
    return "/".join([base, *(str(p) for p in parts)])


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, problem: str, pointer: str) -> None:
        self.errors.append(f"{problem} [json-pointer:{pointer}]")

    def max_len(self, value: Any, limit: int, pointer: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)

    def text_obj(self, obj: Any, pointer: str, *, limit: int, plain_only: bool = False) -> None:
        if not isinstance(obj, Mapping):
            self.fail("must be an object", pointer)
            return
        kind = obj.get("type")
        allowed = {"plain_text"} if plain_only else TEXT_TYPES
        if kind not in allowed:
            self.fail(f"must be one of {sorted(allowed)}", _ptr(pointer, "type"))
        text = obj.get("text")
        if not isinstance(text, str):
            self.fail("must be a string", _ptr(pointer, "text"))
            return
        if not text:
            self.fail("must be more than 0 characters", _ptr(pointer, "text"))
        self.max_len(text, limit, _ptr(pointer, "text"))

    def confirm(self, obj: Any, pointer: str) -> None:
        if not isinstance(obj, Mapping):
            self.fail("must be an object", pointer)
            return
        self.text_obj(obj.get("title"), _ptr(pointer, "title"), limit=MAX_CONFIRM_TITLE, plain_only=True)
        self.text_obj(obj.get("text"), _ptr(pointer, "text"), limit=MAX_CONFIRM_TEXT)
        self.text_obj(obj.get("confirm"), _ptr(pointer, "confirm"), limit=MAX_CONFIRM_BUTTON, plain_only=True)
        self.text_obj(obj.get("deny"), _ptr(pointer, "deny"), limit=MAX_CONFIRM_BUTTON, plain_only=True)

    def options(self, options: Any, pointer: str, *, low: int, high: int) -> None:
        if not isinstance(options, list):
            self.fail("must be an array", pointer)
            return
        if not low <= len(options) <= high:
            self.fail(f"must have between {low} and {high} items", pointer)
        for i, opt in enumerate(options):
            p = _ptr(pointer, i)
            if not isinstance(opt, Mapping):
                self.fail("must be an object", p)
                continue
            self.text_obj(opt.get("text"), _ptr(p, "text"), limit=MAX_OPTION_TEXT)
            self.max_len(opt.get("value"), MAX_OPTION_VALUE, _ptr(p, "value"))

    def image_element(self, el: Mapping[str, Any], pointer: str) -> None:
        if "image_url" not in el and "slack_file" not in el:
            self.fail("must provide image_url or slack_file", pointer)
        self.max_len(el.get("image_url"), MAX_URL, _ptr(pointer, "image_url"))
        alt = el.get("alt_text")
        if not isinstance(alt, str) or not alt:
            self.fail("must provide alt_text", _ptr(pointer, "alt_text"))
        self.max_len(alt, MAX_ALT_TEXT, _ptr(pointer, "alt_text"))

    def element(self, el: Any, pointer: str, allowed: frozenset[str]) -> str | None:
        """Check one block element; return its action_id, if any."""
        if not isinstance(el, Mapping):
            self.fail("must be an object", pointer)
            return None
        kind = el.get("type")
        if kind not in allowed:
            self.fail(f"unsupported element type {kind!r}", _ptr(pointer, "type"))
            return None
        if kind == "image":
            self.image_element(el, pointer)
            return None
        action_id = el.get("action_id")
        if action_id is not None:
            if not isinstance(action_id, str):
                self.fail("must be a string", _ptr(pointer, "action_id"))
            else:
                self.max_len(action_id, MAX_ACTION_ID, _ptr(pointer, "action_id"))
        if "confirm" in el:
            self.confirm(el["confirm"], _ptr(pointer, "confirm"))
        if kind == "button":
            self.text_obj(el.get("text"), _ptr(pointer, "text"), limit=MAX_BUTTON_TEXT, plain_only=True)
            self.max_len(el.get("value"), MAX_BUTTON_VALUE, _ptr(pointer, "value"))
            self.max_len(el.get("url"), MAX_URL, _ptr(pointer, "url"))
            style = el.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.fail("must be one of ['danger', 'primary']", _ptr(pointer, "style"))
        elif kind in SELECT_TYPES:
            if "placeholder" in el:
                self.text_obj(
                    el["placeholder"], _ptr(pointer, "placeholder"), limit=MAX_PLACEHOLDER, plain_only=True
                )
            if kind.endswith("static_select"):
                if "options" in el:
                    self.options(el["options"], _ptr(pointer, "options"), low=1, high=MAX_SELECT_OPTIONS)
                elif "option_groups" not in el:
                    self.fail("must provide options or option_groups", pointer)
        elif kind == "overflow":
            self.options(el.get("options"), _ptr(pointer, "options"), low=2, high=5)
        elif kind in ("checkboxes", "radio_buttons"):
            self.options(el.get("options"), _ptr(pointer, "options"), low=1, high=MAX_CHOICE_OPTIONS)
        return action_id if isinstance(action_id, str) else None

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, Mapping):
            self.fail("must be an object", pointer)
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.fail(f"unknown block type {kind!r}", _ptr(pointer, "type"))
            return
        getattr(self, f"block_{kind}", self.block_other)(block, pointer)

    def block_other(self, block: Mapping[str, Any], pointer: str) -> None:
        """Block types checked only for their type (call, file, rich_text, table, video)."""
        if block["type"] == "rich_text" and not isinstance(block.get("elements"), list):
            self.fail("must provide elements", _ptr(pointer, "elements"))

    def block_section(self, block: Mapping[str, Any], pointer: str) -> None:
        has_text = "text" in block
        fields = block.get("fields")
        if not has_text and fields is None:
            self.fail("must provide text or fields", pointer)
        if has_text:
            self.text_obj(block["text"], _ptr(pointer, "text"), limit=MAX_SECTION_TEXT)
        if fields is not None:
            if not isinstance(fields, list) or not fields:
                self.fail("must be a non-empty array", _ptr(pointer, "fields"))
            else:
                if len(fields) > MAX_SECTION_FIELDS:
                    self.fail(f"must have at most {MAX_SECTION_FIELDS} items", _ptr(pointer, "fields"))
                for i, f in enumerate(fields):
                    self.text_obj(f, _ptr(pointer, "fields", i), limit=MAX_FIELD_TEXT)
        if "accessory" in block:
            self.element(block["accessory"], _ptr(pointer, "accessory"), INTERACTIVE_TYPES | {"image"})

    def block_header(self, block: Mapping[str, Any], pointer: str) -> None:
        self.text_obj(block.get("text"), _ptr(pointer, "text"), limit=MAX_HEADER_TEXT, plain_only=True)

    def block_divider(self, block: Mapping[str, Any], pointer: str) -> None:
        """Dividers carry nothing to check."""

    def block_markdown(self, block: Mapping[str, Any], pointer: str) -> None:
        text = block.get("text")
        if not isinstance(text, str) or not text:
            self.fail("must provide text", _ptr(pointer, "text"))
        self.max_len(text, MAX_MARKDOWN_BLOCK_TEXT, _ptr(pointer, "text"))

    def block_image(self, block: Mapping[str, Any], pointer: str) -> None:
        self.image_element(block, pointer)
        if "title" in block:
            self.text_obj(block["title"], _ptr(pointer, "title"), limit=MAX_ALT_TEXT, plain_only=True)

    def block_context(self, block: Mapping[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        p = _ptr(pointer, "elements")
        if not isinstance(elements, list) or not elements:
            self.fail("must be a non-empty array", p)
            return
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            self.fail(f"must have at most {MAX_CONTEXT_ELEMENTS} items", p)
        for i, el in enumerate(elements):
            if isinstance(el, Mapping) and el.get("type") == "image":
                self.image_element(el, _ptr(p, i))
            else:
                self.text_obj(el, _ptr(p, i), limit=MAX_SECTION_TEXT)

    def block_actions(self, block: Mapping[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        p = _ptr(pointer, "elements")
        if not isinstance(elements, list) or not elements:
            self.fail("must be a non-empty array", p)
            return
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            self.fail(f"must have at most {MAX_ACTIONS_ELEMENTS} items", p)
        seen: set[str] = set()
        for i, el in enumerate(elements):
            action_id = self.element(el, _ptr(p, i), INTERACTIVE_TYPES)
            if action_id is not None:
                if action_id in seen:
                    self.fail(f"duplicate action_id {action_id!r}", _ptr(p, i, "action_id"))
                seen.add(action_id)

    def block_input(self, block: Mapping[str, Any], pointer: str) -> None:
        self.text_obj(block.get("label"), _ptr(pointer, "label"), limit=MAX_INPUT_LABEL, plain_only=True)
        if "element" not in block:
            self.fail("must provide element", _ptr(pointer, "element"))
        else:
            self.element(block["element"], _ptr(pointer, "element"), INPUT_ELEMENT_TYPES)

    def blocks(self, blocks: Any, pointer: str) -> None:
        if not isinstance(blocks, list):
            self.fail("must be an array", pointer)
            return
        if len(blocks) > MAX_BLOCKS:
            self.fail(f"must have at most {MAX_BLOCKS} items", pointer)
        block_ids: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(block, _ptr(pointer, i))
            block_id = block.get("block_id") if isinstance(block, Mapping) else None
            if block_id is None:
                continue
            p = _ptr(pointer, i, "block_id")
            if not isinstance(block_id, str) or not block_id:
                self.fail("must be a non-empty string", p)
                continue
            self.max_len(block_id, MAX_BLOCK_ID, p)
            if block_id in block_ids:
                self.fail(f"duplicate block_id {block_id!r}", p)
            block_ids.add(block_id)


def _decode(value: Any) -> tuple[Any, bool]:
    """Decode a JSON string as a form-encoded request carries it; (value, ok)."""
    if isinstance(value, str):
        try:
            return json.loads(value), True
        except ValueError:
            return None, False
    return value, True


def validate_blocks(blocks: Any, pointer: str = "/blocks") -> list[str]:
    """Return Slack-style errors for a list of blocks (empty when valid)."""
    checker = _Checker()
    checker.blocks(blocks, pointer)
    return checker.errors


def check_message(message: Mapping[str, Any], *, require_content: bool = True) -> MessageCheck:
    """Check a message payload (chat.* params, response_url body, ack payload).

    ``blocks``/``attachments`` may be lists or JSON strings (form-encoded requests).
    Error codes: ``invalid_blocks_format``, ``invalid_blocks``, ``invalid_attachments``,
    ``msg_too_long``, ``no_text``.
    """
    blocks, blocks_ok = _decode(message.get("blocks"))
    attachments, attachments_ok = _decode(message.get("attachments"))
    if not blocks_ok or (blocks is not None and not isinstance(blocks, list)):
        return MessageCheck("invalid_blocks_format", ["blocks must be a JSON array"])
    if not attachments_ok or (attachments is not None and not isinstance(attachments, list)):
        return MessageCheck("invalid_attachments", ["attachments must be a JSON array"])
    checker = _Checker()
    if blocks is not None:
        checker.blocks(blocks, "/blocks")
    for i, att in enumerate(attachments or []):
        if isinstance(att, Mapping) and "blocks" in att:
            checker.blocks(att["blocks"], _ptr("/attachments", i, "blocks"))
    if checker.errors:
        return MessageCheck("invalid_blocks", checker.errors)
    sdk_errors = _sdk_errors(blocks or [])
    if sdk_errors:
        return MessageCheck("invalid_blocks", sdk_errors)
    if attachments is not None and len(attachments) > MAX_ATTACHMENTS:
        return MessageCheck("too_many_attachments", [f"at most {MAX_ATTACHMENTS} attachments"])
    text = message.get("text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return MessageCheck("msg_too_long", [f"text has {len(text)} characters (limit {MAX_MESSAGE_TEXT})"])
    if require_content and not text and not blocks and not attachments:
        return MessageCheck("no_text", ["text, blocks or attachments is required"])
    return MessageCheck()


def _sdk_errors(blocks: list[Any]) -> list[str]:
    """What slack_sdk's block models refuse (a second opinion on the checks above)."""
    errors = []
    for i, block in enumerate(blocks):
        parsed = Block.parse(block) if isinstance(block, Mapping) else None
        if parsed is None:
            continue  # a type slack_sdk does not model (table, markdown): checked above
        try:
            parsed.validate_json()
        except SlackObjectFormationError as exc:
            errors.append(f"{exc} [json-pointer:/blocks/{i}]")
    return errors
