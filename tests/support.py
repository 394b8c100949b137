"""Test helpers shared by the suite: recording responders, polling, unique names."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import docker
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from bot.views.limits import fit
from bot.views.message import Message
from bot.views.terminal import render
from tests.slack_standin.blockkit import check_message

if TYPE_CHECKING:
    from bot.pipeline import Outcome
    from bot.services import Services

T = TypeVar("T")

TEST_LABEL = "dockops.test"
RUN_ID = uuid.uuid4().hex[:10]
BUSYBOX = "dockops-test/busybox:latest"


def unique(prefix: str = "t") -> str:
    """A name no other test (or test run) uses."""
    return f"dockops-{prefix}-{RUN_ID}-{uuid.uuid4().hex[:6]}"


def wait_for(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05,
             what: str = "condition") -> T:
    """Poll `predicate` until it returns something truthy; fail clearly at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# The bot never pings a channel or posts a link of its own: in mrkdwn these came from text.
_NEVER_OURS = re.compile(r"<!(?:channel|here|everyone|subteam)|<(?:https?|mailto|tel|slack):",
                         re.IGNORECASE)


def slack_payload(message: Message) -> dict[str, Any]:
    """What the responders post for `message` (fitted), checked as Slack would check it.

    Block Kit limits (the stand-in's checks), slack_sdk's block models, and no `<!channel>`,
    `<!here>` or link in any mrkdwn text: an AssertionError names what is wrong.
    """
    fitted = fit(message)
    body = {"text": fitted.text, "blocks": list(fitted.blocks)}
    result = check_message(body)
    assert result.ok, f"Slack would refuse this message: {result.error} {result.details}"
    for i, block in enumerate(body["blocks"]):
        parsed = Block.parse(block)
        assert parsed is not None, f"slack_sdk does not know block {i}: {block}"
        try:
            parsed.validate_json()
        except SlackObjectFormationError as exc:
            raise AssertionError(f"block {i} is invalid for slack_sdk: {exc}: {block}") from exc
    for text in _mrkdwn_texts(body):
        assert not _NEVER_OURS.search(text), f"a live entity from text reached Slack: {text!r}"
    return body


def _mrkdwn_texts(node: Any) -> list[str]:
    if isinstance(node, list):
        return [text for item in node for text in _mrkdwn_texts(item)]
    if not isinstance(node, dict):
        return []
    own = [node["text"]] if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str) \
        else []
    return own + [text for value in node.values() for text in _mrkdwn_texts(value)]


class RecordingThread:
    """Records a follow's or build's updates and replies; each is checked as Slack would."""

    def __init__(self, owner: RecordingResponder, first: Message) -> None:
        self.owner = owner
        self.updates: list[Message] = [first]
        self.replies: list[Message] = []

    def update(self, message: Message) -> None:
        slack_payload(message)
        self.updates.append(message)

    def reply(self, message: Message) -> None:
        slack_payload(message)
        self.replies.append(message)


class RecordingResponder:
    """A Responder that keeps every message, for pipeline-level tests; each is checked as Slack
    would check it (`slack_payload`), so every test validates what it sends."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.threads: list[RecordingThread] = []

    def send(self, message: Message) -> None:
        slack_payload(message)
        self.sent.append(message)

    def start_thread(self, message: Message) -> RecordingThread:
        slack_payload(message)
        thread = RecordingThread(self, message)
        self.threads.append(thread)
        return thread

    @property
    def last(self) -> Message:
        assert self.sent, "nothing was sent"
        return self.sent[-1]

    def text(self) -> str:
        """Everything sent, as the console would print it (attachments included)."""
        return "".join(render(m) for m in self.sent)


def volume_exists(client: docker.DockerClient, name: str) -> bool:
    """Whether the engine has the volume."""
    try:
        client.api.inspect_volume(name)
    except docker.errors.NotFound:
        return False
    return True


def container_exists(client: docker.DockerClient, name_or_id: str) -> bool:
    """Whether the engine still has the container."""
    try:
        client.api.inspect_container(name_or_id)
    except docker.errors.NotFound:
        return False
    return True


def image_exists(client: docker.DockerClient, reference: str) -> bool:
    """Whether the engine still has the image."""
    try:
        client.api.inspect_image(reference)
    except docker.errors.NotFound:
        return False
    return True


class Runner:
    """Command text through the real pipeline, as the console (admin) or a Slack user.

    `runner(text, user=..., channel=..., source=...)` returns (Outcome, RecordingResponder);
    `.pipeline` and `.services` are there for what a test checks beyond the answer.
    """

    def __init__(self, services: Services) -> None:
        from bot.pipeline import Pipeline  # here: importing tests.support stays light

        self.services = services
        self.pipeline = Pipeline(services)
        self.closed = False

    def __call__(self, text: str, *, user: str = "console", channel: str = "C0OPS",
                 source: str = "console") -> tuple[Outcome, RecordingResponder]:
        from bot.policy import Actor

        responder = RecordingResponder()
        actor = Actor(user_id=user, channel_id=channel, source=source)  # type: ignore[arg-type]
        return self.pipeline.execute(text, actor, responder), responder

    run = __call__  # `bot.run(text)`, as the hosts tests say it

    def close(self) -> None:
        """Close what the pipeline opened (the audit channel) and the services; once."""
        if self.closed:
            return
        self.closed = True
        if self.pipeline.audit_channel is not None:
            self.pipeline.audit_channel.close()
        self.services.close()
