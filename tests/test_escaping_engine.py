"""On a real engine: typed text and a container's name, labels and logs reach Slack as text.

A container prints `<!here>` and a disguised link and carries a mention in a label; the
answers of `logs`, `inspect`, `inspect --format`, `ps` and a follow hold no live entity
(RecordingResponder checks every payload too), and the console still shows the characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import docker

from bot.views.message import Message
from tests.lifecycle_rig import Run
from tests.support import RecordingResponder, RecordingThread, slack_payload, wait_for

Make = Callable[..., docker.models.containers.Container]
EVIL_LOG = "<!here> <https://evil.example|Confirm>"
EVIL_LABEL = "<@U0ADMIN>"
LIVE = re.compile(r"<!(?:channel|here|everyone)|<@U0ADMIN>|<https?:")


def payloads(sent: RecordingResponder) -> list[Message]:
    threads: list[RecordingThread] = sent.threads
    return [*sent.sent, *(m for t in threads for m in (*t.updates, *t.replies))]


def assert_no_live_entity(sent: RecordingResponder) -> None:
    messages = payloads(sent)
    assert messages, "nothing was sent"
    for message in messages:
        dumped = json.dumps(slack_payload(message), ensure_ascii=False)
        assert not LIVE.search(dumped), dumped


def test_logs_of_a_typed_channel_ping_echoes_it_as_text_to_anyone(run_command: Run) -> None:
    for user in ("U0NOBODY", "U0VIEW"):  # no role, viewer
        for typed in ("logs '<!channel>'", "'<!channel>' ps", "logs --tial 5 '<!channel>'"):
            outcome, sent = run_command(typed, user=user, source="slack")
            assert not outcome.ok
            assert_no_live_entity(sent)
    _, sent = run_command("logs '<!channel>'", user="U0VIEW", source="slack")
    assert "&lt;!channel&gt;" in json.dumps(slack_payload(sent.last))  # no such container
    assert "<!channel>" in sent.text()  # as the console shows it


def _evil(make_container: Make) -> docker.models.containers.Container:
    container = make_container(["sh", "-c", f"echo '{EVIL_LOG}'; sleep 300"],
                               labels={"owner": EVIL_LABEL})
    wait_for(lambda: "evil" in container.logs().decode(), timeout=10, what="the log line")
    return container


def test_a_containers_log_and_label_stay_text_in_logs_inspect_and_ps(
        run_command: Run, make_container: Make) -> None:
    name = _evil(make_container).name
    for command in (f"logs {name}", f"inspect {name}",
                    f"inspect --format '{{{{json .Config.Labels}}}}' {name}",
                    f"inspect --format '{{{{.Config.Labels.owner}}}}' {name}", "ps --no-trunc"):
        outcome, sent = run_command(command, user="U0VIEW", source="slack")
        assert outcome.ok, sent.text()
        assert_no_live_entity(sent)
    _, sent = run_command(f"logs {name}")
    assert EVIL_LOG in sent.text()  # the console shows what the container printed
    _, sent = run_command(f"inspect {name}")
    assert f"owner={EVIL_LABEL}" in sent.text()


def test_a_follow_of_such_a_container_stays_text_in_every_update(
        make_pipeline: Callable[..., Run], make_container: Make) -> None:
    run = make_pipeline("[limits]\nfollow_seconds = 3\n")
    name = _evil(make_container).name
    outcome, sent = run(f"logs -f {name}", user="U0OPER", source="slack")
    assert outcome.ok and sent.threads, sent.text()
    thread = sent.threads[0]
    wait_for(lambda: "Stopped after" in json.dumps(thread.updates[-1].blocks), timeout=15,
             what="the follow to end")
    assert any("evil.example" in json.dumps(m.blocks) for m in thread.updates)
    assert_no_live_entity(sent)
