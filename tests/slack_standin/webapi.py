"""Web API methods of the stand-in, one function per method."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .records import UploadedFile

if TYPE_CHECKING:
    from .server import SlackStandIn


class SlackError(Exception):
    """A Slack ``{"ok": false, "error": ...}`` answer (HTTP 200)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        """The JSON body Slack answers with."""
        return {"ok": False, "error": self.error, **self.extra}


@dataclass(frozen=True)
class ApiRequest:
    """A parsed, authenticated Web API request."""

    method: str
    params: dict[str, Any]
    token: str
    token_kind: str


Handler = Callable[["SlackStandIn", ApiRequest], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
# Methods an app-level (xapp-) token may call; every other method needs the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


def api(name: str) -> Callable[[Handler], Handler]:
    """Register a function as the implementation of Web API method ``name``."""

    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("1", "true"))


def _decode_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise SlackError("invalid_arguments") from exc
    return value


def _required(params: dict[str, Any], name: str, error: str = "invalid_arguments") -> str:
    value = params.get(name)
    if value in (None, ""):
        raise SlackError(error)
    return str(value)


@api("auth.test")
def auth_test(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Identity of the bot token."""
    return {
        "ok": True,
        "url": f"https://{s.team_domain}.slack.com/",
        "team": "Stand-in",
        "user": s.bot_name,
        "team_id": s.team_id,
        "user_id": s.bot_user_id,
        "bot_id": s.bot_id,
        "is_enterprise_install": False,
    }


@api("chat.postMessage")
def chat_post_message(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Post a message (optionally in a thread)."""
    channel = s.resolve_channel(req.params.get("channel"))
    s.check_outgoing_message(req.method, req.params)
    message = s.store_message(channel, req.params)
    return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}


@api("chat.update")
def chat_update(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Replace the text/blocks of an existing message."""
    channel = s.resolve_channel(req.params.get("channel"))
    ts = _required(req.params, "ts", "message_not_found")
    if s.message(channel, ts) is None:
        raise SlackError("message_not_found")
    s.check_outgoing_message(req.method, req.params)
    message = s.update_message(channel, ts, req.params)
    return {
        "ok": True,
        "channel": channel,
        "ts": ts,
        "text": message.get("text", ""),
        "message": message,
    }


@api("views.publish")
def views_publish(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Publish a user's App Home tab: the view's blocks are checked like a message's."""
    user = _required(req.params, "user_id", "invalid_arguments")
    view = _decode_json(req.params.get("view"))
    if not isinstance(view, dict) or view.get("type") != "home":
        raise SlackError("invalid_arguments")
    s.check_outgoing_message(req.method, {"blocks": view.get("blocks") or []})
    return {"ok": True, "view": {"id": f"V{user}", "type": "home", "user_id": user, **view}}


@api("chat.delete")
def chat_delete(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Delete a message."""
    channel = s.resolve_channel(req.params.get("channel"))
    ts = _required(req.params, "ts", "message_not_found")
    if not s.delete_message(channel, ts):
        raise SlackError("message_not_found")
    return {"ok": True, "channel": channel, "ts": ts}


@api("chat.postEphemeral")
def chat_post_ephemeral(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Post a message only ``user`` can see; Slack answers with ``message_ts`` only."""
    channel = s.resolve_channel(req.params.get("channel"))
    user = _required(req.params, "user", "user_not_found")
    s.check_outgoing_message(req.method, req.params)
    ts = s.store_ephemeral(channel, user, req.params)
    return {"ok": True, "message_ts": ts}


@api("users.info")
def users_info(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Profile of a user."""
    user = s.user_info(_required(req.params, "user", "user_not_found"))
    if user is None:
        raise SlackError("user_not_found")
    return {"ok": True, "user": user}


@api("usergroups.users.list")
def usergroups_users_list(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Members of a user group, from ``standin.usergroups``."""
    group = _required(req.params, "usergroup", "no_such_subteam")
    with s.lock:
        members = s.usergroups.get(group)
    if members is None:
        raise SlackError("no_such_subteam")
    return {"ok": True, "users": list(members)}


@api("conversations.info")
def conversations_info(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Minimal channel description."""
    channel = s.resolve_channel(req.params.get("channel"))
    return {"ok": True, "channel": s.channel_info(channel)}


@api("apps.connections.open")
def apps_connections_open(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Issue a Socket Mode websocket URL (app-level token only)."""
    return {"ok": True, "url": s.socket_mode.issue_url()}


@api("files.getUploadURLExternal")
def files_get_upload_url_external(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Step 1 of the v2 upload: reserve a file id and an upload URL."""
    filename = _required(req.params, "filename")
    try:
        length = int(_required(req.params, "length"))
    except ValueError as exc:
        raise SlackError("invalid_arguments") from exc
    if length < 0:
        raise SlackError("invalid_arguments")
    file_id, url = s.reserve_upload(
        filename,
        length,
        alt_txt=req.params.get("alt_txt"),
        snippet_type=req.params.get("snippet_type"),
    )
    return {"ok": True, "upload_url": url, "file_id": file_id}


@api("files.completeUploadExternal")
def files_complete_upload_external(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Step 3 of the v2 upload: finish uploads and share them."""
    files = _decode_json(req.params.get("files"))
    if not isinstance(files, list) or not files:
        raise SlackError("invalid_arguments")
    channel_id = req.params.get("channel_id") or None
    channels_raw = req.params.get("channels") or ""
    channels = tuple(c for c in str(channels_raw).split(",") if c)
    thread_ts = req.params.get("thread_ts") or None
    if thread_ts and len({*channels, *([channel_id] if channel_id else [])}) != 1:
        raise SlackError("invalid_arguments")  # thread_ts needs exactly one channel
    for target in [*([channel_id] if channel_id else []), *channels]:
        s.resolve_channel(target)
    pending = []
    for item in files:
        if not isinstance(item, dict) or "id" not in item:
            raise SlackError("invalid_arguments")
        upload = s.pending_upload(str(item["id"]))
        if upload is None or upload.get("data") is None:
            raise SlackError("file_not_found")
        pending.append((item, upload))
    completed = []
    for item, upload in pending:
        completed.append(
            s.complete_upload(
                UploadedFile(
                    file_id=upload["file_id"],
                    filename=upload["filename"],
                    title=item.get("title") or upload["filename"],
                    data=upload["data"],
                    declared_length=upload["length"],
                    channel_id=channel_id,
                    channels=channels,
                    thread_ts=thread_ts,
                    initial_comment=req.params.get("initial_comment") or None,
                    alt_txt=upload.get("alt_txt"),
                    snippet_type=upload.get("snippet_type"),
                )
            )
        )
    return {"ok": True, "files": completed}


@api("files.upload")
def files_upload(s: SlackStandIn, req: ApiRequest) -> dict[str, Any]:
    """Retired by Slack (November 2025): answer as Slack does and flag it."""
    s.add_violation("files.upload is retired by Slack; use files_upload_v2")
    raise SlackError("method_deprecated")


def new_file_id() -> str:
    """A Slack-shaped file id."""
    return "F" + secrets.token_hex(5).upper()
