"""Records of what the stand-in received."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ApiCall:
    """One HTTP request the stand-in received.

    ``method`` is the Web API method (``chat.postMessage``), ``"response_url"`` for a post
    to a response_url, or ``"file_upload"`` for the bytes posted to an upload_url.
    ``params`` merges query, form and JSON fields as sent (form values stay strings, so
    ``blocks`` is a JSON string there; use :attr:`blocks` for the decoded value).
    """

    method: str
    params: dict[str, Any]
    token: str | None
    time: float
    path: str
    http_status: int
    response: dict[str, Any] | None
    headers: dict[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    fault: str | None = None

    @property
    def ok(self) -> bool:
        """True when the stand-in answered 200 with ``ok: true``."""
        return self.http_status == 200 and bool((self.response or {}).get("ok"))

    @property
    def error(self) -> str | None:
        """Slack's error code in the answer, if any."""
        return (self.response or {}).get("error")

    @property
    def blocks(self) -> list[dict[str, Any]] | None:
        """``blocks`` decoded whether it came as JSON or as a form-encoded string."""
        value = self.params.get("blocks")
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        return value if isinstance(value, list) else None


@dataclass(frozen=True)
class UploadedFile:
    """A file completed through files.completeUploadExternal."""

    file_id: str
    filename: str
    title: str | None
    data: bytes
    declared_length: int
    channel_id: str | None
    channels: tuple[str, ...]
    thread_ts: str | None
    initial_comment: str | None
    alt_txt: str | None = None
    snippet_type: str | None = None


@dataclass(frozen=True)
class Envelope:
    """A Socket Mode envelope pushed to the app."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    sent_at: float
    connection_ids: tuple[int, ...]


@dataclass(frozen=True)
class Ack:
    """An acknowledgement the app sent back over Socket Mode."""

    envelope_id: str
    payload: dict[str, Any] | None
    received_at: float
    elapsed: float
    connection_id: int
    raw: str = field(repr=False)
