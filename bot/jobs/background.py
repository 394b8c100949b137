"""The jobs' background parts in a serving bot: the outbox sender and the scheduler."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient

from bot.jobs.outbox import Outbox
from bot.jobs.runner import JobRunner
from bot.jobs.scheduler import JobScheduler
from bot.services import Services

log = logging.getLogger("dockops.jobs")


def start(services: Services, client: WebClient) -> JobScheduler:
    """Drain the outbox now and keep draining; schedule jobs unless another process does."""
    outbox = Outbox(services.store, client)
    outbox.start()
    runner = JobRunner(services, outbox)
    runner.seed_last_success()
    scheduler = JobScheduler(runner)
    scheduler.start()
    services.scheduler = scheduler
    return scheduler


def stop(scheduler: JobScheduler, grace: float) -> bool:
    """Let running jobs finish (up to `grace` seconds), then stop sending; True when clean."""
    worker = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True},
                              name="scheduler-stop", daemon=True)
    worker.start()
    worker.join(grace)
    clean = not worker.is_alive()
    if not clean:
        log.warning("a job was still running after %.0fs; its notices stay queued", grace)
    outbox = scheduler.runner.outbox
    if outbox is not None:
        outbox.stop()
    return clean
