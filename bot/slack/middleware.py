"""Global Bolt middleware: requests from a workspace or app other than ours go no further.

A valid signature proves a request came from Slack for an app holding our signing secret, not
that it came from our workspace (an app installed in several workspaces, a leaked secret
reused by another app); in Socket Mode nothing is signed at all. `[slack] team_ids` and
`app_ids` name who may talk to this bot; everyone else is refused before any listener runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse

from bot.config import SlackConfig

log = logging.getLogger("dockops.slack")

REFUSED = "This dockops serves another Slack workspace or app: nothing was run."


def team_and_app(body: dict[str, Any]) -> tuple[str, str]:
    """The workspace and app a request names: `team_id` (slash commands, events) or `team.id`
    (interactions), and `api_app_id`."""
    team = body.get("team_id") or (body.get("team") or {}).get("id") or ""
    return str(team), str(body.get("api_app_id") or "")


def foreign(slack: SlackConfig, body: dict[str, Any]) -> str:
    """Why the request is not ours ("" when it is): the unexpected team or app, or a missing one."""
    team, app_id = team_and_app(body)
    if slack.team_ids and team not in slack.team_ids:
        return f"team_id {team or '(none)'!r} is not in [slack] team_ids"
    if slack.app_ids and app_id not in slack.app_ids:
        return f"api_app_id {app_id or '(none)'!r} is not in [slack] app_ids"
    return ""


def only_our_workspace(slack: SlackConfig) -> Callable[..., BoltResponse | None]:
    """The middleware: calls `next_()` for our team and app, answers the rest itself."""

    def middleware(body: dict[str, Any], next_: Callable[[], None]) -> BoltResponse | None:
        reason = foreign(slack, body)
        if not reason:
            next_()
            return None
        log.warning("refused a request from another workspace or app: %s", reason,
                    extra={"kind": body.get("type") or ("slash_command" if "command" in body
                                                        else "unknown"),
                           "user_id": body.get("user_id") or (body.get("user") or {}).get("id")})
        if "command" in body:  # a slash command: say why, once, to whoever typed it
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": REFUSED})
        return BoltResponse(status=200, body="")

    return middleware


def register(app: App, slack: SlackConfig) -> None:
    """Wire the workspace check when [slack] team_ids or app_ids is set."""
    if slack.team_ids or slack.app_ids:
        app.use(only_our_workspace(slack))
