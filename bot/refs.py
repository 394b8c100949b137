"""Image references, read as the docker CLI reads them (distribution's `reference` package).

`redis` is `docker.io/library/redis:latest`; `team/app` is `docker.io/team/app:latest`; a first
component with a `.` or `:`, or `localhost` (or an upper-case one), is a registry host:
`127.0.0.1:5000/app`. The engine lists Docker Hub images by their familiar name (`redis`,
`team/app`), so that is the form this module hands back. Pure: no docker-py, no engine.
https://github.com/distribution/reference/blob/main/normalize.go
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.errors import UsageError

DOCKER_HUB = "docker.io"  # the registry of bare names (redis, team/app)
# Names of Docker Hub in configs and login URLs. Only index.docker.io is the same registry in
# a reference too (registry-1.docker.io/x is a reference to another host, as in docker).
HUB_ALIASES = frozenset({DOCKER_HUB, "index.docker.io", "registry-1.docker.io",
                         "registry.hub.docker.com"})
DEFAULT_TAG = "latest"
_LEGACY_HUB = "index.docker.io"
_OFFICIAL = "library/"
_NAME_MAX = 255

# The grammar of distribution's regexp.go (ASCII only: Go's \w is [0-9A-Za-z_]).
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = rf"{_COMPONENT}(?:/{_COMPONENT})*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_DOMAIN_RE = re.compile(rf"^{_DOMAIN}$")
_REMAINDER_RE = re.compile(rf"^(?P<path>{_PATH})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$")
_IDENTIFIER_RE = re.compile(r"^[a-f0-9]{64}$")
_IMAGE_ID_RE = re.compile(r"^(?:sha256:[a-f0-9]+|[a-f0-9]{12}|[a-f0-9]{64})$")


@dataclass(frozen=True)
class Reference:
    """A parsed reference: `docker.io` + `library/redis` + tag `latest`."""

    registry: str  # the host as written ("index.docker.io" becomes "docker.io")
    path: str  # "library/redis", "team/app", "app"
    tag: str  # "latest" when neither a tag nor a digest was given; "" for a bare digest
    digest: str = ""  # "sha256:..." when pinned

    @property
    def name(self) -> str:
        """The full name: `docker.io/library/redis`."""
        return f"{self.registry}/{self.path}"

    @property
    def repository(self) -> str:
        """The familiar name the engine lists: `redis`, `team/app`, `127.0.0.1:5000/app`."""
        if self.registry != DOCKER_HUB:
            return self.name
        short = self.path.removeprefix(_OFFICIAL)
        # library/foo/bar keeps its prefix: only official one-component names drop it.
        return self.path if "/" in short else short

    @property
    def pinned(self) -> str:
        """What names the image in the repository: the digest when pinned, else the tag."""
        return self.digest or self.tag

    def __str__(self) -> str:
        """The familiar reference: `redis:latest`, `team/app@sha256:...`."""
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


class InvalidReference(UsageError):
    """Text docker would not read as an image reference; `reason` says which rule it breaks."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"`{text}` is not an image reference: {reason}.",
                         detail="Write it as [REGISTRY/]REPOSITORY[:TAG] or REPOSITORY@DIGEST, "
                                "e.g. redis:7, team/app:1.0 or 127.0.0.1:5000/team/app:1.0.")
        self.reason = reason


def _split_domain(text: str) -> tuple[str, str]:
    """(registry, the rest): the first component is a host if it has `.` or `:`, is `localhost`
    or is not lower case; otherwise the name is on Docker Hub."""
    first, slash, rest = text.partition("/")
    if not slash:
        return DOCKER_HUB, _OFFICIAL + text
    if first == _LEGACY_HUB:
        domain, rest = DOCKER_HUB, rest
    elif first == "localhost" or any(c in first for c in ".:") or first.lower() != first:
        domain = first
    else:
        domain, rest = DOCKER_HUB, text
    if domain == DOCKER_HUB and "/" not in rest.split("@", 1)[0]:
        rest = _OFFICIAL + rest
    return domain, rest


def parse(text: str) -> Reference:
    """Read `[REGISTRY/]PATH[:TAG][@DIGEST]` as `docker pull` does; InvalidReference if not.

    With neither a tag nor a digest the tag is `latest`.
    """
    if not text:
        raise InvalidReference(text, "it is empty")
    if _IDENTIFIER_RE.match(text):
        raise InvalidReference(text, "that is an image ID, not a repository name")
    domain, rest = _split_domain(text)
    if rest.split(":", 1)[0].lower() != rest.split(":", 1)[0]:
        raise InvalidReference(text, "the repository name must be lower case")
    found = _REMAINDER_RE.match(rest)
    if not found or not _DOMAIN_RE.match(domain):
        raise InvalidReference(text, "docker reads a repository as lower-case letters and "
                                     "digits joined by `.`, `_` or `-` (a registry host first), "
                                     "and a tag as up to 128 letters, digits, `_`, `.` or `-`")
    path, tag, digest = found["path"], found["tag"] or "", found["digest"] or ""
    if len(domain) + 1 + len(path) > _NAME_MAX:
        raise InvalidReference(text, f"the repository name is longer than {_NAME_MAX} characters")
    return Reference(domain, path, tag or ("" if digest else DEFAULT_TAG), digest)


def normalize(text: str) -> str:
    """The reference the engine acts on (docker's ParseDockerRef), familiar and tagged:
    `docker.io/library/redis` -> `redis:latest`; a registry port is never a tag; a digest wins
    over a tag (`redis:7@sha256:...` -> `redis@sha256:...`)."""
    ref = parse(text)
    return f"{ref.repository}@{ref.digest}" if ref.digest else str(ref)


def repository(text: str) -> str:
    """The repository, as the engine names it in RepoTags and RepoDigests: `team/app:1` ->
    `team/app`, `docker.io/library/redis` -> `redis`."""
    return parse(text).repository


def split(text: str) -> tuple[str, str]:
    """(repository, tag or digest) as the engine API takes them: `app` -> (`app`, `latest`)."""
    ref = parse(text)
    return ref.repository, ref.pinned


def normalize_registry(name: str | None) -> str:
    """`https://index.docker.io/v1/`, `registry-1.docker.io`, None -> `docker.io`; others their
    host[:port], lower case (what config keys and `login REGISTRY` may name)."""
    if not name or not name.strip():
        return DOCKER_HUB
    host = name.strip().removeprefix("https://").removeprefix("http://").split("/", 1)[0].lower()
    return DOCKER_HUB if host in HUB_ALIASES else host


def registry_of(text: str) -> str:
    """The registry whose credentials a reference needs: `team/app` -> `docker.io`,
    `127.0.0.1:5000/team/app:1` -> `127.0.0.1:5000`."""
    return normalize_registry(parse(text).registry)


def is_image_id(text: str) -> bool:
    """True for an image ID (`sha256:...`, or 12 or 64 hex digits) rather than a name: what a
    container created from an ID (or whose tag moved away) reports as its image."""
    return bool(_IMAGE_ID_RE.match(text))


def repo_digest(repo_digests: Iterable[str], text: str) -> str:
    """The `sha256:...` among an image's RepoDigests that belongs to `text`'s repository ('')."""
    wanted = repository(text)
    for entry in repo_digests:
        name, _, digest = entry.partition("@")
        try:
            if digest and repository(name) == wanted:
                return digest
        except InvalidReference:
            continue  # `<none>@<none>`: an image that never came from a registry
    return ""
