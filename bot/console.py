"""`dockops console`: the same pipeline, typed at a terminal, answers printed as text."""

from __future__ import annotations

import getpass
import shlex
import sys
import time
from typing import TextIO

from bot.errors import RefusedError
from bot.pipeline import Outcome, Pipeline
from bot.policy import Actor
from bot.services import Services
from bot.views import confirm as confirm_views
from bot.views import problems as error_views
from bot.views.message import Message
from bot.views.terminal import render

_YES = ("y", "yes")


class ConsoleThread:
    """A follow/build stream in the terminal: updates and replies are printed as they come."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def update(self, message: Message) -> None:
        self.out.write(render(message))
        self.out.flush()

    def reply(self, message: Message) -> None:
        self.update(message)


class ConsoleResponder:
    """Answers printed as terminal text; `render` shows control characters as `cat -v` does,
    so a container's escape sequences reach the terminal as text, never as commands."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def send(self, message: Message) -> None:
        # Buttons mean nothing in a terminal: the console asks y/N instead.
        self.out.write(render(confirm_views.without_buttons(message)))
        self.out.flush()

    def start_thread(self, message: Message) -> ConsoleThread:
        self.send(message)
        return ConsoleThread(self.out)


class _Discard:
    """A responder for answers nobody needs to see."""

    def send(self, message: Message) -> None:
        pass

    def start_thread(self, message: Message) -> ConsoleThread:
        raise RuntimeError("nothing follows a discarded answer")


class Console:
    def __init__(self, services: Services, *, assume_yes: bool = False,
                 out: TextIO = sys.stdout, stdin: TextIO = sys.stdin) -> None:
        self.pipeline = Pipeline(services)
        self.actor = Actor(user_id=f"console:{getpass.getuser()}", user_name=getpass.getuser(),
                           source="console")
        self.assume_yes = assume_yes
        self.out = out
        self.stdin = stdin

    def run_one(self, text: str) -> Outcome:
        responder = ConsoleResponder(self.out)
        outcome = self.pipeline.execute(text, self.actor, responder)
        if outcome.awaiting_confirmation:
            return self._confirm(text, outcome, responder)
        return outcome

    def _confirm(self, text: str, preview: Outcome, responder: ConsoleResponder) -> Outcome:
        """Settle a destructive command's confirmation: --yes, a y/N on a terminal, or refuse."""
        if self.assume_yes:
            return self.pipeline.decide(preview.token, self.actor, responder, confirm=True)
        if self.stdin.isatty():
            answer = self._ask("Proceed? [y/N] ")
            return self.pipeline.decide(preview.token, self.actor, responder,
                                        confirm=answer in _YES)
        started = time.monotonic()
        self.pipeline.decide(preview.token, self.actor, _Discard(), confirm=False)
        refusal = error_views.error(RefusedError(
            f"`{preview.command}` needs a confirmation and there is no terminal to ask on: "
            "nothing was done.",
            detail=f"Add --yes to confirm it: dockops console --yes -c {shlex.quote(text)}"))
        responder.send(refusal)
        return Outcome(preview.command, "refused", "refused", refusal,
                       time.monotonic() - started, preview.token)

    def _ask(self, prompt: str) -> str:
        self.out.write(prompt)
        self.out.flush()
        return self.stdin.readline().strip().lower()

    def repl(self) -> int:
        interactive = self.stdin.isatty()
        failures = 0
        while True:
            if interactive:
                self.out.write("docker> ")
                self.out.flush()
            line = self.stdin.readline()
            if not line:
                break
            text = line.strip()
            if text in ("exit", "quit"):
                break
            if text:
                failures += 0 if self.run_one(text).ok else 1
        return 0 if interactive or not failures else 1
