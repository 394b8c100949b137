"""The incident views' Block Kit against tests/golden/incidents/*.json (no engine).

`UPDATE_GOLDEN=1 pytest tests/test_incidents_golden.py` rewrites them (review the diff).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.incidents import notices as n
from bot.views import home, incidents
from bot.views.limits import fit
from bot.views.message import Message
from tests.slack_standin import validate_blocks

GOLDEN = Path(__file__).parent / "golden" / "incidents"
AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).timestamp()
CARD = n.IncidentCard(
    7, "prod-crashes", "prod", "api-<1>", "3f2a9c1d7e4b5a6c", "registry.example/team/api:1.4",
    "registry.example/team/api@sha256:0123456789abcdef0123", "die", 137, False, "", 3, 4000.0,
    20, "listening on :8080\npanic: nil map & more\n", "alice", "recreate api-<1>", AT - 7200,
    4, "open", AT, 0.0, "", 3, "10m",
    n.IncidentButtons("t1", "t2", "t3", "t4", "t5", "t6"))

MESSAGES: dict[str, Callable[[], Message]] = {
    "card_open": lambda: incidents.card(CARD),
    "card_recovered": lambda: incidents.card(replace(CARD, state="recovered",
                                                     recovered_after=240.0)),
    "card_unhealthy": lambda: incidents.card(replace(
        CARD, kind="unhealthy", exit_code=0, health_output="curl: (7) refused", loop_restarts=0,
        count=1, buttons=replace(CARD.buttons, rollback=""))),
    "reply_loop": lambda: incidents.reply(n.IncidentReply(7, "api", "loop", restarts=3,
                                                          seconds=600.0)),
    "gap": lambda: incidents.gap(n.EventGap("prod", "prod-crashes", AT - 60, AT, (
        n.StoppedContainer("api", 3, False), n.StoppedContainer("worker", 137, True)))),
}


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_incident_views_match_their_golden_files(name: str) -> None:
    message = fit(MESSAGES[name]())
    got = {"text": message.text, "blocks": list(message.blocks)}
    assert validate_blocks(got["blocks"]) == []
    path = GOLDEN / f"{name}.json"
    text = json.dumps(got, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path.name} is missing: run with UPDATE_GOLDEN=1 to write it"
    assert json.loads(path.read_text(encoding="utf-8")) == got


def test_the_home_view_is_valid_block_kit() -> None:
    view = home.home_view(home.Overview(
        (home.HostLine("prod", True, 12, 30), home.HostLine("edge", False, 0, 0, "timed out")),
        ((7, "api", "prod", "die", 4),), 2,
        (home.JobLine("nightly-prune", "ok", datetime.fromtimestamp(AT, UTC), "freed 1.2GB"),),
        datetime.fromtimestamp(AT, UTC)))
    assert view["type"] == "home" and validate_blocks(view["blocks"]) == []
    text = json.dumps(view)
    assert "12 running / 30 containers" in text and "unreachable (timed out)" in text
