"""The registry auth challenge (`WWW-Authenticate`) and bearer tokens kept until they expire.

https://distribution.github.io/distribution/spec/auth/token/
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass

DEFAULT_TOKEN_SECONDS = 60  # the spec's default when the issuer gives no expires_in
EXPIRY_MARGIN = 10.0
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Challenge:
    """`Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`."""

    scheme: str  # "bearer" | "basic"
    realm: str = ""
    service: str = ""
    scope: str = ""


def parse_challenge(header: str) -> Challenge | None:
    """The challenge of a 401; None when the header names no scheme dockops speaks."""
    scheme, _, rest = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme not in ("bearer", "basic"):
        return None
    params = {m[1].lower(): (m[2] if m[2] is not None else m[3]) for m in _PARAM.finditer(rest)}
    return Challenge(scheme, params.get("realm", ""), params.get("service", ""),
                     params.get("scope", ""))


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float  # time.monotonic()


class TokenCache:
    """Bearer tokens per (realm, service, scope, user), reused until shortly before expiry."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str, str, str], Token] = {}
        self._locks: dict[tuple[str, str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, key: tuple[str, str, str, str]) -> threading.Lock:
        """One lock per key: concurrent checks of one repository ask the issuer once."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: tuple[str, str, str, str]) -> str:
        token = self._tokens.get(key)
        if token is None or token.expires_at - EXPIRY_MARGIN <= time.monotonic():
            return ""
        return token.value

    def put(self, key: tuple[str, str, str, str], value: str, expires_in: float) -> None:
        seconds = expires_in if expires_in > 0 else DEFAULT_TOKEN_SECONDS
        self._tokens[key] = Token(value, time.monotonic() + seconds)
