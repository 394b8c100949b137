"""Read `/docker ...` text with the docker CLI's own grammar (pflag-style)."""

from __future__ import annotations

import html
import re
import shlex
from collections.abc import Iterable, Sequence
from typing import Any

from bot.commands.kinds import Kind
from bot.commands.secrets import refuse_typed_secrets
from bot.commands.spec import Command, Flag, Invocation
from bot.errors import UsageError

MAX_TEXT = 4000
# Slack clients turn quotes into typographic ones; the shell would not.
_SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_QUOTING = re.compile(r"[\"'\\]")


class CommandTable:
    """Every command by its canonical path and its aliases."""

    def __init__(self, commands: Iterable[Command]) -> None:
        self.commands: tuple[Command, ...] = tuple(commands)
        self._by_path: dict[tuple[str, ...], Command] = {}
        for command in self.commands:
            for path in (command.path, *command.aliases):
                if path in self._by_path:
                    raise ValueError(f"two commands claim {' '.join(path)!r}")
                self._by_path[path] = command

    def __getitem__(self, name: str) -> Command:
        return self._by_path[tuple(name.split())]

    def resolve(self, words: Sequence[str]) -> tuple[Command, int] | None:
        """The command the leading words name, and how many words it took."""
        for size in (3, 2, 1):
            command = self._by_path.get(tuple(words[:size]))
            if command and len(words) >= size:
                return command, size
        return None

    def groups(self) -> set[str]:
        return {path[0] for path in self._by_path if len(path) > 1}

    def names(self) -> list[str]:
        return sorted(" ".join(path) for path in self._by_path)

    def subcommands(self, group: str) -> list[str]:
        return sorted(" ".join(p) for p in self._by_path if len(p) > 1 and p[0] == group)


def _cleaned(text: str) -> str:
    """The text as a shell would see it: Slack's escaping undone, typographic quotes plain."""
    return html.unescape(text).translate(_SMART_QUOTES)


def shell_words(text: str) -> list[str]:
    """The words `split_text` reads, and never an error: when a quote is left open, the
    whitespace words with every quote and backslash dropped (what the shell would have read
    once the quote was closed). For checks that must see words however they are quoted."""
    cleaned = _cleaned(text)
    try:
        return shlex.split(cleaned)
    except ValueError:
        return [word for word in (_QUOTING.sub("", part) for part in cleaned.split()) if word]


def split_text(text: str) -> list[str]:
    """Split like a POSIX shell, after undoing Slack's escaping."""
    if len(text) > MAX_TEXT:
        raise UsageError(
            f"That command is {len(text):,} characters long; dockops reads at most {MAX_TEXT:,}.",
        )
    cleaned = _cleaned(text)
    try:
        return shlex.split(cleaned)
    except ValueError as exc:
        raise UsageError(
            f"Could not read the command: {exc} (a quote is not closed).",
            detail="Close the quote, or escape it with a backslash.",
        ) from None


def parse(text: str, table: CommandTable) -> Invocation:
    """Turn command text into an Invocation, or raise UsageError saying what is wrong."""
    refuse_typed_secrets(text)  # first: a typed password is never parsed, echoed or logged
    words = split_text(text)
    host, private, words = _global_options(words)
    if not words or words[0] in ("--help", "help"):
        return _help(table, words[1:], text, host, private)
    found = table.resolve(words)
    if found is None:
        raise _unknown_command(table, words)
    command, used = found
    rest = words[used:]
    if command.name != "help" and "--help" in _options_part(command, rest):
        return _help(table, list(command.path), text, host, private)
    options, args, typed = _parse_options(command, rest)
    _check_arity(command, args)
    return Invocation(command, options, tuple(args), text, host, private, frozenset(typed))


def _help(table: CommandTable, topic: list[str], text: str, host: str | None,
          private: bool) -> Invocation:
    return Invocation(table["help"], {}, tuple(topic), text, host, private)


def _global_options(words: list[str]) -> tuple[str | None, bool, list[str]]:
    """Options that come before the subcommand: -H/--host and --private."""
    host: str | None = None
    private = False
    i = 0
    while i < len(words) and words[i].startswith("-") and words[i] != "--help":
        word = words[i]
        name, eq, value = word.partition("=")
        if name in ("-H", "--host"):
            if not eq:
                if i + 1 >= len(words):
                    raise UsageError(f"flag needs an argument: {name}",
                                     detail="Example: /docker --host prod ps")
                i += 1
                value = words[i]
            host = value
        elif word == "--private":
            private = True
        elif word.startswith("-H") and len(word) > 2:
            host = word[2:]
        else:
            raise UsageError(f"unknown flag: {word}",
                             detail="Global flags: -H/--host NAME, --private. See /docker help.")
        i += 1
    # --private is also accepted at the end, where people tend to type it.
    rest = words[i:]
    if "--private" in rest:
        private = True
        rest = [w for w in rest if w != "--private"]
    return host, private, rest


def _options_part(command: Command, words: list[str]) -> list[str]:
    """The words that can still be options (run/exec stop at the first argument)."""
    if command.interspersed:
        return words[: words.index("--")] if "--" in words else words
    for index, word in enumerate(words):
        if word == "--" or not word.startswith("-"):
            return words[:index]
    return words


def _parse_options(command: Command, words: list[str]) -> tuple[dict[str, Any], list[str], set[str]]:
    options: dict[str, Any] = {flag.dest: flag.initial() for flag in command.flags}
    collected: dict[str, list[Any]] = {}  # a repeatable kind's values, gathered at the end
    typed: set[str] = set()
    args: list[str] = []
    only_args = False
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if only_args or word == "-" or not word.startswith("-"):
            args.append(word)
            only_args = only_args or not command.interspersed
            continue
        if word == "--":
            only_args = True
            continue
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            flag = command.flag(name) if len(name) > 1 else None
            if flag is None:
                raise _usage(command, f"unknown flag: --{name}")
            if flag.takes_value and not eq:
                if flag.alone and _no_value_follows(words, i):
                    options[flag.alone] = True
                    typed.add(flag.alone)
                    continue
                if i >= len(words):
                    raise _usage(command, f"flag needs an argument: --{name}")
                value, i = words[i], i + 1
            _assign(command, flag, f"--{name}", options, collected,
                    value if (eq or flag.takes_value) else None)
            typed.add(flag.dest)
            continue
        cluster = word[1:]
        for j, letter in enumerate(cluster):
            flag = command.flag(letter) if letter != "-" else None
            if flag is None or flag.short != letter:
                raise _usage(command, f"unknown shorthand flag: {letter!r} in {word}")
            typed.add(flag.dest)
            if not flag.takes_value:
                _assign(command, flag, f"-{letter}", options, collected, None)
                continue
            value = cluster[j + 1:].removeprefix("=")
            if not value and flag.alone and _no_value_follows(words, i):
                options[flag.alone] = True
                typed.add(flag.alone)
                break
            if not value:
                if i >= len(words):
                    raise _usage(command, f"flag needs an argument: {letter!r} in {word}")
                value, i = words[i], i + 1
            _assign(command, flag, f"-{letter}", options, collected, value)
            break
    for flag in command.flags:
        if isinstance(flag.kind, Kind) and flag.dest in collected:
            options[flag.dest] = flag.kind.gather(tuple(collected[flag.dest]))
    return options, args, typed


def _no_value_follows(words: list[str], i: int) -> bool:
    """Nothing, or another flag, comes after a flag that wanted a value."""
    return i >= len(words) or words[i].startswith("-")


def _assign(command: Command, flag: Flag, typed: str, options: dict[str, Any],
            collected: dict[str, list[Any]], value: str | None) -> None:
    """Store one flag's value, converted by its kind; `typed` is the flag as written."""
    if isinstance(flag.kind, Kind):
        try:
            converted = flag.kind.convert(str(value), typed)
        except UsageError as exc:  # the kind's sentence; the usage line when it gave no example
            raise (_usage(command, exc.message) if not exc.detail else exc) from None
        if flag.kind.many:
            collected.setdefault(flag.dest, []).append(converted)
        else:
            options[flag.dest] = converted
    elif flag.kind == "bool":
        if value is None or value.lower() in ("true", "1"):
            options[flag.dest] = True
        elif value.lower() in ("false", "0"):
            options[flag.dest] = False
        else:
            raise _usage(command, f'invalid argument "{value}" for "--{flag.long}": '
                                  "use true or false")
    elif flag.kind == "int":
        try:
            options[flag.dest] = int(str(value))
        except ValueError:
            raise _usage(command, f'invalid argument "{value}" for "--{flag.long}": '
                                  "it must be a whole number") from None
    elif flag.kind == "list":
        options[flag.dest] = (*options[flag.dest], str(value))
    else:
        options[flag.dest] = str(value)


def _check_arity(command: Command, args: list[str]) -> None:
    required = sum(1 for arg in command.args if arg.required)
    unbounded = any(arg.many for arg in command.args)
    allowed = len(command.args)
    if len(args) < required:
        plural = "argument" if required == 1 else "arguments"
        quantity = "at least" if unbounded or allowed > required else "exactly"
        raise _usage(command, f'"docker {command.name}" requires {quantity} {required} {plural}.')
    if not unbounded and len(args) > allowed:
        extra = " ".join(args[allowed:])
        if allowed == 0:
            raise _usage(command, f'"docker {command.name}" accepts no arguments (got: {extra}).')
        raise _usage(command, f'"docker {command.name}" accepts at most {allowed} '
                              f"argument{'s' if allowed > 1 else ''} (extra: {extra}).")


def _usage(command: Command, message: str) -> UsageError:
    return UsageError(
        message,
        detail=f"Usage:  {command.usage}\nSee '/docker {command.name} --help'.",
    )


def _unknown_command(table: CommandTable, words: list[str]) -> UsageError:
    first = words[0]
    if first in table.groups():
        subs = ", ".join(f"`{name}`" for name in table.subcommands(first))
        wanted = " ".join(words[:2])
        return UsageError(f"`{wanted}` is not a docker command dockops knows.",
                          detail=f"Commands under `{first}`: {subs}.")
    guesses = close_matches(first, {n.split()[0] for n in table.names()})
    hint = f"Did you mean {' or '.join(f'`{g}`' for g in guesses)}? " if guesses else ""
    return UsageError(f"`{first}` is not a docker command dockops knows.",
                      detail=f"{hint}See `/docker help` for the list.")


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, a swap of two neighbours counting as one edit (`psuh` -> `push`)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def close_matches(word: str, names: Iterable[str], limit: int = 3) -> list[str]:
    """Commands close to a mistyped `word`, closest first: at most one edit per three letters
    (one for short words, so `pause` never suggests `push`), or a name it starts (3+ letters)."""
    typed = word.lower()
    allowed = max(1, len(typed) // 3)
    scored = []
    for name in names:
        distance = edit_distance(typed, name)
        if distance <= allowed or (len(typed) >= 3 and name.startswith(typed)):
            scored.append((distance, name))
    return [name for _, name in sorted(scored)[:limit]]
