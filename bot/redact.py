"""Secrets never shown: env values and URL passwords are masked before display."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "********"
_SECRET_KEY = re.compile(
    r"(PASS|PWD|TOKEN|SECRET|KEY|CREDENTIAL|AUTH|PRIVATE|CERT|SALT|DSN|COOKIE|SESSION|SIGNATURE)",
    re.IGNORECASE,
)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]+:)(?P<pw>[^@\s/]+)(?=@)", re.I)
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
