"""Network results as the docker CLI prints them, and `--format` for the object lists."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.engine.results import NetworkRow
from bot.units import short_id
from bot.views import blocks, gotemplate
from bot.views.format import table
from bot.views.message import Message
from bot.views.output import text_output

# docker/cli's tabwriter for lists: min width 10, padding 3.
MIN_WIDTH = 10
NETWORK_HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
                   "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS",
                   "CreatedAt": "CREATED AT"}


def format_rows(template: str, rows: Sequence[Mapping[str, Any]],
                headers: Mapping[str, str]) -> str:
    """`--format` over list rows as docker/cli's formatter: `table ` adds the header and aligns
    the `\\t` cells; `json` is `{{json .}}`; `\\t` and `\\n` typed in the template are read."""
    text = template
    is_table = text.startswith("table")
    if is_table:
        text = text[len("table"):]
    text = text.strip(" ").replace("\\t", "\t").replace("\\n", "\n")
    if text == "json":
        text = "{{json .}}"
    if not is_table:
        return "".join(gotemplate.render(text, dict(row)) + "\n" for row in rows)
    lines = [gotemplate.render(text, dict(headers)), *(gotemplate.render(text, dict(row))
                                                       for row in rows)]
    cells = [line.split("\t") for line in lines]
    width = max(len(c) for c in cells)
    return table(cells[0] + [""] * (width - len(cells[0])),
                 [c + [""] * (width - len(c)) for c in cells[1:]], min_width=MIN_WIDTH)


def network_fields(row: NetworkRow, *, no_trunc: bool = False) -> dict[str, str]:
    """The fields `docker network ls --format` knows, as the CLI prints them."""
    return {"ID": row.id if no_trunc else short_id(row.id), "Name": row.name,
            "Driver": row.driver, "Scope": row.scope, "IPv6": str(row.ipv6).lower(),
            "Internal": str(row.internal).lower(),
            "Labels": ",".join(f"{k}={v}" for k, v in sorted(row.labels.items())),
            "CreatedAt": row.created}


def network_ls(rows: Sequence[NetworkRow], *, quiet: bool = False, no_trunc: bool = False,
               template: str | None = None, host: str = "") -> Message:
    where = f" on `{host}`" if host else ""
    fields = [network_fields(r, no_trunc=no_trunc) for r in rows]
    noun = "network" if len(rows) == 1 else "networks"
    if quiet:
        return text_output(f"*Network IDs*{where}", "\n".join(f["ID"] for f in fields) or "(none)",
                           filename="network-ids.txt")
    if template:
        return text_output(f"*{len(rows)} {noun}*{where}",
                           format_rows(template, fields, NETWORK_HEADERS) or "(none)",
                           filename="networks.txt")
    body = table(("NETWORK ID", "NAME", "DRIVER", "SCOPE"),
                 [(f["ID"], f["Name"], f["Driver"], f["Scope"]) for f in fields],
                 min_width=MIN_WIDTH)
    return text_output(f"*{len(rows)} {noun}*{where}", body, filename="networks.txt")


def inspect_document(kind: str, name: str, document: dict[str, Any],
                     template: str | None) -> Message:
    """`docker network|volume inspect`: the JSON array the CLI prints, or `--format`."""
    if template:
        return text_output(f"*{kind} `{name}`*", gotemplate.render(template, document) + "\n",
                           filename=f"{kind}-{name}.txt")
    return text_output(f"*{kind} `{name}`*", json.dumps([document], indent=4) + "\n",
                       filename=f"{kind}-{name}.json")


def done(text: str) -> Message:
    """One line saying what changed (`network create`, `connect`, ...)."""
    return Message(text=text, blocks=(blocks.section(f":white_check_mark: {text}"),))


def question(text: str) -> Message:
    """A one-line preview (`network disconnect -f`), answered with Confirm."""
    return Message(text=text, blocks=(blocks.section(f":warning: *{text}*"),),
                   meta={"preview": True})


def network_rm_preview(rows: Sequence[NetworkRow]) -> Message:
    count = f"{len(rows)} network{'s' if len(rows) != 1 else ''}"
    body = table(("NETWORK ID", "NAME", "DRIVER", "CONTAINERS"),
                 [(short_id(r.id), r.name, r.driver, ", ".join(r.containers) or "-")
                  for r in rows], min_width=MIN_WIDTH)
    note = "No container is attached to " + ("it." if len(rows) == 1 else "them.")
    message = text_output(f":wastebasket: *Remove {count}?*", body, filename="network-rm.txt",
                          note=note)
    return Message(text=message.text, blocks=message.blocks, attachment=message.attachment,
                   meta={"preview": True})


def removed(kind: str, results: Sequence[tuple[str, str]]) -> Message:
    """(name, error) per object: the names removed, as the CLI prints them, and each refusal."""
    gone = [name for name, error in results if not error]
    parts = []
    if gone:
        parts.append(blocks.section(f":white_check_mark: Removed {kind}"
                                    f"{'s' if len(gone) != 1 else ''}:"))
        parts.append(blocks.code("\n".join(gone) + "\n"))
    for name, error in results:
        if error:
            parts.append(blocks.section(f":x: `{name}`: {error}"))
    failed = len(results) - len(gone)
    text = f"{kind} rm: {len(gone)} removed" + (f", {failed} failed" if failed else "")
    return Message(text=text, blocks=tuple(parts[:49]), ok=not failed)
