"""Logging: readable lines by default, JSON with --log-format json. Secrets masked either way."""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.redact import MASK, is_secret_key, mask_text

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# `DB_PASSWORD=hunter2` anywhere in a line (a command's -e, an env dump, a URL query).
_SECRET_PAIR = re.compile(r"(?P<key>\b[A-Za-z_][\w.-]*)=(?P<value>[^\s\"',;&}\\]+)")
_PASSWORD_FLAG = re.compile(r"(?P<flag>--password(?:=|\s+))(?P<value>[^\s\"'\\]+)")


def mask_line(text: str) -> str:
    """A log line with Slack tokens, URL passwords, secret `K=V` values and --password masked."""
    text = mask_text(text)
    text = _SECRET_PAIR.sub(lambda m: f"{m['key']}={MASK}" if is_secret_key(m["key"])
                            else m[0], text)
    return _PASSWORD_FLAG.sub(lambda m: m["flag"] + MASK, text)


def extras(record: logging.LogRecord) -> dict[str, Any]:
    """The `extra=` fields of a record, secret-looking ones masked."""
    return {key: MASK if is_secret_key(key) else value
            for key, value in record.__dict__.items() if key not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                 "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage(), **extras(record)}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return mask_line(json.dumps(entry, default=str))


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message key=value ...`, for people."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{key}={value}" for key, value in extras(record).items())
        line = super().format(record)
        return mask_line(f"{line} {fields}" if fields else line)


class Throttled:
    """A log line that anyone may trigger (an unsigned request): at most one per `every`
    seconds; the next line written says how many were left out since the last."""

    def __init__(self, logger: logging.Logger, every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.every = every
        self.clock = clock
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._suppressed = 0

    def warning(self, msg: str, *args: object) -> bool:
        """Log `msg % args` unless a line went out within `every` s; True when written."""
        with self._lock:
            now = self.clock()
            if now - self._last < self.every:
                self._suppressed += 1
                return False
            self._last, suppressed, self._suppressed = now, self._suppressed, 0
        if suppressed:
            msg += f" ({suppressed} more like it in the last {self.every:.0f} s not logged)"
        self.logger.warning(msg, *args, extra={"suppressed": suppressed})
        return True


def setup(fmt: str = "text", level: str = "INFO") -> None:
    """Log to stderr in `fmt` ("text" or "json") at `level`; quiet the chatty libraries."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "docker", "slack_sdk", "slack_bolt", "apscheduler", "waitress"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
