"""Where a click on an incident's button is answered: in the incident's thread, so the
incident message keeps its content and the thread keeps the story (Logs -f follows there)."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.slack.responder import SlackThread, payload, posting
from bot.views.message import Message


class InIncidentThread:
    """A responder that posts every answer as a reply under the clicked message."""

    def __init__(self, client: WebClient, channel: str, thread_ts: str) -> None:
        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts

    def send(self, message: Message) -> None:
        with posting(self.channel):
            self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts,
                                         **payload(message))

    def start_thread(self, message: Message) -> ThreadReply:
        with posting(self.channel):
            response = self.client.chat_postMessage(channel=self.channel,
                                                    thread_ts=self.thread_ts, **payload(message))
        return ThreadReply(self.client, self.channel, str(response["ts"]), self.thread_ts)


class ThreadReply(SlackThread):
    """A reply in the incident's thread that a follow updates; its own replies stay there."""

    def __init__(self, client: WebClient, channel: str, ts: str, parent: str) -> None:
        super().__init__(client, channel, ts)
        self.parent = parent

    def reply(self, message: Message) -> None:
        with posting(self.channel):
            self.client.chat_postMessage(channel=self.channel, thread_ts=self.parent,
                                         **payload(message))


def incident_thread(client: WebClient, body: dict[str, Any]) -> InIncidentThread | None:
    """The clicked message's thread; None when the payload does not say where it is."""
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or \
        (body.get("container") or {}).get("channel_id", "")
    ts = message.get("thread_ts") or message.get("ts") or \
        (body.get("container") or {}).get("message_ts", "")
    if not channel or not ts:
        return None
    return InIncidentThread(client, str(channel), str(ts))
