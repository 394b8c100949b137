"""`dockops console`: the same pipeline, typed at a terminal, answers printed as text."""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from bot.pipeline import Outcome, Pipeline
from bot.policy import Actor
from bot.services import Services
from bot.views.message import Message
from bot.views.terminal import render


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
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def send(self, message: Message) -> None:
        self.out.write(render(message))
        self.out.flush()

    def start_thread(self, message: Message) -> ConsoleThread:
        self.send(message)
        return ConsoleThread(self.out)


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
        return self.pipeline.execute(text, self.actor, ConsoleResponder(self.out))

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
