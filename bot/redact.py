"""Secrets never shown: env values, `NAME=value` pairs, URL passwords and tokens are masked.

What counts as a secret name (`is_secret_key`): the name is cut into parts at every
character that is not a letter or digit, at lower-to-upper case changes (`apiKey`) and
between letters and digits (`PW2`). It is a secret when a part is one of SECRET_PARTS
(`MYSQL_PW`, `DB_PASS`, `AWS_SECRET_ACCESS_KEY`, `api-key`, `x.auth`, `PWD` too), or when
a part contains one of GLUED_WORDS (`DBPASSWORD`, `APITOKEN`, `CLIENTSECRET`). Short
words count only whole, so `KEYBOARD_LAYOUT`, `MONKEY`, `PATH` and `AUTHOR` stay visible.
A harmless value masked costs a look at the container; a password shown costs a rotation.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import Any

from bot.commands.parser import shell_words

MASK = "********"
# Whole parts only: short words hide inside ordinary names (MONKEY, KEYBOARD, PASSENGER).
SECRET_PARTS = frozenset({
    "PW", "PWD", "PASS", "PASSWD", "PASSWORD", "PASSWORDS", "PASSPHRASE", "SECRET", "SECRETS",
    "TOKEN", "TOKENS", "KEY", "KEYS", "APIKEY", "CREDENTIAL", "CREDENTIALS", "CREDS", "AUTH",
    "AUTHORIZATION", "PRIVATE", "CERT", "SALT", "DSN", "COOKIE", "SESSION", "SIGNATURE",
})
# Long enough to be unmistakable inside a part: `DBPASSWORD`, `GITHUBTOKEN`.
GLUED_WORDS = ("PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "APIKEY")

_PART_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")
# Linear time on any text: a scheme starts only where a word starts (the lookbehind), and the
# possessive quantifiers never backtrack (each part excludes the character that ends it).
_URL_PASSWORD = re.compile(
    r"(?<![a-z0-9+.-])(?P<head>[a-z][a-z0-9+.-]*+://[^/\s:@]++:)(?P<pw>[^@\s/]++)(?=@)", re.I)
_SLACK_TOKEN = re.compile(r"\bxox[abposr]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+")
# `NAME=` where NAME is a whole run of name characters (the lookbehind: one try per run, so
# hostile output like `a.a.a.a...` stays linear); the value is read only for secret names.
_PAIR_NAME = re.compile(r"(?<![\w.-])(?P<name>[\w.-]++)=")
# A value: quoted up to its closing quote (or the line's end), else up to a separator.
_PAIR_VALUE = re.compile(r"\"[^\"\n]*+\"?|'[^'\n]*+'?|[^\s\"',;&}\\]++")
_PASSWORD_FLAG = re.compile(r"(?P<flag>--password(?:=|[ \t]++))(?P<value>[^\s\"'\\]++)")


def is_secret_key(key: str) -> bool:
    """Whether a variable, label or field named `key` holds a secret (see the module doc)."""
    parts = _NOT_ALNUM.split(_PART_BOUNDARY.sub("_", key).upper())
    return any(part in SECRET_PARTS or any(word in part for word in GLUED_WORDS)
               for part in parts if part)


def mask_value(key: str, value: str) -> str:
    """The value to show for an env var named `key`."""
    if is_secret_key(key):
        return MASK
    return mask_output(value)


def mask_env(pairs: Iterable[str]) -> list[str]:
    """`K=V` strings with secret values masked (the whole value, spaces and all)."""
    masked = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        masked.append(f"{key}{sep}{mask_value(key, value)}" if sep else mask_output(pair))
    return masked


def mask_document(document: Any) -> Any:
    """An inspect document (container or image) safe to show, summarise, template or attach.

    Every `Env` list at any depth (Config, ContainerConfig, ...) is masked as env, every
    `Labels` map by label name, and every other string as free output. A new copy: the
    engine's own document (needed to recreate a container) is left as it was.
    """
    if isinstance(document, dict):
        return {key: _mask_field(key, value) for key, value in document.items()}
    if isinstance(document, list):
        return [mask_document(item) for item in document]
    if isinstance(document, str):
        return mask_output(document)
    return document


def _mask_field(key: str, value: Any) -> Any:
    if key == "Env" and isinstance(value, list):
        return mask_env(str(item) for item in value)
    if key == "Labels" and isinstance(value, dict):
        return {name: mask_value(name, str(text)) for name, text in value.items()}
    return mask_document(value)


def mask_text(text: str) -> str:
    """Passwords inside URLs and Slack tokens, masked in free text."""
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + MASK, text)
    return _SLACK_TOKEN.sub(MASK, text)


def mask_output(text: str) -> str:
    """Container output (or any untrusted text) safe to show: URL passwords, Slack tokens,
    `--password X` and the values of secret `NAME=value` pairs (`AWS_SECRET_ACCESS_KEY=...`)."""
    text = _PASSWORD_FLAG.sub(lambda m: m["flag"] + MASK, mask_text(text))
    return mask_pairs(text)


def mask_pairs(text: str) -> str:
    """The values of `NAME=value` pairs whose NAME is a secret, masked; other pairs untouched."""
    kept: list[str] = []
    done = 0
    for match in _PAIR_NAME.finditer(text):
        # A pair inside a value already masked is gone with it.
        if match.start() < done or not is_secret_key(match["name"]):
            continue
        value = _PAIR_VALUE.match(text, match.end())
        if value is None:  # `NAME=` with nothing after it: nothing to hide
            continue
        kept += [text[done:match.end()], MASK]
        done = value.end()
    return "".join(kept) + text[done:] if kept else text


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
    # The parser's own words: `'login' -p X` and `l""ogin -p X` are login here too.
    words = shell_words(text)
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


def _subcommand(words: list[str]) -> str:
    """The first word after the global options (-H/--host NAME, --private)."""
    index = 0
    while index < len(words) and words[index].startswith("-"):
        index += 2 if words[index] in ("-H", "--host") else 1
    return words[index] if index < len(words) else ""


def _quote(word: str) -> str:
    return word if word == MASK or word.endswith(MASK) else shlex.quote(word)
