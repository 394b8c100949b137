"""SIGTERM: no new commands, follow streams closed with a last message, work finished, exit 0."""

from __future__ import annotations

import json
import signal
import time

from tests.bot_rig import BotProcess
from tests.support import wait_for

TICKER = ["sh", "-c", "while true; do echo tick; sleep 0.2; done"]


def follow_message(bot: BotProcess) -> dict | None:
    """The bot message a `logs -f` posted and keeps updating (channel C0OPS)."""
    return next(iter(bot.slack.messages("C0OPS")), None)


def shown(message: dict | None) -> str:
    return json.dumps(message or {}, ensure_ascii=False)


def test_sigterm_during_logs_follow_closes_the_stream_and_exits_0(start_bot, make_container
                                                                  ) -> None:
    bot = start_bot()
    container = make_container(TICKER)
    answer = bot.command(f"logs -f {container.name}", user_id="U0OPER")
    assert answer.status == 200
    wait_for(lambda: "tick" in shown(follow_message(bot)), timeout=15,
             what="the follow message to show output")
    assert '"Stop"' in shown(follow_message(bot))
    assert "dockops_follow_streams_open 1.0" in bot.get("/metrics")[1]

    started = time.monotonic()
    assert bot.stop(signal.SIGTERM, timeout=30) == 0
    took = time.monotonic() - started

    final = shown(follow_message(bot))
    assert "the bot is restarting" in final
    assert '"Stop"' not in final  # the button goes with the live stream
    assert took < 10, f"shutdown took {took:.1f} s with only a follow open"
    log = bot.log()
    assert "SIGTERM received: shutting down" in log and "closed 1 follow stream(s)" in log
    assert "stopped" in log and "Traceback" not in log


def test_sigterm_lets_a_command_in_flight_answer_and_tells_late_ones_to_retry(start_bot,
                                                                              make_container
                                                                              ) -> None:
    bot = start_bot()
    container = make_container()
    # `exec` takes about 2 s: in flight when SIGTERM arrives.
    slow = bot.command(f"exec {container.name} sh -c 'sleep 2; echo finished'", user_id="U0OPER")
    assert slow.status == 200
    wait_for(lambda: container.client.api.inspect_container(container.id)["ExecIDs"],
             timeout=10, what="the exec to start in the container")
    bot.process.send_signal(signal.SIGTERM)
    wait_for(lambda: "shutting down: no new commands" in bot.log(), timeout=10,
             what="the bot to start shutting down")

    late = bot.command("ps", user_id="U0VIEW")
    assert late.status == 200 and "restarting" in late.ack_body

    (answer,) = bot.answers(slow, timeout=15)
    assert "finished" in shown(answer)
    assert bot.process.wait(30) == 0
    assert bot.slack.responses(late.response_url) == []  # told to retry, never run
