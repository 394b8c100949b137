"""Container results as messages: ps tables, log snippets, inspect summaries."""

from __future__ import annotations

from bot.engine.results import ContainerDetails, ContainerRow, LogText, ProcessList
from bot.views import blocks
from bot.views.format import ago, short_id, table, truncate
from bot.views.message import Attachment, Message
from bot.views.output import text_output


def ps_table(rows: list[ContainerRow], *, no_trunc: bool = False) -> str:
    """The `docker ps` table, same columns and order as the CLI."""
    width = 10_000 if no_trunc else 30
    body = [
        (short_id(r.id, no_trunc), truncate(r.image, width),
         truncate(f'"{r.command}"', width if no_trunc else 22), ago(r.created), r.status,
         ", ".join(r.ports), r.name)
        for r in rows
    ]
    return table(("CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"), body)


def ps(rows: list[ContainerRow], *, all: bool, quiet: bool = False,
       no_trunc: bool = False, host: str = "") -> Message:
    where = f" on `{host}`" if host else ""
    if quiet:
        ids = "\n".join(short_id(r.id, no_trunc) for r in rows)
        return text_output(f"*{len(rows)} container IDs*{where}", ids or "(none)",
                           filename="ps-ids.txt")
    running = sum(1 for r in rows if r.state == "running")
    if not rows:
        hint = "" if all else " Add `-a` to include stopped ones."
        return Message(text="No containers.", blocks=(
            blocks.section(f"No {'containers' if all else 'running containers'}{where}.{hint}"),))
    noun = "container" if len(rows) == 1 else "containers"
    title = (f"*{len(rows)} {noun}*{where} ({running} running)" if all
             else f"*{len(rows)} running {noun}*{where}")
    return text_output(title, ps_table(rows, no_trunc=no_trunc), filename="ps.txt")


def logs(log: LogText, *, tail: str) -> Message:
    if not log.text:
        return Message(text=f"No log output from {log.container}.", blocks=(
            blocks.section(f"`{log.container}` has no log output in that range."),))
    scope = "all lines" if tail == "all" else f"last {tail} line{'' if tail == '1' else 's'}"
    note = " Output stopped at 8 MB: narrow it with `--tail` or `--since`." if log.truncated else ""
    return text_output(f"*Logs of `{log.container}`* ({scope})", log.text,
                       filename=f"{log.container}.log", from_end=True, note=note.strip())


def inspect(details: ContainerDetails) -> Message:
    icon = {"running": ":large_green_circle:", "exited": ":white_circle:",
            "paused": ":double_vertical_bar:", "restarting": ":arrows_counterclockwise:"}
    state = details.state + (f" (exit code {details.exit_code})" if details.state == "exited"
                             else "")
    summary = [
        ("State", f"{icon.get(details.state, ':grey_question:')} {state}"),
        ("Image", f"`{details.image}`\n{short_id(details.image_id)}"),
        ("Command", f"`{truncate(details.command, 200)}`" if details.command else ""),
        ("Created", ago(details.created)),
        ("Started", ago(details.started) if details.started else "never"),
        ("Restarts", f"{details.restart_count} (policy: {details.restart_policy})"),
        ("Health", details.health or "no healthcheck"),
        ("Ports", "\n".join(details.ports)),
        ("Networks", "\n".join(details.networks)),
        ("Mounts", "\n".join(details.mounts)),
    ]
    parts = [blocks.header(f"Container {details.name}"),
             blocks.context(f"ID `{details.id}`"), *blocks.fields(summary)]
    if details.labels:
        labels = "\n".join(f"{k}={v}" for k, v in sorted(details.labels.items()))
        parts += [blocks.section("*Labels*"), blocks.code(labels, 1500)]
    if details.env:
        parts += [blocks.section("*Environment* (secret values masked)"),
                  blocks.code("\n".join(details.env), 1500)]
    parts.append(blocks.context("Full JSON: `/docker inspect --raw NAME`; one field: "
                                "`--format '{{json .State}}'`"))
    return Message(text=f"Container {details.name}: {state}", blocks=tuple(parts))


def raw_json(name: str, document_json: str) -> Message:
    return Message(
        text=f"Inspect of {name} (JSON attached)",
        blocks=(blocks.section(f"*Inspect of `{name}`*: the full JSON is attached "
                               "(secret env values masked)."),),
        attachment=Attachment(f"{name.replace('/', '_')}.json", document_json.encode(),
                              title=f"{name}.json"),
    )


def formatted(name: str, output: str) -> Message:
    return text_output(f"*`{name}`*", output, filename=f"{name.replace('/', '_')}.txt")


def top(processes: ProcessList) -> Message:
    """`docker top`: the engine's ps columns, aligned as the CLI's tabwriter (min width 20)."""
    text = table(processes.titles, processes.processes, min_width=20)
    count = len(processes.processes)
    title = f"*{count} process{'es' if count != 1 else ''} in `{processes.container}`*"
    return text_output(title, text, filename=f"{processes.container}-top.txt")
