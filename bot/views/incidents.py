"""Incidents in Slack: the incident message, its thread replies, gaps, quiet-hour summaries,
and the `alerts` commands' answers."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.incidents.notices import (
    INSPECT_ACTION,
    LOGS_ACTION,
    MUTE_ACTION,
    RESOLVE_ACTION,
    RESTART_ACTION,
    ROLLBACK_ACTION,
    TASKS_ACTION,
    EventGap,
    IncidentCard,
    IncidentNotice,
    IncidentReply,
    QuietSummary,
)
from bot.mrkdwn import Mrkdwn, md
from bot.units import human_duration
from bot.views import blocks
from bot.views.message import Message

_WHAT = {"die": "died", "oom": "was OOM-killed", "unhealthy": "is unhealthy",
         "restart_loop": "is in a restart loop", "task_failed": "has a failed task"}
_ICON = {"open": ":rotating_light:", "recovered": ":white_check_mark:",
         "resolved": ":ballot_box_with_check:"}


def render(notice: IncidentNotice) -> Message:
    """The Slack message for an incident notice (the outbox calls this at delivery)."""
    match notice:
        case IncidentCard():
            return card(notice)
        case IncidentReply():
            return reply(notice)
        case EventGap():
            return gap(notice)
        case QuietSummary():
            return quiet_summary(notice)
    raise TypeError(f"no view for {type(notice).__name__}")


def exit_text(code: int, oom: bool = False) -> str:
    """`exit code 137 (SIGKILL), OOMKilled`."""
    text = f"exit code {code}"
    if code > 128:
        with contextlib.suppress(ValueError):
            text += f" ({signal.Signals(code - 128).name})"
    return text + (", OOMKilled" if oom else "")


def compact(seconds: float) -> str:
    """4m, 35s, 2h 5m, 3d 1h: how long, short."""
    value = int(max(0, seconds))
    if value < 60:
        return f"{value}s"
    if value < 3600:
        return f"{value // 60}m"
    if value < 86400:
        return f"{value // 3600}h {value % 3600 // 60}m".replace(" 0m", "")
    return f"{value // 86400}d {value % 86400 // 3600}h".replace(" 0h", "")


def _when(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _happened(notice: IncidentCard) -> str:
    if notice.kind == "unhealthy":
        return "health check failing"
    if notice.kind == "oom" or notice.oom_killed:
        return "OOMKilled" + (f" ({exit_text(notice.exit_code)})" if notice.exit_code else "")
    return exit_text(notice.exit_code)


def headline(notice: IncidentCard) -> str:
    what = _WHAT.get(notice.kind, notice.kind)
    if notice.oom_killed and notice.kind != "unhealthy":
        what = _WHAT["oom"] if notice.kind != "restart_loop" else what
    state = ""
    if notice.state == "recovered":
        state = f" — recovered after {compact(notice.recovered_after)}"
    elif notice.state == "resolved":
        state = f" — resolved by {notice.closed_by}"
    return f"{notice.container} {what} on {notice.host}{state}"


def task_error(state: str, error: str) -> str:
    """`failed: task: non-zero exit (1)`, `rejected: No such image: ...`: what Swarm says."""
    return f"{state}: {error}" if error else (state or "failed")


def service_card(notice: IncidentCard) -> Message:
    """A service's failed tasks: which task, on which node, from which image, and why."""
    title = headline(notice)
    icon = _ICON.get(notice.state, ":rotating_light:")
    image = notice.image + (f" ({notice.digest.rsplit('@', 1)[-1][:19]})" if notice.digest
                            else "")
    happened = task_error(notice.task_state, notice.error)
    pairs: list[tuple[str, str]] = [
        ("Service", f"`{notice.container}` ({notice.container_id[:12]})"),
        ("Host", notice.host),
        ("Task", f"`{notice.task}` ({notice.task_id[:12]})"), ("Node", notice.node or "unknown"),
        ("Image", image or "unknown"), ("What happened", md("`{}`", happened)),
        ("Failed tasks", str(notice.count)), ("Rule", notice.rule)]
    parts: list[dict[str, Any]] = [blocks.section(md("{} *{}*", icon, title)),
                                   *blocks.fields(pairs),
                                   blocks.context(md("Opened {}", _when(notice.opened_at)))]
    if notice.state == "open":
        tokens = notice.buttons
        row = [button for button in (
            blocks.button("Tasks", TASKS_ACTION, tokens.tasks) if tokens.tasks else None,
            blocks.button("Logs -f", LOGS_ACTION, tokens.logs) if tokens.logs else None,
            blocks.button("Inspect", INSPECT_ACTION, tokens.inspect) if tokens.inspect else None,
            blocks.button("Mute 1h", MUTE_ACTION, tokens.mute) if tokens.mute else None,
            blocks.button("Resolve", RESOLVE_ACTION, tokens.resolve) if tokens.resolve else None,
        ) if button is not None]
        if row:
            parts.append(blocks.buttons(*row))
    text = f"{title}: {happened}" + (f" ({notice.count}x)" if notice.count > 1 else "")
    return Message(text=text, blocks=tuple(parts))


def card(notice: IncidentCard) -> Message:
    """The incident: what happened, where, since when, the last lines, the last change."""
    if notice.kind == "task_failed":
        return service_card(notice)
    title = headline(notice)
    icon = _ICON.get(notice.state, ":rotating_light:")
    image = notice.image + (f" ({notice.digest.rsplit('@', 1)[-1][:19]})" if notice.digest
                            else "")
    pairs: list[tuple[str, str]] = [
        ("Container", f"`{notice.container}` ({notice.container_id[:12]})"),
        ("Host", notice.host), ("Image", image or "unknown"),
        ("What happened", _happened(notice)),
        ("Restart count", str(notice.restart_count)),
        ("Had been running", compact(notice.ran_seconds) if notice.ran_seconds >= 0
         else "unknown"),
        ("Occurrences", str(notice.count)
         + (f" (restart loop: {notice.loop_restarts} restarts within {notice.loop_window})"
            if notice.loop_restarts else "")),
        ("Rule", notice.rule)]
    if notice.change_command:
        pairs.append(("Last change", md("`{}` by {}, {}", notice.change_command,
                                        notice.change_by or "?", _when(notice.change_at))))
    parts: list[dict[str, Any]] = [blocks.section(md("{} *{}*", icon, title)),
                                   *blocks.fields(pairs)]
    if notice.health_output:
        parts.append(blocks.context(md("Last health check: `{}`",
                                       notice.health_output.replace("\n", " ")[:500])))
    if notice.log_lines:
        tail = notice.log_tail.rstrip("\n")
        parts.append(blocks.context(md("Last {} log lines before the event:", notice.log_lines)))
        parts.append(blocks.code(blocks.tail_snippet(tail) if tail else "(no output)"))
    parts.append(blocks.context(md("Opened {}", _when(notice.opened_at))))
    if notice.state == "open":
        tokens = notice.buttons
        row = [button for button in (
            blocks.button("Restart", RESTART_ACTION, tokens.restart, style="primary")
            if tokens.restart else None,
            blocks.button("Logs -f", LOGS_ACTION, tokens.logs) if tokens.logs else None,
            blocks.button("Inspect", INSPECT_ACTION, tokens.inspect) if tokens.inspect else None,
            blocks.button("Roll back", ROLLBACK_ACTION, tokens.rollback, style="danger")
            if tokens.rollback else None,
            blocks.button("Mute 1h", MUTE_ACTION, tokens.mute) if tokens.mute else None,
            blocks.button("Resolve", RESOLVE_ACTION, tokens.resolve) if tokens.resolve else None,
        ) if button is not None]
        if row:
            parts.append(blocks.buttons(*row))
    text = f"{title}: {_happened(notice)}" + (f" ({notice.count}x)" if notice.count > 1 else "")
    return Message(text=text, blocks=tuple(parts))


def reply(notice: IncidentReply) -> Message:
    """A line in the incident's thread."""
    if notice.what == "recovered":
        text = md(":white_check_mark: `{}` recovered after {}: running again.", notice.container,
                  compact(notice.seconds))
    elif notice.what == "resolved":
        text = md(":ballot_box_with_check: Resolved by {}.", notice.by)
    elif notice.what == "loop":
        text = md(":repeat: `{}` is in a restart loop: {} restarts within {}. Further restarts "
                  "only move the counter in the message.", notice.container, notice.restarts,
                  compact(notice.seconds))
    elif notice.kind == "task_failed":
        text = md(":rotating_light: `{}` task `{}` failed again on node `{}`: `{}` "
                  "(failed task {}).", notice.container, notice.task, notice.node or "?",
                  notice.error or "failed", notice.count)
    else:
        what = {"oom": "was OOM-killed", "unhealthy": "is unhealthy again"}.get(
            notice.kind, f"died again: {exit_text(notice.exit_code, notice.oom_killed)}")
        text = md(":rotating_light: `{}` {} (occurrence {}).", notice.container, what,
                  notice.count)
        if notice.health_output:
            text = md("{} Last health check: `{}`", text,
                      notice.health_output.replace("\n", " ")[:300])
    return Message(text=text, blocks=(blocks.section(text),))


def gap(notice: EventGap) -> Message:
    lines = [md("• `{}`: {}", item.name, exit_text(item.exit_code, item.oom_killed))
             for item in notice.stopped[:40]]
    head = md(":warning: The events of *{}* between {} and {} could not be replayed (the "
              "engine restarted or dropped them). {} container(s) watched by rule {} stopped "
              "in that time:", notice.host, _when(notice.since), _when(notice.until),
              len(notice.stopped), notice.rule)
    body = Mrkdwn("\n").join(lines)
    return Message(text=head, blocks=(blocks.section(head), blocks.section(body)))


def quiet_summary(notice: QuietSummary) -> Message:
    head = md(":crescent_moon: Rule {} recorded {} incident(s) during its quiet hours ({} UTC):",
              notice.rule, len(notice.incidents), notice.quiet_hours)
    lines = [md("• {} `{}` on {}: {}{}", _when(item.opened_at), item.container, item.host,
                "OOMKilled" if item.kind == "oom" else
                ("unhealthy" if item.kind == "unhealthy" else
                 "tasks failed" if item.kind == "task_failed" else exit_text(item.exit_code)),
                f" ({item.count}x)" if item.count > 1 else "")
             for item in notice.incidents[:40]]
    return Message(text=head, blocks=(blocks.section(head), blocks.section(Mrkdwn("\n").join(lines))))


# -- the alerts commands -------------------------------------------------------------------

def rule_lines(rules: Sequence[tuple[str, str, str, str, str, int]]) -> list[str]:
    """`name`: events on hosts -> channel (muted until ...), N open."""
    return [md("• *{}*: {} on {} → {}{}, {} open", name, events, hosts, channel,
               f" (muted {muted})" if muted else "", count)
            for name, events, hosts, channel, muted, count in rules]


def alert_list(rules: Sequence[tuple[str, str, str, str, str, int]],
               incidents: Sequence[tuple[int, str, str, str, str, int, float]],
               note: str = "") -> Message:
    """`alerts`: the rules and the open incidents."""
    if not rules:
        text = "No alert rules are configured: add [[alerts]] to the config " \
               "(config/dockops.example.toml shows one)."
        return Message(text=text, blocks=(blocks.section(text),))
    parts = [blocks.section(md("*Alert rules* ({})", len(rules))),
             blocks.section(Mrkdwn("\n").join(rule_lines(rules)))]
    if incidents:
        lines = [md("• #{} `{}` on {} ({}): {}, {}x, opened {}", number, container, host, rule,
                    kind, count, _when(opened))
                 for number, rule, container, host, kind, count, opened in incidents[:40]]
        parts += [blocks.section(md("*Open incidents* ({})", len(incidents))),
                  blocks.section(Mrkdwn("\n").join(lines))]
    else:
        parts.append(blocks.section("No open incidents."))
    if note:
        parts.append(blocks.context(note))
    return Message(text=f"{len(rules)} alert rule(s), {len(incidents)} open incident(s)",
                   blocks=tuple(parts))


def history(rule: str, rows: Sequence[tuple[int, str, str, str, str, int, float, str]]) -> Message:
    """`alerts history [RULE]`: recent incidents, newest first."""
    scope = f" of rule {rule}" if rule else ""
    if not rows:
        text = f"No incidents{scope} yet."
        return Message(text=text, blocks=(blocks.section(text),))
    lines = [md("• #{} {} `{}` on {} ({}): {}, {}x, {}", number, _when(opened), container, host,
                name, kind, count, state)
             for number, name, container, host, kind, count, opened, state in rows]
    head = f"Last {len(rows)} incident(s){scope}"
    return Message(text=head, blocks=(blocks.section(md("*{}*", head)),
                                      blocks.section(Mrkdwn("\n").join(lines))))


def muted(rule: str, container: str, until: float, by: str) -> Message:
    what = md("`{}` in rule {}", container, rule) if container else md("rule {}", rule)
    text = md(":mute: {} muted until {} by {}: its incidents are not posted meanwhile.", what,
              _when(until), by)
    return Message(text=text, blocks=(blocks.section(text),))


def unmuted(rule: str, count: int) -> Message:
    text = md(":loud_sound: Rule {} unmuted ({} mute(s) lifted).", rule, count) if count else \
        md("Rule {} was not muted; nothing changed.", rule)
    return Message(text=text, blocks=(blocks.section(text),))


def resolved(number: int, container: str, by: str) -> Message:
    text = md(":ballot_box_with_check: Incident #{} (`{}`) resolved by {}.", number, container, by)
    return Message(text=text, blocks=(blocks.section(text),))


def rollback_preview(number: int, container: str, host: str, image_id: str, image: str
                     ) -> Message:
    text = md(":warning: Roll back `{}` on {} (incident #{}): it is recreated with the same "
              "config on the image it ran before dockops recreated it, `{}` ({}). The current "
              "container is replaced.", container, host, number, image or "?", image_id[:19])
    return Message(text=text, blocks=(blocks.section(text),))


def duration_words(seconds: float) -> str:
    return human_duration(seconds)
