"""Which container events an `[[alerts]]` rule takes: hosts, selectors, exclusions, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime
from fnmatch import fnmatchcase

from bot.config import AlertConfig

COMPOSE_PROJECT = "com.docker.compose.project"


def selector_matches(selector: str, attributes: dict[str, str]) -> bool:
    """`label:KEY[=VALUE]`, `name:GLOB`, `image:GLOB` or `compose:PROJECT` against an event's
    attributes (the engine sends the container's labels, name and image with each event)."""
    kind, _, pattern = selector.partition(":")
    if kind == "label":
        key, has_value, value = pattern.partition("=")
        return key in attributes and (not has_value or attributes[key] == value)
    if kind == "name":
        return fnmatchcase(attributes.get("name", ""), pattern)
    if kind == "image":
        return fnmatchcase(attributes.get("image", ""), pattern)
    if kind == "compose":
        return attributes.get(COMPOSE_PROJECT) == pattern
    return False


def watches(rule: AlertConfig, host: str, attributes: dict[str, str]) -> bool:
    """Whether `rule` covers this container on `host` (hosts = [] means every host)."""
    if rule.hosts and host not in rule.hosts:
        return False
    if rule.containers and not any(selector_matches(s, attributes) for s in rule.containers):
        return False
    return not any(selector_matches(s, attributes) for s in rule.exclude)


def quiet_now(rule: AlertConfig, now: float) -> bool:
    """Whether `now` (unix seconds) falls in the rule's quiet hours (UTC; may span midnight)."""
    if not rule.quiet_hours:
        return False
    start, end = (_minutes(part) for part in rule.quiet_hours.split("-"))
    moment = datetime.fromtimestamp(now, UTC)
    minute = moment.hour * 60 + moment.minute
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)
