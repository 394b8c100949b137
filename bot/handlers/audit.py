"""`/docker audit [--user U] [-n N]`: who did what, for admins."""

from __future__ import annotations

import re

from bot.errors import UsageError
from bot.handlers.context import Context
from bot.handlers.dispatch import handles
from bot.views import audit as audit_views
from bot.views.message import Message

DEFAULT_ROWS = 20
MAX_ROWS = 500
# Slack turns a typed @mention into `<@U123|name>`; a bare ID is accepted too.
_MENTION = re.compile(r"^<@(?P<id>[UW][A-Z0-9]+)(\|[^>]*)?>$")


def user_filter(value: str | None) -> str | None:
    """The user ID `--user` names, from a bare ID, a console name or a Slack mention."""
    if not value:
        return None
    match = _MENTION.match(value.strip())
    return match.group("id") if match else value.strip().lstrip("@")


@handles("audit")
def audit(ctx: Context) -> Message:
    inv = ctx.invocation
    limit = inv.opt("last") if inv.opt("last") is not None else DEFAULT_ROWS
    if not 1 <= limit <= MAX_ROWS:
        raise UsageError(f"-n must be between 1 and {MAX_ROWS} (got {limit}).",
                         detail="Example: /docker audit -n 50")
    user_id = user_filter(inv.opt("user"))
    # Without this command's own row (written before it ran, still `running`).
    rows = [row for row in ctx.services.store.audit_rows(user_id=user_id, limit=limit + 1)
            if row.id != ctx.audit_id][:limit]
    return audit_views.trail(rows, user_id=user_id, limit=limit)
