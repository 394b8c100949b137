"""stats, port, wait, diff, history, events, update, rename as the docker CLI prints them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.engine.results import ContainerStats, Done, EngineEvent, FileChange, HistoryRow, Target
from bot.mrkdwn import md
from bot.units import ago, bytes_size, ellipsis, human_size, human_size_with_precision, short_id
from bot.views import blocks, gotemplate
from bot.views.format import table
from bot.views.message import Message
from bot.views.output import text_output

STATS_HEADERS = ("CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O",
                 "BLOCK I/O", "PIDS")
HISTORY_HEADERS = ("IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT")
# `--format` fields and their `table` headers, as docker/cli's formatter names them.
STATS_FIELDS = {"BlockIO": "BLOCK I/O", "CPUPerc": "CPU %", "Container": "CONTAINER",
                "ID": "CONTAINER ID", "MemPerc": "MEM %", "MemUsage": "MEM USAGE / LIMIT",
                "Name": "NAME", "NetIO": "NET I/O", "PIDs": "PIDS"}
HISTORY_FIELDS = {"Comment": "COMMENT", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY",
                  "CreatedSince": "CREATED", "ID": "IMAGE", "Size": "SIZE"}


def _where(host: str) -> str:
    return md(" on `{}`", host) if host else ""


# -- stats -------------------------------------------------------------------------------------

def _io(first: float, second: float) -> str:
    return f"{human_size_with_precision(first, 3)} / {human_size_with_precision(second, 3)}"


def stats_cells(row: ContainerStats, *, no_trunc: bool = False) -> tuple[str, ...]:
    """One row as docker/cli's stats formatter prints it (`--` where the engine gave nothing)."""
    ident = row.id if no_trunc else short_id(row.id)
    if not row.valid:
        return (ident, row.name, "--", "-- / --", "--", "--", "--", "--")
    return (ident, row.name, f"{row.cpu_percent:.2f}%",
            f"{bytes_size(row.memory)} / {bytes_size(row.memory_limit)}",
            f"{row.memory_percent:.2f}%", _io(row.net_rx, row.net_tx),
            _io(row.block_read, row.block_write), str(row.pids))


def stats_table(rows: Sequence[ContainerStats], *, no_trunc: bool = False) -> str:
    return table(STATS_HEADERS, [stats_cells(r, no_trunc=no_trunc) for r in rows], min_width=10)


def stats_fields(row: ContainerStats, container: str, *, no_trunc: bool = False
                 ) -> dict[str, str]:
    """One row's `--format` fields (keys sorted, as the CLI's `{{json .}}` prints them);
    `container`: the name or ID as typed, the short ID when none was."""
    ident, name, cpu, memory, memory_percent, net, block, pids = stats_cells(row, no_trunc=no_trunc)
    return {"BlockIO": block, "CPUPerc": cpu, "Container": container, "ID": ident,
            "MemPerc": memory_percent, "MemUsage": memory, "Name": name, "NetIO": net,
            "PIDs": pids}


def stats(rows: Sequence[ContainerStats], *, no_trunc: bool = False, all: bool = False,
          host: str = "", template: str | None = None, typed: Sequence[str] = ()) -> Message:
    """`docker stats --no-stream [--format TEMPLATE]`; `typed`: the names given, if any."""
    if not rows and template is None:
        hint = "" if all else " Add `-a` to include stopped ones."
        return Message(text="No containers.", blocks=(blocks.section(
            md("No running containers{}.", _where(host)) + hint),))
    noun = "container" if len(rows) == 1 else "containers"
    title = md("*Stats of {} {}*{}", len(rows), noun, _where(host))
    if template:
        names = list(typed) or [short_id(row.id) for row in rows]
        fields = [stats_fields(row, name, no_trunc=no_trunc)
                  for row, name in zip(rows, names, strict=False)]
        text = gotemplate.render_rows(template, fields, STATS_FIELDS)
        return text_output(title, text or "(no output)", filename="stats.txt")
    return text_output(title, stats_table(rows, no_trunc=no_trunc), filename="stats.txt")


def live_stats_title(names: Sequence[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:5]) + (f" and {len(names) - 5} more"
                                                      if len(names) > 5 else "")
    return md("*Stats of {}*", shown)


# -- port ------------------------------------------------------------------------------------

def _natural_key(text: str) -> list[object]:
    """sortorder.NaturalLess, as the CLI sorts `docker port`: digit runs compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _host_port(ip: str, port: str) -> str:
    """Go's net.JoinHostPort: an IPv6 address in brackets (`[::]:3000`)."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def port_lines(bindings: Mapping[str, Sequence[tuple[str, str]]], only: str | None = None
               ) -> list[str]:
    """`docker port` lines, naturally sorted: `80/tcp -> 0.0.0.0:3000`, or with a private port
    given, just `0.0.0.0:3000`."""
    if only is not None:
        lines = [_host_port(ip, host) for ip, host in bindings.get(only) or ()]
    else:
        lines = [f"{key} -> {_host_port(ip, host)}"
                 for key, found in bindings.items() for ip, host in found]
    return sorted(lines, key=_natural_key)


def port(container: str, bindings: Mapping[str, Sequence[tuple[str, str]]],
         only: str | None = None) -> Message:
    """`docker port`: one mapping a line, as the CLI sorts them."""
    lines = port_lines(bindings, only)
    if not lines:
        return Message(text=f"{container} publishes no ports.", blocks=(blocks.section(
            md("`{}` publishes no ports. (`-p HOST:CONTAINER` at `run` publishes one.)",
               container)),))
    return text_output(md("*Ports of `{}`*", container), "\n".join(lines) + "\n",
                       filename=f"{container.replace('/', '_')}-ports.txt")


# -- pause, unpause, rename, update ------------------------------------------------------------

def done(verb: str, results: Sequence[Done], *, host: str = "") -> Message:
    """`pause/unpause/update` of several containers: who succeeded, one line each that failed."""
    succeeded = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    parts = []
    if succeeded:
        names = ", ".join(f"`{r.name}`" for r in succeeded)
        parts.append(blocks.section(md(":white_check_mark: {} ", verb) + names + md(
            "{}.", _where(host))))
        notes = [f"{r.name}: {r.detail}" for r in succeeded if r.detail]
        if notes:
            parts.append(blocks.context("\n".join(notes)))
    for result in failed:
        parts.append(blocks.section(md(":x: `{}`: {}", result.name, result.error)))
    text = "; ".join(([f"{verb} {', '.join(r.name for r in succeeded)}"] if succeeded else [])
                     + [f"{r.name}: {r.error}" for r in failed])
    return Message(text=text, blocks=tuple(parts), ok=not failed)


def renamed(old: str, new: str, *, host: str = "") -> Message:
    return Message(text=f"Renamed {old} to {new}", blocks=(blocks.section(
        md(":white_check_mark: Renamed `{}` to `{}`{}.", old, new, _where(host))),))


def update_preview(targets: Sequence[Target], changes: str) -> Message:
    """`update` of several containers: what each will get, before anything changes."""
    count = f"{len(targets)} container{'s' if len(targets) != 1 else ''}"
    lines = "\n".join(f"{short_id(t.id)}   {t.name}   ({t.state})" for t in targets)
    message = text_output(md(":gear: *Update {}: {}?*", count, changes), lines,
                          filename="update-preview.txt",
                          note="Only these settings change; nothing is restarted.")
    return Message(text=message.text, blocks=message.blocks, attachment=message.attachment,
                   meta={"preview": True})


# -- wait ------------------------------------------------------------------------------------

def waited(codes: Sequence[tuple[str, int | None, str]], *, seconds: float) -> Message:
    """`docker wait`: an exit code a line, as the CLI prints them; the deadline said plainly."""
    lines = []
    failed = []
    running = []
    for name, code, error in codes:
        if error and code is None:
            failed.append((name, error))
        elif code is None:
            running.append(name)
        else:
            lines.append(str(code))
    parts = []
    if lines:
        parts.append(blocks.section(md("*Exit code{} of {}*", "s" if len(lines) > 1 else "",
                                       ", ".join(n for n, c, e in codes if c is not None))))
        parts.append(blocks.code("\n".join(lines)))
    if running:
        names = ", ".join(f"`{n}`" for n in running)
        parts.append(blocks.section(md(":hourglass_flowing_sand: ") + names + md(
            " {} still running after {:.0f} s: dockops stopped waiting (it keeps running).",
            "is" if len(running) == 1 else "are", seconds)))
        parts.append(blocks.context("The wait is bounded by `attached_run_seconds` in [limits]; "
                                    "`/docker logs -f NAME` follows one."))
    for name, error in failed:
        parts.append(blocks.section(md(":x: `{}`: {}", name, error)))
    text = " ".join(lines) if lines else "still running" if running else "failed"
    return Message(text=text, blocks=tuple(parts), ok=not failed)


# -- diff, history ---------------------------------------------------------------------------

def diff(container: str, changes: Sequence[FileChange]) -> Message:
    if not changes:
        return Message(text=f"No changes in {container}", blocks=(blocks.section(
            md("`{}` has no changes to its filesystem.", container)),))
    text = "\n".join(f"{c.kind} {c.path}" for c in changes) + "\n"
    return text_output(md("*Changes in `{}`* ({:,})", container, len(changes)), text,
                       filename=f"{container.replace('/', '_')}-diff.txt")


def _history_id(value: str, no_trunc: bool) -> str:
    if value == "<missing>" or no_trunc:
        return value
    return short_id(value)


def history_table(rows: Sequence[HistoryRow], *, no_trunc: bool = False,
                  now: datetime | None = None) -> str:
    """`docker history`: CREATED BY cut at 45 characters with `…` unless --no-trunc."""
    body = []
    for row in rows:
        created_by = row.created_by.replace("\t", " ")
        body.append((_history_id(row.id, no_trunc),
                     ago(row.created, now) if row.created else "N/A",
                     created_by if no_trunc else ellipsis(created_by, 45),
                     human_size(row.size), row.comment))
    return table(HISTORY_HEADERS, body, min_width=10)


def history_fields(row: HistoryRow, *, no_trunc: bool = False,
                   now: datetime | None = None) -> dict[str, str]:
    """One layer's `--format` fields (keys sorted, as the CLI's `{{json .}}` prints them)."""
    created_by = row.created_by.replace("\t", " ")
    created = row.created or datetime.fromtimestamp(0, UTC)
    return {"Comment": row.comment,
            "CreatedAt": f"{created.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
            "CreatedBy": created_by if no_trunc else ellipsis(created_by, 45),
            "CreatedSince": ago(row.created, now) if row.created else "N/A",
            "ID": _history_id(row.id, no_trunc), "Size": human_size(row.size)}


def history(image: str, rows: Sequence[HistoryRow], *, no_trunc: bool = False,
            quiet: bool = False, template: str | None = None) -> Message:
    title = md("*History of `{}`* ({} layer{})", image, len(rows), "" if len(rows) == 1 else "s")
    if quiet:
        ids = "\n".join(_history_id(r.id, no_trunc) for r in rows)
        return text_output(title, ids + "\n", filename="history-ids.txt")
    if template:
        text = gotemplate.render_rows(template, [history_fields(r, no_trunc=no_trunc)
                                                 for r in rows], HISTORY_FIELDS)
        return text_output(title, text or "(no output)", filename="history.txt")
    return text_output(title, history_table(rows, no_trunc=no_trunc), filename="history.txt")


# -- events ----------------------------------------------------------------------------------

def event_time(nano: int) -> str:
    """RFC 3339 with 9 fixed digits, as the CLI prints an event's time (in UTC)."""
    seconds, fraction = divmod(nano, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{fraction:09d}Z"


def event_line(event: EngineEvent) -> str:
    """One line of `docker events`: time, type, action, actor ID, (attributes sorted)."""
    head = f"{event_time(event.time_nano)} " if event.time_nano else ""
    line = f"{head}{event.type} {event.action} {event.actor_id}"
    if event.attributes:
        line += " (" + ", ".join(f"{k}={v}" for k, v in event.attributes) + ")"
    return line


def event_message(event: EngineEvent) -> dict[str, Any]:
    """The event as the CLI's `{{json .}}` prints it: docker's events.Message, its JSON names
    in its field order, empty deprecated fields left out, attributes sorted."""
    raw = event.raw
    attributes = (raw.get("Actor") or {}).get("Attributes")
    document: dict[str, Any] = {key: raw[key] for key in ("status", "id", "from") if raw.get(key)}
    document |= {"Type": event.type, "Action": event.action,
                 "Actor": {"ID": event.actor_id, "Attributes": None if attributes is None
                           else dict(sorted(attributes.items()))}}
    if raw.get("scope"):
        document["scope"] = raw["scope"]
    if raw.get("time"):
        document["time"] = int(raw["time"])
    if event.time_nano:
        document["timeNano"] = event.time_nano
    return document


def _event_fields(event: EngineEvent) -> dict[str, Any]:
    """The event as a template reads it (`.Type`, `.Actor.Attributes.name`, `.TimeNano`...)."""
    message = event_message(event)
    return {"Status": message.get("status", ""), "ID": message.get("id", ""),
            "From": message.get("from", ""), "Type": event.type, "Action": event.action,
            "Actor": message["Actor"], "Scope": message.get("scope", ""),
            "Time": message.get("time", 0), "TimeNano": message.get("timeNano", 0)}


def event_formatter(template: str) -> Callable[[EngineEvent], str]:
    """`docker events --format TEMPLATE`: one line per event (`json`: the whole event)."""
    if template.strip() in ("json", "{{json .}}"):
        return lambda event: gotemplate.go_json(event_message(event))
    return lambda event: gotemplate.render(template, _event_fields(event))


def events(found: Sequence[EngineEvent], *, cut: bool, host: str = "",
           template: str | None = None) -> Message:
    if not found:
        return Message(text="No events in that range.", blocks=(blocks.section(
            md("No events{} in that range.", _where(host))),))
    line = event_formatter(template) if template else event_line
    text = "\n".join(line(e) for e in found) + "\n"
    note = "Only the first 10,000 events are shown: narrow it with `--since`, `--until` or " \
           "`--filter`." if cut else ""
    return text_output(md("*{:,} event{}*{}", len(found), "" if len(found) == 1 else "s",
                          _where(host)), text, filename="events.txt", note=note)
