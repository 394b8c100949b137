"""A small subset of Go templates for `--format`, as the docker CLI runs them.

Actions: `{{.}}`, `{{.A.B}}`, `{{json .A}}` / `{{.A | json}}` (Go's encoding/json: no spaces),
`{{upper .A}}`, `{{lower .A}}`, `{{title .A}}`, `{{truncate .A N}}`. List commands add the
CLI's `table` directive (a header row, columns aligned as its tabwriter) and `json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.errors import UsageError

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")
_FUNCTIONS = ("json", "upper", "lower", "title", "truncate")
_SUPPORTED = ("dockops supports `{{.Field}}`, `{{json .}}`, `{{json .Field}}`, `{{upper .Field}}`, "
              "`{{lower .Field}}`, `{{title .Field}}`, `{{truncate .Field N}}`, "
              "`{{.Label \"key\"}}` and `table`")


def render(template: str, document: Mapping[str, Any], *, html_safe_json: bool = False) -> str:
    """Fill `template` from `document` like `docker inspect --format` does.

    `html_safe_json`: `{{json .}}` escapes `<`, `>`, `&` as the CLI's list rows do (their
    MarshalJSON goes through json.Marshal); elsewhere the CLI's `json` leaves them.
    """
    return _ACTION.sub(lambda m: _action(m.group(1), document, html_safe_json),
                       template.replace("\\n", "\n").replace("\\t", "\t"))


def render_rows(template: str, rows: Sequence[Mapping[str, Any]],
                headers: Mapping[str, str], methods: Sequence[str] = ()) -> str:
    """`docker ps/images --format TEMPLATE`: one line per row; with `table`, a header line
    (each field's CLI header) and columns aligned as the CLI's tabwriter (min 10, padding 3).

    A field that is not one of `headers` (or `methods`) is refused before any row is read, as
    the CLI refuses it even when there are no rows.
    """
    unknown = sorted(fields_used(template) - {"*", *headers, *methods})
    if unknown:
        raise UsageError(f"`{unknown[0]}` is not a field here: use one of "
                         + ", ".join(f"`.{name}`" for name in sorted({*headers, *methods})) + ".",
                         detail="`{{json .}}` shows every field of each row.")
    body = template.strip(" ")
    is_table = body.startswith("table")
    if is_table:
        body = body[len("table"):].strip(" ")
    elif body == "json":
        body = "{{json .}}"
    lines = [render(body, row, html_safe_json=True) for row in rows]
    if not is_table:
        return "".join(line + "\n" for line in lines)
    header = _ACTION.sub(lambda m: _header(m.group(1), headers),
                         body.replace("\\n", "\n").replace("\\t", "\t"))
    return tabwrite([header, *lines])


def fields_used(template: str) -> set[str]:
    """The top-level fields a template reads (`{{json .}}` reads them all: `*`)."""
    used = set()
    for action in _ACTION.findall(template):
        words = action.replace("|", " ").split()
        if "." in words:
            used.add("*")
        used.update(w[1:].split(".")[0] for w in words if w.startswith(".") and len(w) > 1)
    return used


def tabwrite(lines: Sequence[str], *, min_width: int = 10, padding: int = 3) -> str:
    """Go's tabwriter as the CLI sets it up: a tab ends a cell; each column is as wide as its
    widest cell plus `padding`, at least `min_width`; text after the last tab is not padded."""
    split = [line.split("\t") for line in "\n".join(lines).split("\n")]
    widths: dict[int, int] = {}
    for cells in split:
        for i, cell in enumerate(cells[:-1]):
            widths[i] = max(widths.get(i, 0), len(cell) + padding, min_width)
    out = ["".join(cell.ljust(widths[i]) for i, cell in enumerate(cells[:-1])) + cells[-1]
           for cells in split]
    return "".join(line + "\n" for line in out)


def _header(expression: str, headers: Mapping[str, str]) -> str:
    words = expression.replace("|", " ").split()
    field = next((w[1:] for w in words if w.startswith(".") and len(w) > 1), "")
    quoted = [w.strip('"') for w in words if w.startswith('"')]
    if field == "Label" and quoted:  # the CLI heads {{.Label "a.b.team"}} with `team`
        return quoted[0].rsplit(".", 1)[-1]
    return headers.get(field, field.upper())


def _action(expression: str, document: Mapping[str, Any], html_safe: bool) -> str:
    words = expression.replace("|", " | ").split()
    function: str | None = None
    argument: str | None = None
    if words and words[0] in _FUNCTIONS:
        function, words = words[0], words[1:]
        if function == "truncate" and len(words) == 2:
            words, argument = words[:1], words[1]
    elif len(words) >= 3 and words[-2] == "|" and words[-1] in _FUNCTIONS:
        function, words = words[-1], words[:-2]
    arguments = [w[1:-1] for w in words[1:] if len(w) >= 2 and w[0] == w[-1] == '"']
    if not words or not words[0].startswith(".") or len(arguments) != len(words) - 1:
        raise UsageError(f"`{{{{{expression}}}}}` is not supported in --format: {_SUPPORTED}.",
                         detail="`{{json .}}` shows every field (`inspect --raw`: the whole JSON).")
    value = document if words[0] == "." else _lookup(document, words[0])
    if callable(value):  # a method of the CLI's context: {{.Label "com.example.team"}}
        if len(arguments) != 1:
            raise UsageError(f'`{words[0]}` takes one quoted name, e.g. `{words[0]} "key"`.')
        value = value(arguments[0])
    elif arguments:
        raise UsageError(f"`{words[0]}` is a field, not a method: drop what follows it.")
    if value is _MISSING:
        return "null" if function == "json" else "<no value>"
    if function == "json":
        if isinstance(value, Mapping):  # methods are not fields: json.Marshal leaves them out
            value = {k: v for k, v in value.items() if not callable(v)}
        return go_json(value, html_safe=html_safe and words[0] == ".")
    text = _go_print(value)
    apply: dict[str, Callable[[str], str]] = {
        "upper": str.upper, "lower": str.lower, "title": _title,
        "truncate": lambda s: s[:_count(argument)]}
    return apply[function](text) if function else text


def _count(argument: str | None) -> int:
    if argument is None or not argument.isdigit():
        raise UsageError("`truncate` takes a field and a length, e.g. `{{truncate .Names 10}}`.")
    return int(argument)


def _title(text: str) -> str:
    return re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), text)


def go_json(value: Any, *, html_safe: bool = False) -> str:
    """Go's encoding/json: no spaces, UTF-8 kept, U+2028/U+2029 escaped; `html_safe` also
    escapes `<`, `>`, `&` as json.Marshal does."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if html_safe:
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text


# Fields the CLI decodes as Go maps (a missing key prints `<no value>`, json `null`); any
# other missing name is a struct field the CLI refuses. (h1b: inspect fidelity)
_GO_MAPS = frozenset({"Labels", "Ports", "Networks", "ExposedPorts", "Volumes", "PortBindings",
                      "Data", "DriverOpts", "Options", "Sysctls", "StorageOpt", "Tmpfs",
                      "Annotations", "LogConfig.Config"})
_MISSING = object()


def _lookup(document: Any, path: str) -> Any:
    value = document
    keys = [key for key in path.split(".") if key]
    for index, key in enumerate(keys):
        parent = keys[index - 1] if index else ""
        is_map = parent in _GO_MAPS or ".".join(keys[max(index - 2, 0):index]) in _GO_MAPS
        if is_map and (value is None or (isinstance(value, Mapping) and key not in value)):
            return _MISSING
        if not isinstance(value, Mapping) or key not in value:
            raise UsageError(f"template: no field `{key}` in `{path}`.",
                             detail="Field names are case-sensitive, as in the JSON (--raw).")
        value = value[key]
    return value


def _go_print(value: Any) -> str:
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{_go_print(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_print(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return "<nil>" if value is None else str(value)
