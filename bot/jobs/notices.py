"""What a job tells people, as data: one frozen dataclass per kind of notice.

A job says what happened; the Slack view (bot/views/jobs.py) says how it looks, when the
outbox delivers it. The outbox stores `encode(notice)`, JSON with a kind tag, so a queued
notice survives a restart (and a change of wording) and is rendered only at delivery.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

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
class UpdateDetails:
    """What the new digest is, from its manifest and config (never its layers)."""

    created: str  # RFC 3339; "" when the config has none
    platform: str
    size: int  # its layers, as the registry stores them
    local_size: int  # the image the tag names here now
    version: str = ""  # org.opencontainers.image.version
    revision: str = ""
    source: str = ""
    link: str = ""  # an http(s) source or release page (shown, never fetched)


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
    details: UpdateDetails | None = None


@dataclass(frozen=True)
class TagAvailable:
    """A newer version tag of a watched image exists (`app 1.25.3 -> 1.25.4 available`)."""

    job: str
    host: str
    repository: str
    current: str  # the watched tag
    tag: str  # the newer one
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
    note: str = ""  # worked, but something to know (Compose will recreate it once more)


@dataclass(frozen=True)
class Recreated:
    """The new image was pulled and the containers using it recreated (or rolled back)."""

    job: str
    host: str
    ref: str
    old: str
    new: str
    results: tuple[RecreatedContainer, ...]
    cleanup: tuple[CleanedImage, ...] = ()  # `cleanup = true`: the images it replaced

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


@dataclass(frozen=True)
class CleanedImage:
    """An image a recreate superseded: removed (`cleanup = true`), or why it stays."""

    image_id: str
    removed: bool
    reason: str = ""


@dataclass(frozen=True)
class UpdateApplied:
    """An update notice's containers now run its new digest: the notice is edited to say so.

    `by` is the Slack user whose recreate/pull/run did it ('' : updated outside dockops),
    `how` that command. `notice_key` is the outbox key the notice was delivered under.
    """

    job: str
    host: str
    ref: str
    old: str
    new: str
    containers: tuple[str, ...]
    notice_key: str
    by: str = ""
    how: str = ""


@dataclass(frozen=True)
class PendingUpdate:
    """One update told earlier and still not applied."""

    host: str
    ref: str
    new: str
    containers: tuple[str, ...]
    told_at: float  # unix seconds


@dataclass(frozen=True)
class UpdatesPending:
    """`remind = "daily"|"weekly"`: one summary of the updates still pending."""

    job: str
    remind: str
    updates: tuple[PendingUpdate, ...]


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
    total_bytes: int  # exactly what removing them frees: their layers no other image holds
    kept: int  # in use, or protected by `keep`


@dataclass(frozen=True)
class PruneReport:
    """What a prune removed from one host, what it freed, and what the engine refused."""

    job: str
    host: str
    removed: tuple[PrunedImage, ...]
    refused: tuple[RefusedImage, ...]
    kept: int
    reclaimed: int | None = None  # the engine's figure: the sizes of the layers it deleted
    # Rows queued by versions before `reclaimed` carry the images' size before and after.
    before: int = 0
    after: int = 0


# -- any job -------------------------------------------------------------------------------

@dataclass(frozen=True)
class JobFailed:
    """A run ended in an error before it could report anything else."""

    job: str
    error: str
    detail: str = ""


NoticeData = (UpdateAvailable | Pulled | Recreated | PullFailed | CheckFailed | HostFailed
              | UpdateSummary | PruneDryRun | PruneReport | JobFailed | TagAvailable
              | UpdateApplied | UpdatesPending)

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
    "tag-available": TagAvailable,
    "update-applied": UpdateApplied,
    "updates-pending": UpdatesPending,
}
_TAGS = {cls: kind for kind, cls in KINDS.items()}


class UnknownNotice(ValueError):
    """A stored payload this version cannot read (a kind it does not know, a missing field)."""


def encode(notice: NoticeData) -> dict[str, Any]:
    """The notice as JSON-ready data: `{"kind": tag, "notice": fields}`, plus where it goes
    (bot/jobs/outbox.py): an update notice is remembered, its "applied" edit updates it."""
    payload: dict[str, Any] = {"kind": _TAGS[type(notice)], "notice": dataclasses.asdict(notice)}
    if isinstance(notice, UpdateAvailable):
        payload["remember"] = True
    elif isinstance(notice, UpdateApplied):
        payload["update_of"] = notice.notice_key
    return payload


def is_notice(payload: dict[str, Any]) -> bool:
    """Whether a stored payload is a notice (else it is a Slack message as queued before)."""
    return "kind" in payload


def decode(payload: dict[str, Any]) -> NoticeData:
    """The notice `encode` stored; UnknownNotice when this version cannot read it."""
    cls = KINDS.get(payload.get("kind", ""))
    if cls is None:
        raise UnknownNotice(f"unknown notice kind {payload.get('kind')!r}")
    try:
        notice: NoticeData = rebuild(cls, payload["notice"])
    except (KeyError, TypeError, ValueError) as exc:
        raise UnknownNotice(f"unreadable {payload['kind']} notice: {exc}") from exc
    return notice


def rebuild(kind: Any, value: Any) -> Any:
    """`value` (as JSON gave it back) as `kind`: dataclasses and tuples rebuilt, field by field.

    Every stored notice (job notices here, incident notices in bot/incidents) decodes with it.
    """
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = get_type_hints(kind)
        # Fields a newer version added and this one lacks are ignored; missing ones fail.
        return kind(**{f.name: rebuild(hints[f.name], value[f.name])
                       for f in dataclasses.fields(kind) if f.name in value})
    if get_origin(kind) in (Union, UnionType):  # `X | None`: None, or an X
        if value is None:
            return None
        return rebuild(next(arg for arg in get_args(kind) if arg is not type(None)), value)
    if get_origin(kind) is tuple:
        args = get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(rebuild(args[0], item) for item in value)
        return tuple(rebuild(arg, item) for arg, item in zip(args, value, strict=True))
    return value
