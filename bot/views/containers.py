"""Container results as messages: ps tables, log snippets, inspect summaries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import units
from bot.engine.results import ContainerDetails, ContainerRow, LogText, ProcessList
from bot.mrkdwn import md
from bot.redact import mask_output
from bot.views import blocks, gotemplate
from bot.views.format import ago, short_id, table, truncate
from bot.views.message import Attachment, Message
from bot.views.output import tail_and_file, text_output

PS_HEADERS = {
    "ID": "CONTAINER ID", "Names": "NAMES", "Image": "IMAGE", "Command": "COMMAND",
    "CreatedAt": "CREATED AT", "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE",
    "Status": "STATUS", "Size": "SIZE", "Labels": "LABELS", "Mounts": "MOUNTS",
    "LocalVolumes": "LOCAL VOLUMES", "Networks": "NETWORKS", "Platform": "PLATFORM",
}
PS_TABLE = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t"
            "{{.Ports}}\t{{.Names}}")


def go_time(moment: datetime) -> str:
    """Go's `time.Time.String()` in local time, as the CLI's CreatedAt: `2026-11-30 14:49:35
    +0000 UTC`."""
    local = moment.astimezone()
    return local.strftime("%Y-%m-%d %H:%M:%S %z ") + (local.tzname() or "")


def ps_fields(row: ContainerRow, *, no_trunc: bool = False,
              now: datetime | None = None) -> dict[str, Any]:
    """One container as the CLI's ContainerContext fields (`--format '{{json .}}'`)."""
    trunc = not no_trunc
    size = units.human_size(row.size_rw or 0)
    if row.size_root_fs:
        size += f" (virtual {units.human_size(row.size_root_fs)})"
    names = row.names or (row.name,)
    return {
        "Command": units.ps_command(row.command, no_trunc=no_trunc),
        "CreatedAt": go_time(row.created),
        "ID": units.short_id(row.id) if trunc else row.id,
        "Image": units.ps_image(row.image, row.image_id, no_trunc=no_trunc),
        "Label": lambda name: row.labels.get(name, ""),  # {{.Label "key"}}; not in json
        "Labels": ",".join(sorted(f"{k}={v}" for k, v in row.labels.items())),
        "LocalVolumes": str(row.local_volumes),
        "Mounts": ",".join(units.ellipsis(m, 15) if trunc else m for m in row.mounts),
        "Names": row.name if trunc else ",".join(names),
        "Networks": ",".join(row.networks),
        "Platform": None,
        "Ports": ", ".join(row.ports),
        "RunningFor": units.ago(row.created, now),
        "Size": size,
        "State": row.state,
        "Status": row.status,
    }


def ps_table(rows: list[ContainerRow], *, no_trunc: bool = False, size: bool = False,
             template: str | None = None, now: datetime | None = None) -> str:
    """`docker ps` output: the CLI's default table (plus SIZE with -s) or `--format`."""
    if template is None or template.strip() == "table":
        template = PS_TABLE + ("\t{{.Size}}" if size else "")
    return gotemplate.render_rows(
        template, [ps_fields(r, no_trunc=no_trunc, now=now) for r in rows], PS_HEADERS,
        methods=("Label",))


def ps(rows: list[ContainerRow], *, all: bool, quiet: bool = False,
       no_trunc: bool = False, host: str = "", size: bool = False,
       template: str | None = None) -> Message:
    where = f" on `{host}`" if host else ""
    if quiet:  # as the CLI: -q prints IDs whatever the --format
        ids = "\n".join(r.id if no_trunc else units.short_id(r.id) for r in rows)
        return text_output(f"*{len(rows)} container IDs*{where}", ids or "(none)",
                           filename="ps-ids.txt")
    running = sum(1 for r in rows if r.state == "running")
    if not rows and template is None:
        hint = "" if all else " Add `-a` to include stopped ones."
        return Message(text="No containers.", blocks=(
            blocks.section(f"No {'containers' if all else 'running containers'}{where}.{hint}"),))
    noun = "container" if len(rows) == 1 else "containers"
    title = (f"*{len(rows)} {noun}*{where} ({running} running)" if all
             else f"*{len(rows)} running {noun}*{where}")
    text = ps_table(rows, no_trunc=no_trunc, size=size, template=template)
    return text_output(title, text or "(no output)", filename="ps.txt")


def logs(log: LogText, *, tail: str) -> Message:
    if not log.text:
        return Message(text=f"No log output from {log.container}.", blocks=(
            blocks.section(f"`{log.container}` has no log output in that range."),))
    if log.whole is not None and log.total_lines > log.lines:
        filename = f"{log.container}.log"
        cut = ("The file stops at 1 GB, Slack's limit: narrow it with `--since`/`--until`."
               if log.truncated else "")
        return tail_and_file(f"*Logs of `{log.container}`*", log.text,
                             Attachment(filename, b"", filename, spool=log.whole),
                             total_lines=log.total_lines, note=cut)
    scope = "all lines" if tail == "all" else f"last {tail} line{'' if tail == '1' else 's'}"
    note = " Output stopped at 8 MB: narrow it with `--tail` or `--since`." if log.truncated else ""
    return text_output(f"*Logs of `{log.container}`* ({scope})", log.text,
                       filename=f"{log.container}.log", from_end=True, note=note.strip())


def inspect_fields(details: ContainerDetails, now: datetime | None = None) -> dict[str, str]:
    """The summary's values as the CLI words them: Command quoted as `ps --no-trunc` shows it
    (the engine's Path and Args, masked), Created as `ps` CREATED, Ports as `ps` PORTS."""
    raw = details.raw
    # The engine's list API words it so: an argument holding a space in single quotes.
    args = [f"'{arg}'" if " " in arg else arg for arg in raw.get("Args") or ()]
    command = " ".join([raw.get("Path") or "", *args]) if args else raw.get("Path") or ""
    ports = [units.Port(int(private.split("/")[0]), private.partition("/")[2] or "tcp",
                        int(binding.get("HostPort") or 0) if binding else 0,
                        (binding.get("HostIp") or "") if binding else "")
             for private, bindings in ((raw.get("NetworkSettings") or {}).get("Ports")
                                       or {}).items()
             for binding in bindings or [None]]
    return {"Image": details.image, "Command": units.go_quote(mask_output(command)),
            # `ps` reads Created in whole seconds (the list API's unix time): so does this.
            "Created": units.ago(details.created.replace(microsecond=0), now),
            "Ports": units.displayable_ports(ports)}


def inspect(details: ContainerDetails) -> Message:
    icon = {"running": ":large_green_circle:", "exited": ":white_circle:",
            "paused": ":double_vertical_bar:", "restarting": ":arrows_counterclockwise:"}
    state = details.state + (f" (exit code {details.exit_code})" if details.state == "exited"
                             else "")
    fields = inspect_fields(details)
    summary = [
        ("State", f"{icon.get(details.state, ':grey_question:')} {state}"),
        ("Image", f"`{fields['Image']}`\n{short_id(details.image_id)}"),
        ("Command", f"`{truncate(fields['Command'], 200)}`"),
        ("Created", fields["Created"]),
        ("Started", ago(details.started) if details.started else "never"),
        ("Restarts", f"{details.restart_count} (policy: {details.restart_policy})"),
        ("Health", details.health or "no healthcheck"),
        ("Ports", fields["Ports"].replace(", ", "\n")),
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
    if not output.strip("\n"):  # Slack has no empty code block: say what docker prints
        text = f"*`{name}`*: the template printed an empty line."
        return Message(text=text, blocks=(blocks.section(text),))
    return text_output(f"*`{name}`*", output, filename=f"{name.replace('/', '_')}.txt")


def inspect_several(names: list[str], output: str, missing: list[str],
                    kind: str = "object") -> Message:
    """`docker inspect A B ...` (`kind` object) or `docker image inspect A B ...` (image):
    what the CLI prints for those found, then its "Error: No such KIND" line for the others."""
    errors = "".join(f"Error: No such {kind}: {name}\n" for name in missing)
    found = len(names) - len(missing)
    title = md("*Inspect of {} {}{}*", found, kind, "s" if found != 1 else "")
    if not found:
        text = errors.rstrip("\n")
        return Message(text=text, blocks=(blocks.section(f":x: {text}"),), ok=False)
    message = text_output(title, output, filename="inspect.txt")
    if not missing:
        return message
    return Message(text=message.text, blocks=(*message.blocks, blocks.section(f":x: {errors}")),
                   attachment=message.attachment, ok=False)


def top(processes: ProcessList) -> Message:
    """`docker top`: the engine's ps columns, aligned as the CLI's tabwriter (min width 20)."""
    text = table(processes.titles, processes.processes, min_width=20)
    count = len(processes.processes)
    title = f"*{count} process{'es' if count != 1 else ''} in `{processes.container}`*"
    return text_output(title, text, filename=f"{processes.container}-top.txt")
