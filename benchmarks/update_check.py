"""Update check of 100 watched images on a local registry, nothing changed.

The bot's update job (`bot/jobs/updates.py`: one container list and one image list per host,
then one manifest HEAD per unique image straight to the registry through bot/registry,
`concurrency` at a time) against 100 sequential manifest HEAD requests sent straight to the
registry with `requests` (what `docker manifest inspect` asks, minus the CLI). Counts the
registry's requests from its access log: manifest HEADs and GETs, config blobs and layer
blobs (a pull would fetch those: must be 0). Then the same with 4 hosts watching the same
images (4 [hosts] entries on this engine): still one HEAD per image. Jitter is off.
Run: .venv/bin/python -m benchmarks.update_check [--count 100] [--rounds 3] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import requests

from benchmarks.prune_200 import make_images, remove_images
from bot.jobs.runner import JobRunner
from bot.services import Services
from tests.conftest import ACCESS, make_settings
from tests.registry_rig import RegistryRig
from tests.support import unique, wait_for

LABEL = "dockops.bench"
MANIFEST_TYPES = ", ".join((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json"))


def publish(client: docker.DockerClient, registry: RegistryRig, count: int,
            run: str) -> list[str]:
    """`count` distinct images pushed as REGISTRY/bench-RUN/imgN:latest; their references."""
    staging = f"dockops-bench/{run}"
    make_images(client, staging, count, {LABEL: run})
    refs = [registry.image(f"{run}/img{index}") for index in range(count)]

    def push(index: int) -> None:
        repo = refs[index].rsplit(":", 1)[0]
        client.api.tag(f"{staging}:{index}", repo, "latest")
        client.api.remove_image(f"{staging}:{index}")
        for event in client.api.push(repo, tag="latest", stream=True, decode=True):
            assert "error" not in event, event

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(push, range(count)))
    return refs


def head_manifests(registry: RegistryRig, refs: list[str]) -> None:
    """100 sequential HEAD /v2/NAME/manifests/TAG on one kept-alive connection."""
    with requests.Session() as session:
        for ref in refs:
            name, tag = ref.split("/", 1)[1].rsplit(":", 1)
            answer = session.head(f"{registry.url}/v2/{name}/manifests/{tag}",
                                  headers={"Accept": MANIFEST_TYPES}, timeout=10)
            assert answer.status_code == 200 and answer.headers["Docker-Content-Digest"]


def job_config(refs: list[str], concurrency: int, hosts: int = 1) -> str:
    names = [f"host{index}" for index in range(hosts)] if hosts > 1 else []
    declared = "".join(f"[hosts.{name}]\nurl = \"unix:///var/run/docker.sock\"\n"
                       + ("default = true\n" if index == 0 else "")
                       for index, name in enumerate(names))
    return (declared +
            "[[jobs]]\nname = \"updates\"\ntype = \"update\"\nschedule = \"*/30 * * * *\"\n"
            f"channel = \"C0OPS\"\njitter = \"0s\"\nconcurrency = {concurrency}\n"
            f"hosts = {json.dumps(names)}\nimages = {json.dumps(refs)}\n")


def count_requests(registry: RegistryRig, since: int, image_ids: set[str]) -> dict[str, int]:
    logged = registry.requests(since)
    blobs = [r.path.rsplit("/", 1)[1] for r in logged if r.is_blob and r.method == "GET"]
    return {"/v2/ ping": sum(1 for r in logged if r.path == "/v2/"),
            "manifest HEAD": sum(1 for r in logged if r.is_manifest and r.method == "HEAD"),
            "manifest GET": sum(1 for r in logged if r.is_manifest and r.method == "GET"),
            "config blob": sum(1 for b in blobs if b in image_ids),
            "layer blob": sum(1 for b in blobs if b not in image_ids)}


def measure(tmp: Path, registry: RegistryRig, refs: list[str], image_ids: set[str],
            concurrency: int, rounds: int, hosts: int) -> tuple[list[float], list[float],
                                                                dict[str, int]]:
    """(direct HEAD times, job times, the job's registry requests in its last round)."""
    services = Services.build(make_settings(tmp / f"hosts{hosts}", ACCESS +
                                            job_config(refs, concurrency, hosts)))
    try:
        runner = JobRunner(services, outbox=None)
        runner.run("updates")  # warm: the first /v2/ ping and connections
        direct, bot = [], []
        counts: dict[str, int] = {}
        for _ in range(rounds):
            before = registry.mark()
            started = time.perf_counter()
            head_manifests(registry, refs)
            direct.append(time.perf_counter() - started)
            # The registry logs a request just after answering it.
            mark = wait_for(lambda n=before: registry.mark() >= n + len(refs) and
                            registry.mark(), timeout=10, what="the HEADs in the access log")
            started = time.perf_counter()
            report, _ = runner.run("updates")
            bot.append(time.perf_counter() - started)
            expected = f"{len(refs) * hosts} image(s) checked, 0 changed"
            assert report.summary == expected, report
            wait_for(lambda n=mark: registry.mark() >= n + len(refs), timeout=10,
                     what="the job's requests in the access log")
            time.sleep(0.3)
            counts = count_requests(registry, mark, image_ids)
        return direct, bot, counts
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4, help="the job's (default 4)")
    args = parser.parse_args()
    client = docker.from_env(timeout=300)
    run = unique("upd").lower()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "registry").mkdir()
        registry = RegistryRig(Path(tmp) / "registry").start()
        try:
            started = time.perf_counter()
            refs = publish(client, registry, args.count, run)
            print(f"pushed {args.count} images in {time.perf_counter() - started:.1f} s",
                  flush=True)
            ids_before = {ref: client.api.inspect_image(ref)["Id"] for ref in refs}
            for hosts in (1, 4):
                results[hosts] = measure(Path(tmp), registry, refs, set(ids_before.values()),
                                         args.concurrency, args.rounds, hosts)
            ids_after = {ref: client.api.inspect_image(ref)["Id"] for ref in refs}
        finally:
            registry.stop()
            remove_images(client, f"{LABEL}={run}")
    assert ids_after == ids_before, "a local image changed: something was pulled"
    for hosts, (direct, bot, counts) in results.items():
        direct_m, bot_m = statistics.median(direct), statistics.median(bot)
        print(f"-- {hosts} host(s) watching the same {args.count} images")
        print("registry requests in one check: " +
              ", ".join(f"{count} {kind}" for kind, count in counts.items()) +
              " (pulls: layer blobs, must be 0; local image IDs unchanged)")
        print(f"{args.count} sequential manifest HEADs (requests):    "
              f"median {direct_m * 1000:7.0f} ms")
        print(f"update job, {args.count} images x {hosts} host(s), concurrency "
              f"{args.concurrency}: median {bot_m * 1000:7.0f} ms")
        print(f"ratio job/direct: {bot_m / direct_m:.2f}x")


if __name__ == "__main__":
    main()
