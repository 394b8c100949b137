"""The Slack app manifests ask for exactly the scopes the code needs: none missing, none extra."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient

from bot.commands import TABLE
from tests.bot_rig import BotProcess

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = ("config/slack-app-manifest.yml", "config/slack-app-manifest.http.yml")

# The bot scope each Web API method needs (https://api.slack.com/methods). None: no bot scope
# (auth.test; apps.connections.open uses the app-level token's connections:write).
SCOPE_OF_METHOD: dict[str, str | None] = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "files.upload.v2": "files:write",  # files_upload_v2: getUploadURLExternal + complete...
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.info": "files:read",
    "usergroups.users.list": "usergroups:read",
    "usergroups.list": "usergroups:read",
    "users.info": "users:read",
    "conversations.info": "channels:read",
    "auth.test": None,
    "apps.connections.open": None,
    "views.publish": None,  # the App Home tab (app_home_opened needs no scope either)
}
# Downloading a file shared in Slack (its url_private) with the bot token needs files:read.
FILE_DOWNLOAD = re.compile(r"url_private")
_CALL = re.compile(r"\.([a-z]+(?:_[A-Za-z0-9]+)+)\(")
_API_CALL = re.compile(r"api_call\(\s*[\"']([a-zA-Z.]+)[\"']")
_CLIENT_METHODS = {name for name, value in vars(WebClient).items()
                   if callable(value) and not name.startswith("_")}


def api_method(python_name: str) -> str:
    """`chat_postMessage` -> `chat.postMessage`, `files_upload_v2` -> `files.upload.v2`."""
    return python_name.replace("_", ".")


def methods_called(source: str) -> set[str]:
    """The Web API methods a piece of source calls through a slack_sdk WebClient."""
    found = {api_method(name) for name in _CALL.findall(source) if name in _CLIENT_METHODS}
    return found | set(_API_CALL.findall(source))


def bot_sources() -> dict[str, str]:
    return {str(path.relative_to(ROOT)): path.read_text() for path in (ROOT / "bot").rglob("*.py")}


def needed_scopes() -> tuple[set[str], dict[str, set[str]]]:
    """Every bot scope the code needs, and which files call each method (for messages)."""
    scopes = {"commands"}  # the /docker slash command itself
    callers: dict[str, set[str]] = {}
    for path, source in bot_sources().items():
        for method in methods_called(source):
            callers.setdefault(method, set()).add(path)
        if FILE_DOWNLOAD.search(source):
            scopes.add("files:read")
    # `cp - NAME:/path <Slack file link>` is in the grammar: the bot fetches shared files.
    if any(arg.name == "SLACK_FILE_LINK" for arg in TABLE["cp"].args):
        scopes.add("files:read")
    unknown = sorted(set(callers) - set(SCOPE_OF_METHOD))
    assert not unknown, (f"the code calls {unknown} ({[sorted(callers[m]) for m in unknown]}): "
                         "add each to SCOPE_OF_METHOD with the scope Slack documents for it")
    scopes |= {scope for method in callers if (scope := SCOPE_OF_METHOD[method])}
    return scopes, callers


def manifest(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def test_the_scan_finds_calls_in_the_shapes_the_code_uses() -> None:
    source = ("self.client.chat_postMessage(channel=c)\nclient.files_upload_v2(content=b)\n"
              "client.api_call('users.info')\nresponder.send(message)\n")
    assert methods_called(source) == {"chat.postMessage", "files.upload.v2", "users.info"}


def test_the_code_calls_what_the_bot_is_known_to_need() -> None:
    _, callers = needed_scopes()
    assert {"chat.postMessage", "chat.update", "files.upload.v2"} <= set(callers)


@pytest.mark.parametrize("path", MANIFESTS)
def test_manifest_scopes_are_exactly_what_the_code_needs(path: str) -> None:
    needed, callers = needed_scopes()
    granted = set(manifest(path)["oauth_config"]["scopes"]["bot"])
    missing, extra = needed - granted, granted - needed
    assert not missing, f"{path} lacks {sorted(missing)}, which the code needs ({callers})"
    assert not extra, f"{path} grants {sorted(extra)}, which no code uses: remove them"
    assert "user" not in manifest(path)["oauth_config"]["scopes"], "dockops needs no user scopes"


@pytest.mark.parametrize("path", MANIFESTS)
def test_manifest_declares_the_command_bot_user_and_interactivity(path: str) -> None:
    data = manifest(path)
    (command,) = data["features"]["slash_commands"]
    assert command["command"] == "/docker" and command["usage_hint"]
    assert command["should_escape"] is False  # the parser reads the text as typed
    assert data["features"]["bot_user"]["display_name"] == "dockops"
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert len(data["display_information"]["long_description"]) >= 175  # Slack's minimum


def test_socket_mode_manifest_has_no_urls_and_http_one_points_at_slack_events() -> None:
    socket, http = manifest(MANIFESTS[0]), manifest(MANIFESTS[1])
    assert socket["settings"]["socket_mode_enabled"] is True
    assert "url" not in socket["features"]["slash_commands"][0]
    assert "request_url" not in socket["settings"]["interactivity"]
    assert http["settings"]["socket_mode_enabled"] is False
    assert http["features"]["slash_commands"][0]["url"] == "https://YOUR-HOST/slack/events"
    assert http["settings"]["interactivity"]["request_url"] == "https://YOUR-HOST/slack/events"
    # Everything else is the same app.
    for data in (socket, http):
        data["features"]["slash_commands"][0].pop("url", None)
        data["settings"]["interactivity"].pop("request_url", None)
        data["settings"]["event_subscriptions"].pop("request_url", None)
        data["settings"].pop("socket_mode_enabled")
    assert socket == http


@pytest.mark.parametrize("path", MANIFESTS)
def test_manifest_subscribes_exactly_to_the_events_the_bot_listens_to(path: str) -> None:
    """The App Home tab is the only event: incidents come from the engine, not from Slack."""
    data = manifest(path)
    listened = set()
    for source in bot_sources().values():
        listened |= set(re.findall(r"app\.event\(\s*[\"']([a-z_]+)[\"']", source))
    assert set(data["settings"]["event_subscriptions"]["bot_events"]) == listened
    assert listened == {"app_home_opened"}
    assert data["features"]["app_home"]["home_tab_enabled"] is True


def test_calls_slack_receives_from_a_running_bot_are_covered_by_the_manifest(
        bot_server: BotProcess, make_container) -> None:
    """The dynamic check: what the real bot called on the stand-in needs only granted scopes."""
    container = make_container()
    for text in ("help", "version", "ps -a", f"inspect --raw {container.name}", "logs nosuch"):
        bot_server.ask(text)
    bot_server.slack.wait_for_calls("files.completeUploadExternal")
    granted = set(manifest(MANIFESTS[0])["oauth_config"]["scopes"]["bot"])
    # response_url posts and upload_url bytes are not Web API methods: no scope.
    called = {call.method for call in bot_server.slack.calls} - {"response_url", "file_upload"}
    unknown = called - set(SCOPE_OF_METHOD)
    assert not unknown, f"the bot called {sorted(unknown)}: add them to SCOPE_OF_METHOD"
    needed = {scope for method in called if (scope := SCOPE_OF_METHOD[method])}
    assert needed <= granted
