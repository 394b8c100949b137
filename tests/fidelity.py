"""The docker CLI as the oracle: run it, read dockops's tables, compare field by field.

Every `tests/test_fidelity*.py` compares through `assert_same`, which fails naming each field
that differs with both values. `make fidelity` sets `FIDELITY_REPORT` to a file: each compared
field appends one JSON line there (command, field, equal), and `scripts/fidelity_report.py`
prints the percentage of equal fields per command.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from bot.views.message import Message
from tests.support import Runner

_GAP = re.compile(r"\S(?: ?\S)*")  # a cell: words separated by single spaces


def cli(*args: str, host: str | None = None, check: bool = True) -> str:
    """What `docker ARGS` prints on stdout (DOCKER_HOST=host when given)."""
    env = {**os.environ, **({"DOCKER_HOST": host} if host else {})}
    done = subprocess.run(["docker", *args], capture_output=True, text=True, env=env,
                          timeout=60, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def cli_json(*args: str, host: str | None = None) -> list[dict[str, Any]]:
    """The rows of `docker ARGS --format '{{json .}}'`, one JSON object per line."""
    out = cli(*args, "--format", "{{json .}}", host=host)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def code_text(message: Message) -> str:
    """What a message shows in code blocks, entities decoded as Slack shows them."""
    parts = []
    for block in message.blocks:
        text = (block.get("text") or {}).get("text", "")
        if text.startswith("```") and text.endswith("```"):
            parts.append(html.unescape(text[3:-3]))
    return "\n".join(parts)


def shown(message: Message) -> str:
    """What dockops showed: the attached file when there is one, else its code blocks."""
    if message.attachment is not None and message.attachment.spool is None:
        return message.attachment.content.decode()
    return code_text(message)


def answer(run: Runner, command: str) -> Message:
    """dockops's answer to `command` (through the whole pipeline); it must have succeeded."""
    outcome, sent = run(command)
    assert outcome.ok, sent.text()
    return sent.last


def parse_table(text: str) -> list[dict[str, str]]:
    """Rows of a tabwriter table (the CLI's and dockops's): cells start where headers start."""
    lines = [line for line in text.strip("`\n").splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?:(?<=  )|^)\S", header)]
    names = [header[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
    rows = []
    for line in lines[1:]:
        cells = [line[a:b].strip() if b else line[a:].strip()
                 for a, b in zip(starts, [*starts[1:], None], strict=True)]
        rows.append(dict(zip(names, cells, strict=True)))
    return rows


def compare(command: str, ours: Mapping[str, object], theirs: Mapping[str, object],
            fields: Sequence[str] | None = None) -> list[str]:
    """The fields (default: every field the CLI gave) that differ, each recorded for the report."""
    mismatches = []
    for field in fields if fields is not None else list(theirs):
        mine, cli_value = ours.get(field), theirs.get(field)
        equal = mine == cli_value
        _record(command, field, equal)
        if not equal:
            mismatches.append(f"{field}: dockops {mine!r} != docker {cli_value!r}")
    return mismatches


def assert_same(command: str, ours: Mapping[str, object], theirs: Mapping[str, object],
                fields: Sequence[str] | None = None) -> None:
    """Fail naming every field where dockops and the docker CLI disagree."""
    mismatches = compare(command, ours, theirs, fields)
    assert not mismatches, f"{command}: " + "; ".join(mismatches)


def _record(command: str, field: str, equal: bool) -> None:
    path = os.environ.get("FIDELITY_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as report:
            report.write(json.dumps({"command": command, "field": field, "equal": equal}) + "\n")
