"""What the update notice's buttons do: pull now, recreate now, snooze 24h."""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine import updates as engine_updates
from bot.engine.updates import Watcher, normalize_ref
from bot.jobs import records
from bot.jobs.updates import recreate_all, registry_auth
from bot.services import Services
from bot.views import jobs as views
from bot.views.jobs import short_digest


@dataclass(frozen=True)
class ButtonOutcome:
    """A sentence for the notice, and whether containers still run the old image."""

    text: str
    ok: bool = True
    stale: tuple[str, ...] = ()


def _users(containers: list[Watcher], ref: str, image_id: str) -> list[Watcher]:
    return [w for w in containers
            if normalize_ref(w.ref) == ref or (image_id and w.image_id == image_id)]


def pull_now(services: Services, host: str, ref: str, who: str) -> ButtonOutcome:
    engine = services.hosts.get(host)
    ref = normalize_ref(ref)
    before = engine_updates.local_image(engine, ref)
    after = engine_updates.pull(engine, ref, registry_auth(services, ref))
    users = _users(engine_updates.watchers(engine), ref, before.id)
    stale = tuple(sorted(w.name for w in users if w.image_id != after.id))
    change = "already up to date" if after.id == before.id else \
        f"`{short_digest(before.digest)}` -> `{short_digest(after.digest)}`"
    text = f":arrow_down: {who} pulled `{ref}` on {host}: {change}."
    if stale:
        text += f" Still on the old image: {', '.join(f'`{n}`' for n in stale)}."
    return ButtonOutcome(text, stale=stale)


def recreate_now(services: Services, job_name: str, host: str, ref: str,
                 who: str) -> ButtonOutcome:
    engine = services.hosts.get(host)
    ref = normalize_ref(ref)
    job = next((j for j in services.settings.jobs if j.name == job_name), None)
    before = engine_updates.local_image(engine, ref)
    users = _users(engine_updates.watchers(engine), ref, before.id)
    after = engine_updates.pull(engine, ref, registry_auth(services, ref))
    stale = [w for w in users if w.image_id != after.id]
    if job is None:
        from bot.config import JobConfig

        job = JobConfig(name=job_name, type="update", schedule="0 0 * * *", channel="C000",
                        images=[ref])
    results = recreate_all(engine, ref, stale, job)
    message = views.recreated(job_name, host, ref, before.digest, after.digest, results)
    return ButtonOutcome(f"{who}: {message.text}", ok=message.ok)


def snooze_now(services: Services, ref: str, who: str) -> ButtonOutcome:
    until = records.snooze(services.store, normalize_ref(ref), who)
    return ButtonOutcome(views.snoozed(normalize_ref(ref), who, until))
