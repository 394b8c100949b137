"""What a job tells people, as data: one frozen dataclass per kind of notice.

A job says what happened; the Slack view (bot/views/jobs.py) says how it looks, when the
outbox delivers it. The outbox stores `encode(notice)`, JSON with a kind tag, so a queued
notice survives a restart (and a change of wording) and is rendered only at delivery.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, get_args, get_origin, get_type_hints

# The update notice's buttons. A button's token names a stored command (bot/store/buttons.py);
# the action ID says which listener takes the click.
PULL_ACTION = "dockops.update.pull"
RECREATE_ACTION = "dockops.update.recreate"
SNOOZE_ACTION = "dockops.update.snooze"


@dataclass(frozen=True)
class NoticeButtons:
    """The tokens of an update notice's buttons; each runs a stored command ('' : no button)."""

    pull: str
    recreate: str
    snooze: str


# -- the update job ------------------------------------------------------------------------

@dataclass(frozen=True)
class UpdateAvailable:
    """The registry has a new image under a watched tag (found without pulling)."""

    job: str
    host: str
    ref: str
    old: str  # the running digest
    new: str  # the registry's digest
    containers: tuple[str, ...]
    buttons: NoticeButtons


@dataclass(frozen=True)
class Pulled:
    """The new image was pulled; `stale` containers still run the old one."""

    job: str
    host: str
    ref: str
    old: str
    new: str
    stale: tuple[str, ...]


@dataclass(frozen=True)
class RecreatedContainer:
    """How one container's recreation on the new image went."""

    container: str
    ok: bool
    rolled_back: bool = False
    reason: str = ""
    log_tail: str = ""
    started: bool = True


@dataclass(frozen=True)
class Recreated:
    """The new image was pulled and the containers using it recreated (or rolled back)."""

    job: str
    host: str
    ref: str
    old: str
    new: str
    results: tuple[RecreatedContainer, ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


@dataclass(frozen=True)
class PullFailed:
    """The new image could not be pulled."""

    job: str
    host: str
    ref: str
    error: str


@dataclass(frozen=True)
class CheckFailed:
    """The registry could not be asked about one image (the others were checked)."""

    job: str
    host: str
    ref: str
    error: str  # the sentence, with the fix when one is known


@dataclass(frozen=True)
class HostFailed:
    """A job could not work on a host at all."""

    job: str
    host: str
    error: str


@dataclass(frozen=True)
class CheckedImage:
    """One line of an update check's summary."""

    host: str
    ref: str
    new: str = ""  # the registry's digest when it differs from the local one
    error: str = ""


@dataclass(frozen=True)
class UpdateSummary:
    """Every image an update check looked at, and the run's one-line summary."""

    job: str
    summary: str
    images: tuple[CheckedImage, ...]


# -- the prune job -------------------------------------------------------------------------

@dataclass(frozen=True)
class PrunedImage:
    """An image a prune removed (or would remove)."""

    label: str  # its tags, or <none>
    size: int


@dataclass(frozen=True)
class RefusedImage:
    """An image the engine would not remove, and its sentence why."""

    label: str
    reason: str


@dataclass(frozen=True)
class PruneDryRun:
    """What a dry-run prune would remove from one host; nothing was removed."""

    job: str
    host: str
    images: tuple[PrunedImage, ...]
    total_bytes: int
    kept: int  # in use, or protected by `keep`


@dataclass(frozen=True)
class PruneReport:
    """What a prune removed from one host, what it freed, and what the engine refused."""

    job: str
    host: str
    removed: tuple[PrunedImage, ...]
    refused: tuple[RefusedImage, ...]
    kept: int
    before: int  # bytes the images took
    after: int


# -- any job -------------------------------------------------------------------------------

@dataclass(frozen=True)
class JobFailed:
    """A run ended in an error before it could report anything else."""

    job: str
    error: str
    detail: str = ""


NoticeData = (UpdateAvailable | Pulled | Recreated | PullFailed | CheckFailed | HostFailed
              | UpdateSummary | PruneDryRun | PruneReport | JobFailed)

# The kind tag stored with each notice. Renaming a class is fine; renaming a tag strands
# the rows queued under the old one.
KINDS: dict[str, type] = {
    "update-available": UpdateAvailable,
    "pulled": Pulled,
    "recreated": Recreated,
    "pull-failed": PullFailed,
    "check-failed": CheckFailed,
    "host-failed": HostFailed,
    "update-summary": UpdateSummary,
    "prune-dry-run": PruneDryRun,
    "prune-report": PruneReport,
    "job-failed": JobFailed,
}
_TAGS = {cls: kind for kind, cls in KINDS.items()}


class UnknownNotice(ValueError):
    """A stored payload this version cannot read (a kind it does not know, a missing field)."""


def encode(notice: NoticeData) -> dict[str, Any]:
    """The notice as JSON-ready data: `{"kind": tag, "notice": fields}`."""
    return {"kind": _TAGS[type(notice)], "notice": dataclasses.asdict(notice)}


def is_notice(payload: dict[str, Any]) -> bool:
    """Whether a stored payload is a notice (else it is a Slack message as queued before)."""
    return "kind" in payload


def decode(payload: dict[str, Any]) -> NoticeData:
    """The notice `encode` stored; UnknownNotice when this version cannot read it."""
    cls = KINDS.get(payload.get("kind", ""))
    if cls is None:
        raise UnknownNotice(f"unknown notice kind {payload.get('kind')!r}")
    try:
        notice: NoticeData = _build(cls, payload["notice"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UnknownNotice(f"unreadable {payload['kind']} notice: {exc}") from exc
    return notice


def _build(kind: Any, value: Any) -> Any:
    """`value` (as JSON gave it back) as `kind`: dataclasses and tuples rebuilt, field by field."""
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = get_type_hints(kind)
        # Fields a newer version added and this one lacks are ignored; missing ones fail.
        return kind(**{f.name: _build(hints[f.name], value[f.name])
                       for f in dataclasses.fields(kind) if f.name in value})
    if get_origin(kind) is tuple:
        args = get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], item) for item in value)
        return tuple(_build(arg, item) for arg, item in zip(args, value, strict=True))
    return value
