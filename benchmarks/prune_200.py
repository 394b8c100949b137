"""`image prune -a` of 200 unused images, vs `docker image prune -a -f` with the same filter.

Each side gets its own 200 tiny distinct images (busybox's layers, a config with a unique
label each), selected by `--filter label=dockops.bench=<that set>`. Timed for the bot: the
confirmed command as the console runs it (preview, confirm, plan again, remove), and the engine
part alone (`plan_prune` + `execute_prune`). The images are made in one `docker load`.
Run: .venv/bin/python -m benchmarks.prune_200 [--count 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import statistics
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import docker

from bot.console import Console
from bot.engine import prune
from bot.engine.client import Engine
from bot.services import Services
from tests.conftest import ACCESS, make_settings
from tests.support import BUSYBOX, unique

LABEL = "dockops.bench"


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def make_images(client: docker.DockerClient, repo: str, count: int,
                labels: dict[str, str]) -> list[str]:
    """`count` distinct images tagged REPO:0..count-1, sharing busybox's layers; their IDs.

    One `docker load` of busybox's saved layers with `count` configs that differ by a label:
    seconds for hundreds of images, where `docker build` takes about 0.25 s each.
    """
    saved_bytes = io.BytesIO(b"".join(client.images.get(BUSYBOX).save()))
    out = io.BytesIO()
    manifest, ids = [], []
    with tarfile.open(fileobj=saved_bytes) as saved, tarfile.open(fileobj=out, mode="w") as archive:
        [entry] = json.loads(saved.extractfile("manifest.json").read())  # type: ignore[union-attr]
        base = json.loads(saved.extractfile(entry["Config"]).read())  # type: ignore[union-attr]
        for member in saved.getmembers():  # the layers, once
            if member.name not in ("manifest.json", "repositories", entry["Config"]):
                archive.addfile(member, saved.extractfile(member) if member.isfile() else None)
        for index in range(count):
            config = json.loads(json.dumps(base))
            config["config"]["Labels"] = {**(config["config"].get("Labels") or {}), **labels,
                                          "dockops.bench.n": str(index)}
            data = json.dumps(config).encode()
            digest = hashlib.sha256(data).hexdigest()
            _add(archive, f"{digest}.json", data)
            manifest.append({"Config": f"{digest}.json", "RepoTags": [f"{repo}:{index}"],
                             "Layers": entry["Layers"]})
            ids.append(f"sha256:{digest}")
        _add(archive, "manifest.json", json.dumps(manifest).encode())
    client.images.load(out.getvalue())
    return ids


def remove_images(client: docker.DockerClient, label: str) -> None:
    """Remove what a failed run left behind (only images carrying this run's label)."""
    for image in client.api.images(filters={"label": label}):
        with contextlib.suppress(docker.errors.NotFound):
            client.api.remove_image(image["Id"], force=True)


def cli_prune(value: str, _count: int) -> None:
    subprocess.run(["docker", "image", "prune", "-a", "-f", "--filter", f"label={LABEL}={value}"],
                   check=True, capture_output=True)


def command_prune(console: Console, value: str, _count: int) -> None:
    """The whole confirmed command: preview, confirm (--yes), plan again, remove, the report."""
    outcome = console.run_one(f"image prune -a -f --filter label={LABEL}={value}")
    assert outcome.ok, outcome


def engine_prune(engine: Engine, value: str, count: int) -> None:
    plan = prune.plan_prune(engine, all=True, until=None, labels=[f"label={LABEL}={value}"])
    result = prune.execute_prune(engine, plan)
    assert len(result.removed) == count and not result.failed, result.failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    client = docker.from_env(timeout=300)
    run = unique("prune")
    with tempfile.TemporaryDirectory() as tmp:
        services = Services.build(make_settings(Path(tmp), ACCESS))
        engine = services.hosts.get(services.hosts.default)
        sides: dict[str, Callable[[str, int], None]] = {
            "cli": cli_prune,
            "command": partial(command_prune, Console(services, assume_yes=True,
                                                      out=io.StringIO())),
            "engine": partial(engine_prune, engine)}
        times: dict[str, list[float]] = {side: [] for side in sides}
        try:
            for round_ in range(args.rounds):
                values = {side: f"{run}-{round_}-{side}" for side in sides}
                started = time.perf_counter()
                for value in values.values():
                    make_images(client, f"dockops-bench/{value}", args.count, {LABEL: value})
                print(f"round {round_ + 1}: made {len(sides) * args.count} images in "
                      f"{time.perf_counter() - started:.1f} s", flush=True)
                order = list(sides)[round_ % 3:] + list(sides)[:round_ % 3]  # each goes first once
                for side in order:
                    started = time.perf_counter()
                    sides[side](values[side], args.count)
                    times[side].append(time.perf_counter() - started)
                    left = client.api.images(filters={"label": f"{LABEL}={values[side]}"})
                    assert not left, f"{side}: {len(left)} image(s) left"
        finally:
            for round_ in range(args.rounds):
                for side in sides:
                    remove_images(client, f"{LABEL}={run}-{round_}-{side}")
            services.close()
    cli, command, engine_only = (statistics.median(times[side]) for side in sides)
    print(f"docker image prune -a -f (CLI), {args.count} images:  median {cli * 1000:7.0f} ms")
    print(f"/docker image prune -a, confirmed (console):  median {command * 1000:7.0f} ms")
    print(f"  engine part (plan_prune + execute_prune):    median {engine_only * 1000:7.0f} ms")
    print(f"ratio bot/CLI: {command / cli:.2f}x (engine part {engine_only / cli:.2f}x)")


if __name__ == "__main__":
    main()
