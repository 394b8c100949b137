"""Block Kit of the stats, port, wait, diff, history, events and update views against
tests/golden/runtime/*.json (no engine; `UPDATE_GOLDEN=1` rewrites them, review the diff)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.engine.results import (
    ContainerStats,
    Done,
    EngineEvent,
    FileChange,
    HistoryRow,
    Target,
)
from bot.views import runtime
from bot.views.message import Message
from tests.slack_standin import validate_blocks
from tests.test_golden_views import payload

GOLDEN = Path(__file__).parent / "golden" / "runtime"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOSTILE = "<!channel> *bold* `tick` &amp; <https://evil.example|click>"


def _stats() -> Message:
    rows = [ContainerStats("f" * 64, "web", 1.5, 1.5 * 1024 * 1024, 23.54 * 1024 ** 3, 0.01,
                           1_990_000, 800, 0, 4096, 3),
            ContainerStats("a" * 64, "--", valid=False)]
    return runtime.stats(rows, host="prod")


def _history() -> Message:
    rows = [HistoryRow("sha256:" + "b" * 64, NOW - timedelta(hours=30),
                       "/bin/sh -c #(nop) COPY file:73e2b2d48642b21b0123 in / ", 1_980_000, ""),
            HistoryRow("<missing>", NOW - timedelta(days=20), HOSTILE, 0, HOSTILE)]
    return runtime.history("app:1.0", rows)


def _events() -> Message:
    found = [EngineEvent(1_796_040_000_123_456_789, "container", "start", "c" * 64,
                         (("image", "app:1.0"), ("label", HOSTILE), ("name", "web")))]
    return runtime.events(found, cut=False)


def _wait() -> Message:
    return runtime.waited([("job", 3, ""), ("web", None, ""), ("gone", None, "No such container")],
                          seconds=60)


def _update_preview() -> Message:
    targets = [Target("web", "d" * 64, "web", "app:1.0", "running", "Up 2 hours"),
               Target("w", "e" * 64, HOSTILE, "app:1.0", "exited", "Exited (0)")]
    return runtime.update_preview(targets, "--restart always --memory 256MiB")


def _paused() -> Message:
    return runtime.done("Paused", [Done("web", True), Done(HOSTILE, False, "No such container")])


def _port_and_diff() -> Message:
    port = runtime.port("web", {"80/tcp": [("::", "3000"), ("0.0.0.0", "3000")],
                                "443/tcp": [("127.0.0.1", "8443")], "9/udp": []})
    diff = runtime.diff(HOSTILE, [FileChange("C", "/etc"), FileChange("A", "/etc/" + HOSTILE)])
    return Message(text=port.text, blocks=(*port.blocks, *diff.blocks))


MESSAGES: dict[str, Callable[[], Message]] = {
    "stats": _stats, "history": _history, "events": _events, "wait": _wait,
    "update_preview": _update_preview, "paused": _paused, "port_and_diff": _port_and_diff,
}


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    class Frozen(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return NOW

    monkeypatch.setattr("bot.units.datetime", Frozen)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_a_runtime_view_renders_as_its_golden_file(name: str) -> None:
    got = payload(MESSAGES[name]())
    assert validate_blocks(got["blocks"]) == []
    assert "<!channel>" not in json.dumps(got) and "<https://" not in json.dumps(got)
    path = GOLDEN / f"{name}.json"
    text = json.dumps(got, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert json.loads(path.read_text(encoding="utf-8")) == got, (
        f"{name} no longer renders as {path.name}; if intended, rewrite it with UPDATE_GOLDEN=1")


def test_every_runtime_golden_file_has_a_message() -> None:
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == sorted(MESSAGES)
