"""Secrets never shown: env values and URL passwords are masked before display."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable

MASK = "********"
_SECRET_KEY = re.compile(
    r"(PASS|PWD|TOKEN|SECRET|KEY|CREDENTIAL|AUTH|PRIVATE|CERT|SALT|DSN|COOKIE|SESSION|SIGNATURE)",
    re.IGNORECASE,
)
# Linear time on any text: a scheme starts only where a word starts (the lookbehind), and the
# possessive quantifiers never backtrack (each part excludes the character that ends it).
_URL_PASSWORD = re.compile(
    r"(?<![a-z0-9+.-])(?P<head>[a-z][a-z0-9+.-]*+://[^/\s:@]++:)(?P<pw>[^@\s/]++)(?=@)", re.I)
_SLACK_TOKEN = re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+")


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def mask_value(key: str, value: str) -> str:
    """The value to show for an env var named `key`."""
    if is_secret_key(key):
        return MASK
    return mask_text(value)


def mask_env(pairs: Iterable[str]) -> list[str]:
    """`K=V` strings with secret values masked."""
    masked = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        masked.append(f"{key}{sep}{mask_value(key, value)}" if sep else pair)
    return masked


def mask_text(text: str) -> str:
    """Passwords inside URLs and Slack tokens, masked in free text."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return _SLACK_TOKEN.sub(MASK, text)


def mask_command(text: str) -> str:
    """Command text safe to store and log: password flags, secret `K=V` values, URLs, tokens.

    `-p` is a password only for `login` (elsewhere it publishes ports); `--password` always is.
    """
    words, masked = _masked_words(text)
    if masked == words:
        return mask_text(text)
    return mask_text(" ".join(_quote(word) for word in masked))


def mask_echoes(reply: str, command_text: str) -> str:
    """A reply with every secret the command typed masked, should the reply echo one."""
    for word, masked in zip(*_masked_words(command_text), strict=True):
        secret = word[len(masked) - len(MASK):] if masked != word else ""
        if secret:
            reply = reply.replace(secret, MASK)
    return mask_text(reply)


def _masked_words(text: str) -> tuple[list[str], list[str]]:
    """The command's words, and the same words with secrets replaced by MASK."""
    words = _words(text)
    login = _subcommand(words) == "login"
    masked: list[str] = []
    hide_next = False
    for word in words:
        if hide_next:
            masked.append(MASK)
            hide_next = False
            continue
        name, eq, _ = word.partition("=")
        if name == "--password" or (login and name == "-p"):
            masked.append(f"{name}={MASK}" if eq else name)
            hide_next = not eq
        elif login and word.startswith("-p") and len(word) > 2:
            masked.append("-p" + MASK)
        else:
            masked.append(_mask_pair(word))
    return words, masked


def _mask_pair(word: str) -> str:
    """`K=V`, `--env=K=V` or `-eK=V` with V masked when K names a secret."""
    pair = word
    if word.startswith("--"):
        pair = word.partition("=")[2]
    elif word.startswith("-"):
        pair = word[2:]
    key, eq, _ = pair.partition("=")
    if not eq or not is_secret_key(key):
        return word
    return f"{word[: len(word) - len(pair)]}{key}={MASK}"


def _words(text: str) -> list[str]:
    """Shell words; plain whitespace words when the quoting is broken (never raises)."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _subcommand(words: list[str]) -> str:
    """The first word after the global options (-H/--host NAME, --private)."""
    index = 0
    while index < len(words) and words[index].startswith("-"):
        index += 2 if words[index] in ("-H", "--host") else 1
    return words[index] if index < len(words) else ""


def _quote(word: str) -> str:
    return word if word == MASK or word.endswith(MASK) else shlex.quote(word)
