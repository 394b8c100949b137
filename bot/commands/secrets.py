"""Refuse command text that carries a password, before anything else reads it."""

from __future__ import annotations

# The parser imports this module to refuse before it splits; importing the module (not its
# names) works whichever of the two loads first.
from bot.commands import parser
from bot.errors import RefusedError

_GLOBAL_WITH_VALUE = ("-H", "--host")


def _words(text: str) -> list[str]:
    """The words the parser would read (quotes honoured: `'login'`, `l""ogin`, `lo\\gin` are
    `login`); whitespace words without quotes when a quote is left open. Never fails."""
    return parser.shell_words(text)


def _subcommand_index(words: list[str]) -> int:
    """Where the subcommand starts, after the global options (-H NAME, --private)."""
    index = 0
    while index < len(words) and words[index].startswith("-"):
        index += 2 if words[index] in _GLOBAL_WITH_VALUE else 1
    return index


def carries_password(text: str) -> bool:
    """True when the text types a password: `--password[=...]`, `--password-stdin`, `login -p`.

    `-p` is a password only for `login`; elsewhere (run, create) it publishes ports.
    """
    words = _words(text)
    if any(word.startswith("--password") for word in words):
        return True
    start = _subcommand_index(words)
    if start >= len(words) or words[start] != "login":
        return False
    return any(word.startswith("-p") for word in words[start + 1:])


def refuse_typed_secrets(text: str) -> None:
    """Raise RefusedError when the text carries a password; the error never repeats the text."""
    if carries_password(text):
        raise RefusedError(
            "That command carries a password, so dockops did not run it (and does not repeat "
            "it). Passwords are never typed in Slack.",
            detail="Put the registry's credentials in the dockops config instead: "
                   "[registries.\"REGISTRY\"] username = \"...\" with password_env = \"ENV_VAR\" "
                   "or password_file = \"/path\" (or a docker config.json / credential helper on "
                   "the bot's host), then run `/docker login REGISTRY`. The password went out with "
                   "the command: change it.",
        )
