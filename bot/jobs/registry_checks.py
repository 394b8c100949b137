"""Detection for the update job: each unique (registry, repository, tag) asked once per run,
with one manifest HEAD straight to the registry (bot.registry), the engine's distribution
API only when the registry cannot be reached directly; quotas, new tags, and what a new
digest brings."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot import credentials
from bot.config import Settings, UpdateJobConfig
from bot.engine import updates as engine_updates
from bot.engine.client import Engine
from bot.engine.updates import LocalImage, Watcher
from bot.errors import DockopsError
from bot.jobs import notices as n
from bot.refs import parse
from bot.registry import Quota, RegistryClient, RegistryUnreachable
from bot.registry.changes import ChangesCache
from bot.registry.checks import DigestChecks
from bot.registry.quota import QuotaFile
from bot.registry.transport import Insecure
from bot.registry.versions import newer_tags
from bot.services import Services

VIA_REGISTRY = "registry"
VIA_ENGINE = "engine"  # the fallback: GET /distribution/REF/json through the engine
VIA_SKIPPED = "skipped"  # below the job's min_remaining
REGISTRY_CONFIG_SECONDS = 600.0
DEFAULT_WINDOW = 6 * 3600  # how long a quota without `w=` is believed


class RegistryChecks:
    """The bot's one registry client and what it remembers across runs and jobs: tokens,
    quotas, the HEADs in flight, the descriptions of digests (on disk)."""

    def __init__(self, settings: Settings) -> None:
        self.client = RegistryClient(credentials.registry_login(settings))
        self.heads = DigestChecks(self.client)
        folder = settings.data_dir / "registry"
        self.changes = ChangesCache(folder / "digests")
        self.quota_file = QuotaFile(folder / "quota.json")
        self._daemon_configs: dict[str, tuple[float, dict[str, Any]]] = {}

    def close(self) -> None:
        self.client.close()

    def learn_insecure(self, engines: dict[str, Engine]) -> None:
        """Reach registries as these daemons do (their insecure-registries), asked every 10 min."""
        configs = []
        for host, engine in engines.items():
            cached = self._daemon_configs.get(host)
            if cached is None or time.monotonic() - cached[0] > REGISTRY_CONFIG_SECONDS:
                try:
                    cached = (time.monotonic(), engine_updates.registry_config(engine))
                except DockopsError:
                    cached = (time.monotonic(), {})
                self._daemon_configs[host] = cached
            configs.append(cached[1])
        self.client.insecure = Insecure.from_info(configs)


_SHARED = threading.Lock()


def shared(services: Services) -> RegistryChecks:
    """The services' RegistryChecks, made on first use (every job and run shares it)."""
    with _SHARED:
        if services.registry is None:
            services.registry = RegistryChecks(services.settings)
        found: RegistryChecks = services.registry
        return found


@dataclass(frozen=True)
class HostPlan:
    """What one host watches: references, the containers using each, the local images."""

    host: str
    engine: Engine
    targets: dict[str, list[Watcher]]
    locals: dict[str, LocalImage]


@dataclass(frozen=True)
class Remote:
    """The registry's answer for one unique reference, shared by every host watching it."""

    digest: str = ""
    error: str = ""
    via: str = VIA_REGISTRY


def sentence(exc: DockopsError) -> str:
    error = exc.message.rstrip()
    return error + ("" if error.endswith((".", "!", "?")) else ".")


def fresh_quota(client: RegistryClient, registry: str) -> Quota | None:
    """The registry's last quota while its window lasts (a window resets it)."""
    quota = client.quota(registry)
    if quota is None or time.time() - quota.seen_at > (quota.window or DEFAULT_WINDOW):
        return None
    return quota


def low_quota(job: UpdateJobConfig, quota: Quota | None) -> str:
    """Why the job skips a registry ('' when it need not)."""
    if not job.min_remaining or quota is None or quota.remaining >= job.min_remaining:
        return ""
    return (f"skipped: {quota.registry} has {quota.describe()}, below the job's "
            f"min_remaining = {job.min_remaining}; the next run tries again.")


def check_remote(checks: RegistryChecks, settings: Settings, job: UpdateJobConfig, ref: str,
                 engine: Engine, hint: Any) -> Remote:
    """One reference's digest: a HEAD to the registry; the engine when it is out of reach."""
    jitter = job.jitter.total_seconds()
    if jitter > 0:
        time.sleep(random.uniform(0, jitter))  # spread checks so registries see no burst
    parsed = parse(ref)
    skip = low_quota(job, fresh_quota(checks.client, parsed.registry))
    if skip:
        return Remote(error=skip, via=VIA_SKIPPED)
    try:
        return Remote(checks.heads.head(parsed.registry, parsed.path, parsed.tag).digest)
    except RegistryUnreachable:
        pass  # the engine may reach it (its own mirrors, proxy or network): ask it
    except DockopsError as exc:
        error = sentence(exc)
        return Remote(error=error + hint(error, ref), via=VIA_REGISTRY)
    try:
        digest = engine_updates.registry_digest(engine, ref,
                                                credentials.auth_config(settings, ref))
    except DockopsError as exc:
        error = sentence(exc)
        return Remote(error=error + hint(error, ref), via=VIA_ENGINE)
    return Remote(digest, via=VIA_ENGINE)


def check_all(checks: RegistryChecks, settings: Settings, job: UpdateJobConfig,
              plans: Iterable[HostPlan], hint: Any) -> dict[str, Remote]:
    """Each unique reference of every host once, `concurrency` at a time."""
    first: dict[str, Engine] = {}
    plans = list(plans)
    for plan in plans:
        for ref in plan.targets:
            first.setdefault(ref, plan.engine)
    checks.learn_insecure({plan.host: plan.engine for plan in plans})
    with ThreadPoolExecutor(max_workers=job.concurrency,
                            thread_name_prefix="update-check") as pool:
        futures = {ref: pool.submit(check_remote, checks, settings, job, ref, engine, hint)
                   for ref, engine in sorted(first.items())}
        found = {ref: future.result() for ref, future in futures.items()}
    checks.quota_file.save(checks.client.quotas())
    return found


def details(checks: RegistryChecks, job: UpdateJobConfig, engine: Engine, ref: str,
            digest: str, local: LocalImage) -> n.UpdateDetails | None:
    """The new digest's card (created, platform, size, OCI labels); None when it cannot be
    read (the notice goes out without it). One manifest and config GET per digest, ever."""
    parsed = parse(ref)
    if low_quota(job, fresh_quota(checks.client, parsed.registry)):
        return None  # a manifest GET counts as a pull on Docker Hub
    try:
        if local.id:
            local = engine_updates.local_image(engine, ref)  # its platform
        found = checks.changes.describe(checks.client, parsed.registry, parsed.path, digest,
                                        os=local.os, arch=local.arch)
    except DockopsError:
        return None
    return n.UpdateDetails(found.created, found.platform, found.size, local.size,
                           found.version, found.revision, found.source, found.link)


def tag_created(checks: RegistryChecks, job: UpdateJobConfig, ref: str, tag: str) -> str:
    """The config's `created` of `ref`'s repository at `tag` ('' when it cannot be read): one
    HEAD for the tag's digest, then that digest's manifest and config, read once (cached)."""
    parsed = parse(ref)
    if low_quota(job, fresh_quota(checks.client, parsed.registry)):
        return ""  # a manifest GET counts as a pull on Docker Hub
    try:
        digest = checks.heads.head(parsed.registry, parsed.path, tag).digest
        return checks.changes.describe(checks.client, parsed.registry, parsed.path,
                                       digest).created
    except DockopsError:
        return ""


def image_created(services: Services, ref: str, digest: str, *, os: str = "linux",
                  arch: str = "amd64") -> datetime | None:
    """When the image behind a registry digest was built (its config's `created`), for
    policies such as min_age: from the digest cache, else one manifest and config GET.
    None when the registry cannot say (or the config has no date)."""
    checks = shared(services)
    parsed = parse(ref)
    try:
        found = checks.changes.describe(checks.client, parsed.registry, parsed.path, digest,
                                        os=os, arch=arch)
    except DockopsError:
        return None
    return created_at(found.created)


def created_at(text: str) -> datetime | None:
    """An image config's `created` (RFC 3339, Go's nanoseconds allowed) as an aware datetime."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class NewTag:
    """A newer version tag of a watched reference."""

    ref: str  # the watched reference (repo:1.2.3)
    repository: str  # as the engine names it (familiar)
    current: str
    tag: str


def new_tags(checks: RegistryChecks, job: UpdateJobConfig, refs: Iterable[str]
             ) -> tuple[list[NewTag], dict[str, str]]:
    """Newer version tags of each watched reference (each repository's tag list asked once),
    and, by watched reference, the sentence of a list that could not be read."""
    found: list[NewTag] = []
    errors: dict[str, str] = {}
    listed: dict[tuple[str, str], list[str]] = {}
    for ref in sorted(set(refs)):
        parsed = parse(ref)
        key = (parsed.registry, parsed.path)
        if key not in listed:
            try:
                listed[key] = checks.client.tags(*key)
            except DockopsError as exc:
                listed[key] = []
                errors[ref] = f"Could not list its tags: {sentence(exc)}"
        for tag in newer_tags(parsed.tag, listed[key], job.include_tags, job.exclude_tags):
            found.append(NewTag(ref, parsed.repository, parsed.tag, tag))
    return found, errors


def quota_lines(services: Services) -> list[str]:
    """`docker.io: 76 of 100 pulls left (per 6h), seen 12 minutes ago` for each registry
    that sends a quota (from the data dir: any process can tell)."""
    if services.registry is not None:
        quotas = services.registry.client.quotas() or services.registry.quota_file.load()
    else:
        quotas = QuotaFile(services.settings.data_dir / "registry" / "quota.json").load()
    lines = []
    for quota in quotas:
        minutes = max(0, int((time.time() - quota.seen_at) // 60))
        lines.append(f"{quota.registry}: {quota.describe()}, seen {minutes} min ago")
    return lines
