"""The audit trail as people read it: one line for the audit channel, a table for `audit`."""

from __future__ import annotations

from datetime import UTC

from bot.mrkdwn import Mrkdwn, channel_mention, escape, md, user_mention
from bot.store import AuditRow
from bot.views import blocks
from bot.views.format import table, truncate
from bot.views.message import Message
from bot.views.output import text_output

_ICONS = {"ok": ":white_check_mark:", "error": ":x:", "refused": ":no_entry:",
          "invalid": ":warning:", "internal": ":x:", "preview": ":eyes:",
          "confirmed": ":ballot_box_with_check:", "cancelled": ":heavy_multiplication_x:",
          "expired": ":hourglass:"}


def who(row: AuditRow) -> Mrkdwn:
    return user_mention(row.user_id) if row.source == "slack" else md("{} ({})", row.user_id,
                                                                      row.source)


def line(row: AuditRow) -> Mrkdwn:
    """One line per audit row, for the audit channel."""
    where = md(" in {}", channel_mention(row.channel_id)) \
        if row.source == "slack" and row.channel_id else Mrkdwn()
    host = md(" on `{}`", row.host) if row.host else Mrkdwn()
    icon = _ICONS.get(row.outcome, ":grey_question:")
    text = escape(truncate(row.text, 300) or "(empty)")
    return md("{} {}{}: `docker {}`{} → {}/{} ({:,} ms)", icon, who(row), where, text, host,
              row.decision, row.outcome, row.duration_ms)


def trail(rows: list[AuditRow], *, user_id: str | None, limit: int) -> Message:
    """`/docker audit`: the newest rows first, as a table."""
    scope = f" by `{user_id}`" if user_id else ""
    if not rows:
        text = f"No audit rows{scope} yet."
        return Message(text=text, blocks=(blocks.section(text),))
    body = [(_when(row), row.user_id, row.channel_id or row.source, truncate(row.text, 60),
             row.decision, row.outcome, f"{row.duration_ms:,}") for row in rows]
    title = f"*Audit: the last {len(rows)} of at most {limit} rows*{scope}"
    return text_output(title, table(("TIME (UTC)", "USER", "WHERE", "COMMAND", "DECISION",
                                     "OUTCOME", "MS"), body), filename="audit.txt")


def _when(row: AuditRow) -> str:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)  # SQLite drops the zone
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
