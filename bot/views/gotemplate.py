"""A small subset of Go templates for `--format`: `{{.A.B}}`, `{{json .A}}`, `{{.A | json}}`."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.errors import UsageError

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")


def render(template: str, document: dict[str, Any]) -> str:
    """Fill `template` from `document` like `docker inspect --format` does."""
    return _ACTION.sub(lambda m: _action(m.group(1), document), template.replace("\\n", "\n"))


def _action(expression: str, document: dict[str, Any]) -> str:
    words = expression.replace("|", " | ").split()
    as_json = False
    if words and words[0] == "json":
        as_json, words = True, words[1:]
    if words[-2:-1] == ["|"] and words[-1] == "json":
        as_json, words = True, words[:-2]
    if len(words) != 1 or not words[0].startswith("."):
        raise UsageError(
            f"dockops supports only `{{{{.Field.Path}}}}` and `{{{{json .Field}}}}` in --format "
            f"(got `{{{{{expression}}}}}`).",
            detail="Use --raw for the whole JSON.")
    value = _lookup(document, words[0])
    if as_json:
        return json.dumps(value)
    if isinstance(value, dict | list):
        return _go_print(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "<no value>" if value is None else str(value)


def _lookup(document: Any, path: str) -> Any:
    value = document
    for key in filter(None, path.split(".")):
        if not isinstance(value, dict) or key not in value:
            raise UsageError(f"template: no field `{key}` in `{path}`.",
                             detail="Field names are case-sensitive, as in the JSON (--raw).")
        value = value[key]
    return value


def _go_print(value: Any) -> str:
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_go_print(v)}" for k, v in sorted(value.items())) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_go_print(v) for v in value) + "]"
    return "<nil>" if value is None else str(value)
