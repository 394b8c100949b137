"""``SlackStandIn``: a local Slack (Web API, response_url, uploads, Socket Mode).

One threaded HTTP server on 127.0.0.1 serves the Web API under ``/api/``, file upload
URLs under ``/upload/v1/`` and response_urls under ``/commands/`` and ``/actions/``; a
websocket server on another port serves Socket Mode. Everything received is recorded.
"""

from __future__ import annotations

import copy
import json
import mimetypes
import re
import secrets
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, TypeVar
from urllib.parse import parse_qsl, urlsplit

from . import payloads
from .blockkit import check_message
from .records import Ack, ApiCall, Envelope, UploadedFile
from .socketmode import SocketModeHub
from .webapi import APP_TOKEN_METHODS, HANDLERS, ApiRequest, SlackError, new_file_id

T = TypeVar("T")

RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_TTL = 30 * 60
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_RESPONSE_URL_KINDS = ("commands", "actions")


class Delivery(NamedTuple):
    """What ``send_slash_command``/``send_block_action`` pushed over Socket Mode."""

    envelope_id: str
    response_url: str
    payload: dict[str, Any]


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, data: Mapping[str, Any], **headers: str) -> _Reply:
        return cls(status, json.dumps(data).encode("utf-8"), headers=dict(headers))

    def parsed(self) -> dict[str, Any] | None:
        if not self.content_type.startswith("application/json"):
            return None
        return json.loads(self.body)


@dataclass
class _Fault:
    name: str
    kind: str  # "status" | "drop" | "error" | "delay"
    remaining: int
    status: int = 429
    retry_after: int | None = None
    error: str | None = None
    after_processing: bool = False
    seconds: float = 0.0


@dataclass
class _RateLimit:
    max_calls: int
    per_seconds: float
    retry_after: int
    hits: deque[float] = field(default_factory=deque)


@dataclass
class _ResponseUrl:
    url: str
    kind: str
    created: float
    channel_id: str | None
    user_id: str | None
    message_ts: str | None
    uses: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Incoming:
    method: str
    path: str
    query: str
    headers: Message
    body: bytes
    time: float

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    standin: SlackStandIn


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    server_version = "standin-slack"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        """Serve every request through the stand-in."""
        self.server.standin._serve(self)

    do_GET = do_POST


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("1", "true"))


def _decode_json_field(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _parse_multipart(content_type: str, body: bytes) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    msg = BytesParser(policy=HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    if not msg.is_multipart():
        return fields
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if isinstance(name, str):
            fields[name] = data if part.get_filename() else data.decode("utf-8", "replace")
    return fields


class SlackStandIn:
    """A local Slack for tests: Web API, response_urls, v2 uploads and Socket Mode.

    Use as a context manager (or ``start()``/``stop()``); hand ``api_url`` to
    ``WebClient(base_url=...)`` and ``bot_token``/``app_token`` to the app.

    ``socket_ping_interval``: how often the Socket Mode server pings its clients. A
    small value (0.2) makes ``SocketModeClient.close()`` return in ~0.5 s instead of up
    to 3 s, because the builtin client only notices ``close()`` between two ``recv``
    calls, which otherwise block for their 3 s timeout.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        socket_ping_interval: float | None = 10.0,
        socket_ping_timeout: float | None = 20.0,
        ack_timeout: float = 3.0,
        response_url_ttl: float = RESPONSE_URL_TTL,
    ) -> None:
        self.host = host
        self.team_id = payloads.TEAM_ID
        self.team_domain = payloads.TEAM_DOMAIN
        self.app_id = payloads.API_APP_ID
        self.bot_user_id = payloads.BOT_USER_ID
        self.bot_id = payloads.BOT_ID
        self.bot_name = "dockops"
        self.bot_token = (
            f"xoxb-{secrets.randbelow(10**12)}-{secrets.randbelow(10**13)}-{secrets.token_hex(12)}"
        )
        self.app_token = f"xapp-1-{self.app_id}-{secrets.randbelow(10**13)}-{secrets.token_hex(32)}"
        self.signing_secret = secrets.token_hex(16)
        self.response_url_ttl = response_url_ttl
        self.lock = threading.RLock()
        self.usergroups: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {
            "U0ADMIN": self._user_record("U0ADMIN", "admin", is_admin=True),
            self.bot_user_id: self._user_record(self.bot_user_id, self.bot_name, is_bot=True),
        }
        self.channels: dict[str, dict[str, Any]] = {"C0OPS": self._channel_record("C0OPS", "ops")}
        self._calls: list[ApiCall] = []
        self._violations: list[str] = []
        self._messages: dict[str, dict[str, dict[str, Any]]] = {}
        self._ephemerals: list[dict[str, Any]] = []
        self._uploads: dict[str, dict[str, Any]] = {}
        self._upload_keys: dict[str, str] = {}
        self._files: list[UploadedFile] = []
        self._shared_files: dict[str, UploadedFile] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._response_log: list[tuple[str, dict[str, Any]]] = []
        self._faults: list[_Fault] = []
        self._rate_limits: dict[str, _RateLimit] = {}
        self._last_ts_us = 0
        self._url_counter = 0
        self.socket_mode = SocketModeHub(
            app_id=self.app_id,
            on_violation=self.add_violation,
            ping_interval=socket_ping_interval,
            ping_timeout=socket_ping_timeout,
            ack_timeout=ack_timeout,
            host=host,
        )
        self._http: _HttpServer | None = None
        self._http_thread: threading.Thread | None = None
        self.port = 0

    # == lifecycle ==================================================================

    def start(self) -> SlackStandIn:
        """Start both servers on free ports; return self."""
        if self._http is not None:
            return self
        self._http = _HttpServer((self.host, 0), _Handler)
        self._http.standin = self
        self.port = self._http.server_address[1]
        self._http_thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="standin-http",
            daemon=True,
        )
        self._http_thread.start()
        self.socket_mode.start()
        return self

    def stop(self) -> None:
        """Stop both servers and close Socket Mode connections."""
        self.socket_mode.stop()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._http_thread is not None:
            self._http_thread.join(timeout=5)
        self._http = self._http_thread = None

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget every record, message, fault and response_url (config stays)."""
        with self.lock:
            self._calls.clear()
            self._violations.clear()
            self._messages.clear()
            self._ephemerals.clear()
            self._uploads.clear()
            self._upload_keys.clear()
            self._files.clear()
            self._response_urls.clear()
            self._response_log.clear()
            self._faults.clear()
            self._rate_limits.clear()
        self.socket_mode.reset()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if not self.port:
            raise RuntimeError("SlackStandIn is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Web API base for ``WebClient(base_url=...)``; ends with ``/api/``."""
        return f"{self.base_url}/api/"

    # == records ====================================================================

    @property
    def calls(self) -> list[ApiCall]:
        """Every HTTP request received, in order (a snapshot)."""
        with self.lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        """Requests to one Web API method (or ``"response_url"``/``"file_upload"``)."""
        with self.lock:
            return [c for c in self._calls if c.method == method]

    @property
    def violations(self) -> list[str]:
        """Things real Slack would reject or that break its contract (a snapshot)."""
        with self.lock:
            return list(self._violations)

    def add_violation(self, text: str) -> None:
        """Record a violation."""
        with self.lock:
            self._violations.append(text)

    @property
    def files(self) -> list[UploadedFile]:
        """Files completed through files.completeUploadExternal."""
        with self.lock:
            return list(self._files)

    @property
    def ephemerals(self) -> list[dict[str, Any]]:
        """Ephemeral messages (chat.postEphemeral and ephemeral response_url posts)."""
        with self.lock:
            return copy.deepcopy(self._ephemerals)

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Messages currently in ``channel`` (or all channels), oldest first."""
        with self.lock:
            chans = [channel] if channel else list(self._messages)
            return [
                {**copy.deepcopy(m), "channel": ch}
                for ch in chans
                for m in self._messages.get(ch, {}).values()
            ]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One message by channel and ts."""
        with self.lock:
            msg = self._messages.get(channel, {}).get(ts)
            return copy.deepcopy(msg) if msg is not None else None

    def responses(self, url: str) -> list[dict[str, Any]]:
        """Bodies accepted by one response_url, in order."""
        with self.lock:
            entry = self._response_urls.get(urlsplit(url).path)
            return copy.deepcopy(entry.posts) if entry else []

    def all_responses(self) -> list[tuple[str, dict[str, Any]]]:
        """Every accepted response_url post as ``(url, body)``, in order."""
        with self.lock:
            return copy.deepcopy(self._response_log)

    def validate_message(self, message: Mapping[str, Any], where: str = "message") -> list[str]:
        """Check a message (e.g. a Bolt HTTP ack body); record and return problems."""
        result = check_message(message)
        if result.ok:
            return []
        problems = [f"{result.error}: {d}" for d in result.details]
        for p in problems:
            self.add_violation(f"{where}: {p}")
        return problems

    # == configuration ==============================================================

    def add_user(
        self,
        user_id: str,
        name: str | None = None,
        *,
        is_admin: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
        **extra: Any,
    ) -> dict[str, Any]:
        """Register a user for users.info; return its record."""
        record = self._user_record(
            user_id, name or user_id.lower(), is_admin=is_admin, is_bot=is_bot, deleted=deleted
        )
        record.update(extra)
        with self.lock:
            self.users[user_id] = record
        return record

    def add_channel(self, channel_id: str, name: str, **extra: Any) -> dict[str, Any]:
        """Register a channel for conversations.info and ``#name`` lookups."""
        record = {**self._channel_record(channel_id, name), **extra}
        with self.lock:
            self.channels[channel_id] = record
        return record

    # == fault injection ============================================================

    def fail_next(
        self,
        method_or_path: str,
        status: int = 429,
        retry_after: int | None = 1,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status``.

        429 answers ``{"ok": false, "error": "ratelimited"}`` with ``Retry-After``;
        other statuses answer ``{"ok": false, "error": "internal_error"}``. Matches a
        Web API method, ``"response_url"`` (any), ``"file_upload"``, or a URL/path.
        """
        with self.lock:
            self._faults.append(
                _Fault(method_or_path, "status", count, status=status, retry_after=retry_after)
            )

    def drop_next(self, method: str, count: int = 1, *, after_processing: bool = False) -> None:
        """Close the connection without answering the next ``count`` matching requests.

        With ``after_processing=True`` the request takes effect first (a lost answer,
        e.g. a message posted whose ``ts`` the client never learns).
        """
        with self.lock:
            self._faults.append(_Fault(method, "drop", count, after_processing=after_processing))

    def delay_next(self, method_or_path: str, seconds: float, count: int = 1) -> None:
        """Answer the next ``count`` matching requests normally, ``seconds`` late (a slow Slack)."""
        with self.lock:
            self._faults.append(_Fault(method_or_path, "delay", count, seconds=seconds))

    def error_next(self, method: str, error: str, count: int = 1) -> None:
        """Answer the next ``count`` calls with HTTP 200 ``{"ok": false, "error": error}``."""
        with self.lock:
            self._faults.append(_Fault(method, "error", count, error=error))

    def rate_limit(
        self, method: str, max_calls: int | None, per_seconds: float = 60.0, retry_after: int = 1
    ) -> None:
        """Enforce a rate limit on ``method`` (``max_calls=None`` removes it)."""
        with self.lock:
            if max_calls is None:
                self._rate_limits.pop(method, None)
            else:
                self._rate_limits[method] = _RateLimit(max_calls, per_seconds, retry_after)

    def _take_fault(self, names: Iterable[str]) -> _Fault | None:
        wanted = set(names)
        with self.lock:
            for fault in self._faults:
                if fault.name in wanted and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    @staticmethod
    def _fault_reply(fault: _Fault) -> _Reply:
        if fault.kind == "error":
            return _Reply.json(200, {"ok": False, "error": fault.error})
        if fault.status == 429:
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            return _Reply.json(429, {"ok": False, "error": "ratelimited"}, **headers)
        return _Reply.json(fault.status, {"ok": False, "error": "internal_error"})

    def _rate_limited(self, method: str, now: float) -> _Reply | None:
        with self.lock:
            limit = self._rate_limits.get(method)
            if limit is None:
                return None
            while limit.hits and now - limit.hits[0] >= limit.per_seconds:
                limit.hits.popleft()
            if len(limit.hits) >= limit.max_calls:
                return _Reply.json(
                    429,
                    {"ok": False, "error": "ratelimited"},
                    **{"Retry-After": str(limit.retry_after)},
                )
            limit.hits.append(now)
        return None

    # == waiting ====================================================================

    def wait_for(
        self,
        predicate: Callable[[], T],
        timeout: float = 10.0,
        interval: float = 0.02,
        message: str | None = None,
    ) -> T:
        """Poll ``predicate`` until it returns something truthy; return that value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                what = message or getattr(predicate, "__name__", "condition")
                raise AssertionError(
                    f"timed out after {timeout:g}s waiting for {what}; stand-in saw {self._summary()}"
                )
            time.sleep(interval)

    def _summary(self) -> str:
        with self.lock:
            methods = Counter(c.method for c in self._calls)
            violations = list(self._violations)
        return (
            f"calls={dict(methods)}, socket_clients={self.socket_mode.client_count}, violations={violations}"
        )

    def wait_for_calls(self, method: str, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        """Wait until ``method`` was called ``count`` times; return those calls."""

        def enough() -> list[ApiCall]:
            calls = self.calls_to(method)
            return calls if len(calls) >= count else []

        return self.wait_for(enough, timeout, message=f"{count} call(s) to {method}")

    def wait_for_responses(self, url: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until ``url`` accepted ``count`` posts; return them."""

        def enough() -> list[dict[str, Any]]:
            posts = self.responses(url)
            return posts if len(posts) >= count else []

        return self.wait_for(enough, timeout, message=f"{count} post(s) to {url}")

    # == Socket Mode ================================================================

    def wait_socket_client(self, timeout: float = 10.0, count: int = 1) -> int:
        """Wait until ``count`` Socket Mode clients are connected; return how many are."""

        def connected() -> int:
            n = self.socket_mode.client_count
            return n if n >= count else 0

        return self.wait_for(connected, timeout, message=f"{count} Socket Mode client(s)")

    def send_envelope(
        self,
        type_: str,
        payload: dict[str, Any],
        accepts_response_payload: bool | None = None,
        **kwargs: Any,
    ) -> str:
        """Push an envelope (``slash_commands``, ``interactive``, ``events_api``).

        ``accepts_response_payload`` defaults to Slack's value for the type. Goes to the
        newest connection (``broadcast=True`` for all). Returns the envelope_id.
        """
        return self.socket_mode.send(
            type_, payload, accepts_response_payload=accepts_response_payload, **kwargs
        )

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> Ack:
        """Wait for the app's ack; ``Ack.elapsed`` is the time from send to ack."""

        def acked() -> Ack | None:
            return self.socket_mode.ack(envelope_id)

        return self.wait_for(acked, timeout, message=f"ack of envelope {envelope_id}")

    @property
    def acks(self) -> list[Ack]:
        """Every ack received, in order."""
        return self.socket_mode.acks()

    @property
    def envelopes(self) -> list[Envelope]:
        """Every envelope sent, in order."""
        return self.socket_mode.envelopes()

    def send_disconnect(self, reason: str = "refresh_requested") -> int:
        """Send Slack's ``{"type": "disconnect"}`` to every client; return how many."""
        return self.socket_mode.send_raw(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-standin"}}
        )

    def close_socket_clients(self, code: int = 1001, reason: str = "") -> None:
        """Close every Socket Mode connection with a close frame."""
        self.socket_mode.close_all(code, reason)

    def slash_command(self, text: str, **kwargs: Any) -> dict[str, Any]:
        """``payloads.slash_command`` with a live response_url and this workspace's ids."""
        kwargs.setdefault("channel_id", "C0OPS")
        kwargs.setdefault("user_id", "U0ADMIN")
        kwargs.setdefault("team_id", self.team_id)
        kwargs.setdefault("api_app_id", self.app_id)
        if "response_url" not in kwargs:
            kwargs["response_url"] = self.new_response_url(
                channel_id=kwargs["channel_id"], user_id=kwargs["user_id"]
            )
        return payloads.slash_command(text, **kwargs)

    def block_action(self, action_id: str, value: str, **kwargs: Any) -> dict[str, Any]:
        """``payloads.block_action`` with a live response_url tied to the message."""
        kwargs.setdefault("channel_id", "C0OPS")
        kwargs.setdefault("user_id", "U0ADMIN")
        kwargs.setdefault("team_id", self.team_id)
        kwargs.setdefault("api_app_id", self.app_id)
        message = kwargs.get("message")
        if "response_url" not in kwargs:
            kwargs["response_url"] = self.new_response_url(
                kind="actions",
                channel_id=kwargs["channel_id"],
                user_id=kwargs["user_id"],
                message_ts=(message or {}).get("ts"),
            )
        return payloads.block_action(action_id, value, **kwargs)

    def send_slash_command(self, text: str, **kwargs: Any) -> Delivery:
        """Deliver a slash command over Socket Mode."""
        payload = self.slash_command(text, **kwargs)
        envelope_id = self.send_envelope("slash_commands", payload)
        return Delivery(envelope_id, payload["response_url"], payload)

    def send_block_action(self, action_id: str, value: str, **kwargs: Any) -> Delivery:
        """Deliver a block action (button click...) over Socket Mode."""
        payload = self.block_action(action_id, value, **kwargs)
        envelope_id = self.send_envelope("interactive", payload)
        return Delivery(envelope_id, payload["response_url"], payload)

    # == response_url ===============================================================

    def new_response_url(
        self,
        *,
        channel_id: str | None = None,
        user_id: str | None = None,
        message_ts: str | None = None,
        kind: str = "commands",
    ) -> str:
        """A unique response_url on the stand-in (``kind``: commands or actions).

        With ``channel_id`` + ``message_ts`` (actions), ``replace_original`` and
        ``delete_original`` act on that stored message.
        """
        if kind not in _RESPONSE_URL_KINDS:
            raise ValueError(f"kind must be one of {_RESPONSE_URL_KINDS}")
        with self.lock:
            self._url_counter += 1
            n = self._url_counter
        path = f"/{kind}/{self.team_id}/{n}{secrets.randbelow(10**9):09d}/" + secrets.token_hex(12)
        url = self.base_url + path
        with self.lock:
            self._response_urls[path] = _ResponseUrl(url, kind, time.time(), channel_id, user_id, message_ts)
        return url

    # == state used by webapi =======================================================

    @staticmethod
    def _user_record(
        user_id: str,
        name: str,
        *,
        is_admin: bool = False,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> dict[str, Any]:
        return {
            "id": user_id,
            "team_id": payloads.TEAM_ID,
            "name": name,
            "real_name": name.title(),
            "deleted": deleted,
            "is_admin": is_admin,
            "is_owner": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "tz": "UTC",
            "tz_offset": 0,
            "profile": {"real_name": name.title(), "display_name": name},
        }

    @staticmethod
    def _channel_record(channel_id: str, name: str) -> dict[str, Any]:
        kind = channel_id[:1]
        return {
            "id": channel_id,
            "name": name,
            "is_channel": kind == "C",
            "is_group": kind == "G",
            "is_im": kind == "D",
            "is_private": kind != "C",
            "is_archived": False,
            "is_member": True,
        }

    def resolve_channel(self, value: Any) -> str:
        """Channel id for an id, ``#name`` or a user id (DM); else channel_not_found."""
        text = str(value or "")
        with self.lock:
            if _CHANNEL_ID.fullmatch(text):
                return text
            if _USER_ID.fullmatch(text):
                return "D" + text[1:]
            name = text.removeprefix("#")
            for cid, info in self.channels.items():
                if name and info.get("name") == name:
                    return cid
        raise SlackError("channel_not_found")

    def channel_info(self, channel_id: str) -> dict[str, Any]:
        """Known channel record, or one made up for a well-formed id."""
        with self.lock:
            known = self.channels.get(channel_id)
            return copy.deepcopy(known or self._channel_record(channel_id, channel_id.lower()))

    def user_info(self, user_id: str) -> dict[str, Any] | None:
        """Known user record, one made up for a well-formed id, or None."""
        with self.lock:
            if user_id in self.users:
                return copy.deepcopy(self.users[user_id])
        if _USER_ID.fullmatch(user_id):
            return self._user_record(user_id, user_id.lower())
        return None

    def check_outgoing_message(self, where: str, params: Mapping[str, Any]) -> None:
        """Block Kit/text checks; raise SlackError (and record) when Slack would refuse."""
        result = check_message(params)
        if result.ok:
            return
        self.add_violation(f"{where}: {result.error}: " + "; ".join(result.details))
        raise SlackError(
            str(result.error),
            errors=result.details,
            response_metadata={"messages": [f"[ERROR] {d}" for d in result.details]},
        )

    def _next_ts(self) -> str:
        with self.lock:
            us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
            self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _message_fields(self, params: Mapping[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if "text" in params:
            fields["text"] = params.get("text") or ""
        for key in ("blocks", "attachments", "metadata", "files"):
            if params.get(key) is not None:
                fields[key] = _decode_json_field(params[key])
        return fields

    def store_message(self, channel: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Store a bot message; return it as Slack shows it."""
        ts = self._next_ts()
        msg: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "text": "",
            "ts": ts,
            "team": self.team_id,
            **self._message_fields(params),
        }
        thread_ts = params.get("thread_ts")
        with self.lock:
            if thread_ts:
                msg["thread_ts"] = str(thread_ts)
                parent = self._messages.get(channel, {}).get(str(thread_ts))
                if parent is not None:
                    parent["thread_ts"] = parent["ts"]
                    parent["reply_count"] = parent.get("reply_count", 0) + 1
            self._messages.setdefault(channel, {})[ts] = msg
            return copy.deepcopy(msg)

    def update_message(self, channel: str, ts: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Apply chat.update (omitted blocks/attachments are kept, as Slack does)."""
        with self.lock:
            msg = self._messages.get(channel, {}).get(ts)
            if msg is None:  # deleted meanwhile
                return {}
            msg.update(self._message_fields(params))
            msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
            return copy.deepcopy(msg)

    def delete_message(self, channel: str, ts: str) -> bool:
        """Delete a stored message; False when absent."""
        with self.lock:
            return self._messages.get(channel, {}).pop(ts, None) is not None

    def store_ephemeral(self, channel: str, user: str, params: Mapping[str, Any]) -> str:
        """Store an ephemeral message; return its message_ts."""
        ts = self._next_ts()
        entry = {"channel": channel, "user": user, "ts": ts, "source": "chat.postEphemeral"}
        entry.update(self._message_fields(params))
        if params.get("thread_ts"):
            entry["thread_ts"] = str(params["thread_ts"])
        with self.lock:
            self._ephemerals.append(entry)
        return ts

    def reserve_upload(
        self, filename: str, length: int, *, alt_txt: Any = None, snippet_type: Any = None
    ) -> tuple[str, str]:
        """Reserve a file id and an upload URL; return both."""
        file_id = new_file_id()
        key = secrets.token_urlsafe(24)
        with self.lock:
            self._uploads[file_id] = {
                "file_id": file_id,
                "filename": filename,
                "length": length,
                "alt_txt": alt_txt,
                "snippet_type": snippet_type,
                "data": None,
            }
            self._upload_keys[key] = file_id
        return file_id, f"{self.base_url}/upload/v1/{key}"

    def pending_upload(self, file_id: str) -> dict[str, Any] | None:
        """A reserved (not yet completed) upload."""
        with self.lock:
            upload = self._uploads.get(file_id)
            return dict(upload) if upload is not None else None

    def url_private(self, record: UploadedFile) -> str:
        """Where Slack serves a file's bytes to a token holder (`url_private_download`)."""
        return f"{self.base_url}/files-pri/{self.team_id}-{record.file_id}/download/{record.filename}"

    def add_file(self, filename: str, data: bytes, *, user_id: str = "U0ADMIN") -> str:
        """A file a user shared in Slack; returns its download link (url_private_download)."""
        from .webapi import new_file_id

        record = UploadedFile(file_id=new_file_id(), filename=filename, title=filename, data=data,
                              declared_length=len(data), channel_id=None, channels=(),
                              thread_ts=None, initial_comment=None)
        with self.lock:
            self._shared_files[record.file_id] = record
        return self.url_private(record)

    def _serve_file(self, incoming: _Incoming) -> _Reply:
        """GET of a url_private link: the bytes with a valid token, a login page without (as Slack)."""
        file_id = incoming.path.split("/")[2].rsplit("-", 1)[-1]
        with self.lock:
            known = {f.file_id: f for f in self._files} | self._shared_files
        record = known.get(file_id)
        auth = incoming.headers.get("Authorization", "")
        if record is None or auth != f"Bearer {self.bot_token}":
            # Slack answers an unauthorised download with its sign-in page, status 200.
            reply = _Reply(200, b"<html><body>Sign in to Slack</body></html>", "text/html")
        else:
            reply = _Reply(200, record.data, "application/octet-stream", headers={
                "Content-Disposition": f'attachment; filename="{record.filename}"'})
        self._record(incoming, "files-pri", {}, None, reply)
        return reply

    def complete_upload(self, record: UploadedFile) -> dict[str, Any]:
        """Store a completed file, share it, and return Slack's file object."""
        with self.lock:
            self._uploads.pop(record.file_id, None)
            self._files.append(record)
        info = {
            "id": record.file_id,
            "created": int(time.time()),
            "timestamp": int(time.time()),
            "name": record.filename,
            "title": record.title,
            "mimetype": mimetypes.guess_type(record.filename)[0] or "application/octet-stream",
            "size": len(record.data),
            "user": self.bot_user_id,
            "url_private_download": self.url_private(record),
        }
        for channel in {*([record.channel_id] if record.channel_id else []), *record.channels}:
            share = {"text": record.initial_comment or "", "files": [{"id": record.file_id}]}
            if record.thread_ts:
                share["thread_ts"] = record.thread_ts
            self.store_message(self.resolve_channel(channel), share)
        return info

    # == HTTP =======================================================================

    def _serve(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length > 0 else b""
        parts = urlsplit(handler.path)
        incoming = _Incoming(handler.command, parts.path, parts.query, handler.headers, body, time.time())
        try:
            reply = self._route(incoming)
        except Exception:
            self.add_violation(f"stand-in bug on {incoming.path}:\n{traceback.format_exc()}")
            reply = _Reply.json(500, {"ok": False, "error": "internal_error"})
        if reply is None:  # drop: close without answering
            handler.close_connection = True
            return
        handler.send_response(reply.status)
        handler.send_header("Content-Type", reply.content_type)
        handler.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(reply.body)

    def _record(
        self,
        incoming: _Incoming,
        method: str,
        params: dict[str, Any],
        token: str | None,
        reply: _Reply | None,
        fault: str | None = None,
    ) -> None:
        call = ApiCall(
            method=method,
            params=params,
            token=token,
            time=incoming.time,
            path=incoming.path,
            http_status=reply.status if reply is not None else 0,
            response=reply.parsed() if reply is not None else None,
            headers=dict(incoming.headers.items()),
            body=incoming.body,
            fault=fault,
        )
        with self.lock:
            self._calls.append(call)

    def _route(self, incoming: _Incoming) -> _Reply | None:
        path = incoming.path
        if path.startswith("/api/"):
            return self._serve_api(incoming, path[len("/api/") :])
        if path.startswith("/upload/v1/"):
            return self._serve_upload(incoming, path[len("/upload/v1/") :])
        if path.startswith("/files-pri/"):
            return self._serve_file(incoming)
        if path.split("/")[1] in _RESPONSE_URL_KINDS:
            return self._serve_response_url(incoming)
        self.add_violation(f"request to unknown path {incoming.method} {path}")
        reply = _Reply(404, b"not found\n", "text/plain")
        self._record(incoming, "unknown", {}, None, reply)
        return reply

    def _apply_fault(
        self, incoming: _Incoming, name: str, params: dict[str, Any], token: str | None
    ) -> tuple[bool, _Reply | None, _Fault | None]:
        """Return (handled, reply, fault); handled means answer ``reply`` now."""
        full_url = f"{self.base_url}{incoming.path}"
        fault = self._take_fault([name, incoming.path, full_url])
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)  # this request's own thread: others are answered meanwhile
            return False, None, None
        if fault is None or (fault.kind == "drop" and fault.after_processing):
            return False, None, fault
        reply = None if fault.kind == "drop" else self._fault_reply(fault)
        label = "drop" if reply is None else f"{fault.kind}:{reply.status}"
        self._record(incoming, name, params, token, reply, fault=label)
        return True, reply, fault

    def _parse_params(self, incoming: _Incoming) -> tuple[dict[str, Any], dict[str, Any], bool, str | None]:
        """Return (query params, body params, is_json, parse error)."""
        query = dict(parse_qsl(incoming.query, keep_blank_values=True))
        ctype = incoming.content_type.split(";")[0].strip().lower()
        body: dict[str, Any] = {}
        if ctype == "application/json":
            try:
                data = json.loads(incoming.body or b"{}")
            except ValueError:
                return query, body, True, "invalid_json"
            if not isinstance(data, dict):
                return query, body, True, "json_not_object"
            return query, data, True, None
        if ctype == "multipart/form-data":
            return query, _parse_multipart(incoming.content_type, incoming.body), False, None
        if incoming.body:
            text = incoming.body.decode("utf-8", "replace")
            body = dict(parse_qsl(text, keep_blank_values=True))
        return query, body, False, None

    def _serve_api(self, incoming: _Incoming, method: str) -> _Reply | None:
        query, body, is_json, parse_error = self._parse_params(incoming)
        auth = incoming.headers.get("Authorization", "")
        token: str | None = auth[7:].strip() if auth.lower().startswith("bearer ") else None
        # Slack reads a token from the query or a form field, never from a JSON body.
        token = token or query.pop("token", None) or (None if is_json else body.get("token"))
        if not is_json:
            body.pop("token", None)
        params = {**query, **body}
        handled, reply, fault = self._apply_fault(incoming, method, params, token)
        if handled:
            return reply
        reply = self._dispatch(method, params, token, is_json, parse_error, incoming)
        if fault is not None:  # drop after processing
            self._record(incoming, method, params, token, None, fault="drop-after-processing")
            return None
        self._record(incoming, method, params, token, reply)
        return reply

    def _dispatch(
        self,
        method: str,
        params: dict[str, Any],
        token: str | None,
        is_json: bool,
        parse_error: str | None,
        incoming: _Incoming,
    ) -> _Reply:
        handler = HANDLERS.get(method)
        if handler is None:
            return _Reply.json(200, {"ok": False, "error": "unknown_method", "req_method": method})
        if parse_error:
            return _Reply.json(200, {"ok": False, "error": parse_error})
        if not token:
            return _Reply.json(200, {"ok": False, "error": "not_authed"})
        kind = {self.bot_token: "bot", self.app_token: "app"}.get(token)
        if kind is None:
            return _Reply.json(200, {"ok": False, "error": "invalid_auth"})
        if (kind == "app") != (method in APP_TOKEN_METHODS):
            return _Reply.json(200, {"ok": False, "error": "not_allowed_token_type"})
        limited = self._rate_limited(method, incoming.time)
        if limited is not None:
            return limited
        try:
            result = handler(self, ApiRequest(method, params, token, kind))
        except SlackError as err:
            result = err.as_dict()
        if is_json and "charset" not in incoming.content_type.lower():
            result.setdefault("warning", "missing_charset")
            result.setdefault("response_metadata", {"warnings": ["missing_charset"]})
        return _Reply.json(200, result)

    def _serve_upload(self, incoming: _Incoming, key: str) -> _Reply | None:
        handled, reply, fault = self._apply_fault(incoming, "file_upload", {}, None)
        if handled:
            return reply
        data = incoming.body
        if incoming.content_type.lower().startswith("multipart/form-data"):
            fields = _parse_multipart(incoming.content_type, incoming.body)
            data = next((v for v in fields.values() if isinstance(v, bytes)), b"")
        with self.lock:
            file_id = self._upload_keys.get(key)
            upload = self._uploads.get(file_id or "")
            if upload is not None:
                upload["data"] = data
        params = {"file_id": file_id, "size": len(data)}
        if upload is None:
            self.add_violation(f"upload to unknown or completed upload_url {incoming.path}")
            reply = _Reply(404, b"invalid upload url\n", "text/plain")
        else:
            if len(data) != upload["length"]:
                self.add_violation(
                    f"file {file_id}: uploaded {len(data)} bytes, "
                    f"files.getUploadURLExternal declared {upload['length']}"
                )
            reply = _Reply(200, f"OK - {len(data)}".encode(), "text/plain; charset=utf-8")
        if fault is not None:
            self._record(incoming, "file_upload", params, None, None, fault="drop-after-processing")
            return None
        self._record(incoming, "file_upload", params, None, reply)
        return reply

    def _parse_response_body(self, incoming: _Incoming) -> dict[str, Any] | None:
        text = incoming.body.decode("utf-8", "replace")
        if incoming.content_type.lower().startswith("application/x-www-form-urlencoded"):
            text = dict(parse_qsl(text, keep_blank_values=True)).get("payload", "")
        try:
            data = json.loads(text)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def _serve_response_url(self, incoming: _Incoming) -> _Reply | None:
        body = self._parse_response_body(incoming)
        params = body if body is not None else {}
        handled, reply, fault = self._apply_fault(incoming, "response_url", params, None)
        if handled:
            return reply
        reply = self._respond(incoming, body)
        if fault is not None:
            self._record(incoming, "response_url", params, None, None, fault="drop-after-processing")
            return None
        self._record(incoming, "response_url", params, None, reply)
        return reply

    def _respond(self, incoming: _Incoming, body: dict[str, Any] | None) -> _Reply:
        url = f"{self.base_url}{incoming.path}"
        with self.lock:
            entry = self._response_urls.get(incoming.path)
        if entry is None:
            self.add_violation(f"post to unknown response_url {url}")
            return _Reply.json(404, {"ok": False, "error": "no_service"})
        if body is None:
            self.add_violation(f"response_url {url}: body is not a JSON object")
            return _Reply.json(400, {"ok": False, "error": "invalid_payload"})
        if incoming.time - entry.created > self.response_url_ttl:
            self.add_violation(f"response_url {url} used after it expired (30 minutes)")
            return _Reply.json(404, {"ok": False, "error": "expired_url"})
        with self.lock:
            refused = entry.uses >= RESPONSE_URL_MAX_USES
            if not refused:
                entry.uses += 1
        if refused:
            self.add_violation(f"response_url {url} posted more than {RESPONSE_URL_MAX_USES} times")
            return _Reply.json(404, {"ok": False, "error": "used_url"})
        result = check_message(body, require_content=not _truthy(body.get("delete_original")))
        if not result.ok:
            self.add_violation(f"response_url {url}: {result.error}: " + "; ".join(result.details))
            return _Reply.json(400, {"ok": False, "error": result.error, "errors": result.details})
        with self.lock:
            entry.posts.append(copy.deepcopy(body))
            self._response_log.append((url, copy.deepcopy(body)))
        self._apply_response_effects(entry, body)
        return _Reply.json(200, {"ok": True})

    def _apply_response_effects(self, entry: _ResponseUrl, body: dict[str, Any]) -> None:
        channel, ts = entry.channel_id, entry.message_ts
        if _truthy(body.get("delete_original")):
            if channel and ts:
                self.delete_message(channel, ts)
            return
        if _truthy(body.get("replace_original")) and channel and ts:
            if self.message(channel, ts) is not None:
                self.update_message(channel, ts, body)
            return
        if body.get("response_type") == "in_channel" and channel:
            self.store_message(channel, body)
            return
        entry_record = {
            "channel": channel,
            "user": entry.user_id,
            "ts": self._next_ts(),
            "source": "response_url",
            **self._message_fields(body),
        }
        with self.lock:
            self._ephemerals.append(entry_record)
