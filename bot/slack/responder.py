"""Answers in Slack: response_url for replies, chat.* for threads, files_upload_v2 for files."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.errors import CannotPost
from bot.slack.client import webhook
from bot.views import blocks
from bot.views.limits import fit
from bot.views.message import Attachment, Message

log = logging.getLogger("dockops.slack")


def payload(message: Message) -> dict[str, Any]:
    fitted = fit(message)  # the fallback text bounded there (MAX_FALLBACK_TEXT)
    return {"text": fitted.text, "blocks": list(fitted.blocks)}


@contextmanager
def posting(channel: str) -> Iterator[None]:
    """Slack refusing the channel itself becomes CannotPost: one sentence saying what to do."""
    try:
        yield
    except SlackApiError as exc:
        error = exc.response.get("error", "") if isinstance(exc.response.data, dict) else ""
        if error not in CannotPost.ERRORS:
            raise
        raise CannotPost(cannot_post_sentence(channel), error=error) from exc


def cannot_post_sentence(channel: str) -> str:
    if channel.startswith("D"):  # a DM between people: no app can post there
        return ("This needs a channel: run it in a channel I am in (I cannot post in this "
                "direct message).")
    return "Invite me with `/invite @dockops` and run it again: I cannot post in this channel."


@dataclass
class SlackThread:
    """A bot message (chat.postMessage) updated in place, with replies in its thread."""

    client: WebClient
    channel: str
    ts: str

    def update(self, message: Message) -> None:
        with posting(self.channel):
            self.client.chat_update(channel=self.channel, ts=self.ts, **payload(message))
            if message.attachment:
                upload(self.client, self.channel, message.attachment, thread_ts=self.ts)

    def reply(self, message: Message) -> None:
        with posting(self.channel):
            self.client.chat_postMessage(channel=self.channel, thread_ts=self.ts,
                                         **payload(message))
            if message.attachment:
                upload(self.client, self.channel, message.attachment, thread_ts=self.ts)


def upload(client: WebClient, channel: str, attachment: Attachment,
           thread_ts: str | None = None) -> None:
    if attachment.spool is not None:
        upload_from_disk(client, channel, attachment, thread_ts)
        return
    client.files_upload_v2(channel=channel, content=attachment.content,
                           filename=attachment.filename, title=attachment.title or None,
                           thread_ts=thread_ts)


def upload_from_disk(client: WebClient, channel: str, attachment: Attachment,
                     thread_ts: str | None = None) -> None:
    """files_upload_v2's three steps with the body read from disk in pieces: slack_sdk's own
    reads the whole file into memory, which a 1 GiB log must not cost."""
    assert attachment.spool is not None
    spool = attachment.spool
    reserved = client.files_getUploadURLExternal(filename=attachment.filename, length=spool.size)
    with open(spool.path, "rb") as body:
        request = urllib.request.Request(
            reserved["upload_url"], data=body, method="POST",
            headers={"Content-Length": str(spool.size),
                     "Content-Type": "application/octet-stream"})
        try:
            with urllib.request.urlopen(request, timeout=max(client.timeout, 60)) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
    if status != 200:
        raise SlackRequestError(f"Failed to upload {attachment.filename} (status: {status})")
    client.files_completeUploadExternal(
        files=[{"id": reserved["file_id"], "title": attachment.title or attachment.filename}],
        channel_id=channel, thread_ts=thread_ts)


class SlackResponder:
    """Where one slash command (or button click) is answered."""

    def __init__(self, client: WebClient, response_url: str, channel_id: str, *,
                 ephemeral: bool = False, replace_original: bool = False,
                 user_id: str = "") -> None:
        self.client = client
        self.response_url = response_url
        self.channel_id = channel_id
        self.ephemeral = ephemeral
        self.replace_original = replace_original
        self.user_id = user_id  # for an ephemeral answer when response_url fails

    def send(self, message: Message) -> None:
        body = payload(message)
        note = self._attach(message)
        if note:
            body["blocks"] = [*body["blocks"], blocks.context(note)]
        self._post(body)

    def _post(self, body: dict[str, Any]) -> None:
        body["response_type"] = "ephemeral" if self.ephemeral else "in_channel"
        if self.replace_original:
            body["replace_original"] = True
        try:
            response = webhook(self.response_url).send_dict(body)
            failure = "" if response.status_code == 200 else \
                f"HTTP {response.status_code} {str(response.body)[:200]}"
        except OSError as exc:  # the retries are spent: the connection kept failing
            failure = exc.__class__.__name__
        if failure:
            log.warning("response_url failed (%s): answering through the Web API", failure)
            self._post_through_api(body)

    def _post_through_api(self, body: dict[str, Any]) -> None:
        """The answer when response_url is spent, expired or down: never a silent nothing."""
        text, blocks_ = body["text"], body["blocks"]
        try:
            if self.ephemeral and self.user_id:
                self.client.chat_postEphemeral(channel=self.channel_id, user=self.user_id,
                                               text=text, blocks=blocks_)
            elif not self.ephemeral:
                self.client.chat_postMessage(channel=self.channel_id, text=text, blocks=blocks_)
            else:
                log.error("a private answer was lost: response_url failed and no user is known")
        except SlackApiError as exc:
            log.error("the answer could not be delivered: %s", exc.response.get("error"))

    def _attach(self, message: Message) -> str:
        """Upload the message's file; a note for the reply when that could not happen."""
        if message.attachment is None:
            return ""
        if self.ephemeral:
            return "The full output is not attached in a private reply: run it without " \
                   "`--private` to get the file."
        try:
            upload(self.client, self.channel_id, message.attachment)
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown error")
            hint = " Invite the bot to this channel (`/invite @dockops`)." \
                if error in ("not_in_channel", "channel_not_found") else ""
            return f"Could not attach `{message.attachment.filename}`: Slack said `{error}`.{hint}"
        return ""

    def start_thread(self, message: Message) -> SlackThread:
        """Post the message to update; CannotPost (and a private answer) where Slack refuses."""
        try:
            with posting(self.channel_id):
                response = self.client.chat_postMessage(channel=self.channel_id,
                                                        **payload(message))
        except CannotPost:
            self.ephemeral = True  # the channel refused the bot: the answer is the user's alone
            raise
        return SlackThread(self.client, response["channel"], response["ts"])
