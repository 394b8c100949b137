"""§6 Terminal: what a container prints reaches `dockops console` as text, never as a command to
the terminal (no ESC, BEL, CSI or other control byte but newline and tab)."""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Callable

import docker
import pytest

from bot.console import Console
from bot.services import Services
from bot.views.message import Attachment, Message
from bot.views.terminal import printable, render
from tests.support import wait_for

Make = Callable[..., docker.models.containers.Container]
# Retitle the window, ring the bell, clear the screen; then a C1 CSI and a DEL.
HOSTILE = r"printf '\033]0;pwned\007\033[2J\n'; printf 'c1:\302\23331m del:\177 cr:x\ry\n'"
# Any C0 control but tab and newline, DEL, and any C1 control.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.mark.parametrize(("text", "shown"), [
    ("\x1b]0;pwned\x07\x1b[2J", "^[]0;pwned^G^[[2J"),
    ("tab\tand newline\n", "tab\tand newline\n"),
    ("crlf\r\nline", "crlf\nline"),
    ("bar\rdone", "bar^Mdone"),
    ("\x9b31m\x7f\x00", "M-^[31m^?^@"),
    ("ünïcode ✓", "ünïcode ✓"),
])
def test_control_characters_are_shown_not_obeyed(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_every_part_of_a_message_is_printable() -> None:
    message = Message(text="\x1b[2J", blocks=(
        {"type": "header", "text": {"type": "plain_text", "text": "\x1b]0;t\x07"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "```\x1b[31mred\x1b[0m```"}}),
        attachment=Attachment("out.txt", b"\x1b[2Jfile\x07"))
    assert not CONTROL.search(render(message))


def test_console_logs_of_a_hostile_container_write_no_control_byte(
        services: Services, make_container: Make) -> None:
    hostile = make_container(["sh", "-c", f"{HOSTILE}; echo done; sleep 300"])
    wait_for(lambda: b"done" in hostile.logs(), timeout=10, what="the hostile output")
    out = io.StringIO()
    console = Console(services, out=out, stdin=io.StringIO(""))
    for text in (f"logs {hostile.name}", f"exec {hostile.name} sh -c {shlex.quote(HOSTILE)}"):
        assert console.run_one(text).ok, out.getvalue()
    written = out.getvalue()
    assert not CONTROL.search(written), repr(CONTROL.search(written))
    assert "\x1b" not in written and "\x07" not in written and "\x9b" not in written
    assert written.count("^[]0;pwned^G^[[2J") == 2  # shown, once per command
    assert "M-^[31m" in written and "^?" in written
