"""Exactly once per user action, decided in memory and remembered across restarts; and the
Socket Mode connection's health, on a fake clock."""

from __future__ import annotations

import time
from pathlib import Path

from bot.slack import socket_mode
from bot.slack.once import DEDUP_SECONDS, delivery_key, ledger, once_per_action
from bot.slack.socket_mode import UNHEALTHY_AFTER, LinkHealth, backoff
from bot.store import Store


def test_a_command_or_click_is_known_by_its_trigger_id_or_its_parts() -> None:
    assert delivery_key({"command": "/docker", "trigger_id": "1.2.ab"}) == "command:1.2.ab"
    click = {"type": "block_actions", "user": {"id": "U1"},
             "actions": [{"action_id": "confirm", "action_ts": "17.5"}]}
    assert delivery_key(click) == "block_actions:17.5:U1:confirm"
    assert delivery_key({"type": "x", "a": 1}) == delivery_key({"a": 1, "type": "x"})


def test_a_repeat_is_acked_without_running_even_after_a_restart(tmp_path: Path) -> None:
    store = Store(tmp_path)
    ran: list[int] = []
    middleware = once_per_action(ledger(store))
    body = {"command": "/docker", "trigger_id": "9.9.ff", "text": "ps"}
    assert middleware(body=body, next_=lambda: ran.append(1)) is None
    repeat = middleware(body=body, next_=lambda: ran.append(2))
    assert repeat is not None and repeat.status == 200 and ran == [1]
    time.sleep(0.3)  # the batch is written within FLUSH_SECONDS
    after_restart = once_per_action(ledger(Store(tmp_path)))
    assert after_restart(body=body, next_=lambda: ran.append(3)) is not None
    assert ran == [1]
    kept = Store(tmp_path).delivered(time.time())
    assert kept["command:9.9.ff"] >= time.time() + DEDUP_SECONDS - 5


def test_events_other_than_commands_and_clicks_pass_untouched(tmp_path: Path) -> None:
    middleware = once_per_action(ledger(Store(tmp_path)))
    ran: list[int] = []
    for _ in range(2):
        middleware(body={"type": "event_callback", "event": {}}, next_=lambda: ran.append(1))
    assert ran == [1, 1]


def test_health_turns_bad_only_after_30_s_without_a_connection() -> None:
    now = [1000.0]
    health = LinkHealth(clock=lambda: now[0])
    health.up()
    assert health.report() == (True, {"connected": True, "seconds_disconnected": 0.0})
    health.down()
    now[0] += UNHEALTHY_AFTER
    assert health.report()[0] is True
    now[0] += 0.5
    assert health.report() == (False, {"connected": False, "seconds_disconnected": 30.5})
    health.up()
    assert health.report()[0] is True


def test_reconnects_back_off_up_to_a_cap() -> None:
    delays = [backoff(n) for n in range(1, 12)]
    assert delays[0] <= 0.5 and max(delays) <= socket_mode.BACKOFF_MAX
