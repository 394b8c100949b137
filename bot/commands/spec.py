"""The shape of a command: flags and arguments as the docker CLI spells them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.commands.kinds import Kind
from bot.roles import Role

# The plain kinds by name; a Kind object (bot/commands/kinds.py) reads a typed value.
FlagKind = Literal["bool", "str", "int", "list"]


@dataclass(frozen=True)
class Flag:
    """One option: `--long`, optional `-s`, and what value it takes (converted at parse time)."""

    long: str
    short: str | None = None
    kind: FlagKind | Kind = "bool"
    help: str = ""
    metavar: str = ""
    default: Any = None
    # A bool flag this one sets when typed with no value (`events -f` alone: follow).
    alone: str = ""

    @property
    def dest(self) -> str:
        return self.long.replace("-", "_")

    @property
    def takes_value(self) -> bool:
        return self.kind != "bool"

    def initial(self) -> Any:
        if isinstance(self.kind, Kind):
            return self.kind.initial()
        if self.kind == "list":
            return ()
        if self.kind == "bool":
            return bool(self.default)
        return self.default

    def signature(self) -> str:
        short = f"-{self.short}, " if self.short else "    "
        named = self.kind if isinstance(self.kind, str) else "value"
        value = f" {self.metavar or named}" if self.takes_value else ""
        return f"{short}--{self.long}{value}"


@dataclass(frozen=True)
class Arg:
    """A positional argument; `many` takes every remaining word."""

    name: str
    required: bool = True
    many: bool = False


@dataclass(frozen=True)
class Command:
    """One docker subcommand: its grammar, who may run it, and whether it destroys."""

    path: tuple[str, ...]
    summary: str
    role: Role
    args: tuple[Arg, ...] = ()
    flags: tuple[Flag, ...] = ()
    aliases: tuple[tuple[str, ...], ...] = ()
    examples: tuple[str, ...] = ()
    destructive: bool | Callable[[Invocation], bool] = False
    # run/exec stop reading options at the image/container: the rest is its command.
    interspersed: bool = True
    # When the role depends on what was typed (logs -f, cp into a container).
    role_for: Callable[[Invocation], Role] | None = None
    # False for the bot's own commands (help, audit, jobs, follows): they touch no Docker
    # host, so their role comes from [access.roles] alone.
    on_host: bool = True

    @property
    def name(self) -> str:
        return " ".join(self.path)

    @property
    def usage(self) -> str:
        words = [self.name]
        if self.flags:
            words.append("[OPTIONS]")
        for arg in self.args:
            word = arg.name + (f" [{arg.name}...]" if arg.many else "")
            words.append(word if arg.required else f"[{word}]")
        return "docker " + " ".join(words)

    def flag(self, token: str) -> Flag | None:
        """The flag a `--long` or `-s` name stands for (without dashes)."""
        for flag in self.flags:
            if token in (flag.long, flag.short):
                return flag
        return None

    def required_role(self, invocation: Invocation) -> Role:
        return self.role_for(invocation) if self.role_for else self.role

    def is_destructive(self, invocation: Invocation) -> bool:
        if callable(self.destructive):
            return self.destructive(invocation)
        return self.destructive


@dataclass(frozen=True)
class Invocation:
    """A parsed command line: the command, its option values and its arguments."""

    command: Command
    options: Mapping[str, Any] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    text: str = ""
    host: str | None = None
    private: bool = False
    typed: frozenset[str] = frozenset()

    def opt(self, name: str) -> Any:
        return self.options.get(name.replace("-", "_"))

    def given(self, name: str) -> bool:
        """True when the user typed the option (not just its default)."""
        return name.replace("-", "_") in self.typed
