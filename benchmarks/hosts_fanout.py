"""`ps -a --host all` across live hosts vs the slowest single host's `docker ps -a`.

Hosts: the local engine, and a second dockerd in its own network namespace reached three
ways (unix socket, tcp:// with TLS, ssh://), as tests/engines_rig.py sets it up. Each engine
holds --count labelled containers. The fan-out goes through the real pipeline (parse ->
policy -> four engines at once -> grouped view); each single host is timed with the docker
CLI. Needs root (network namespace). Run: .venv/bin/python -m benchmarks.hosts_fanout
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time

import docker

from benchmarks.ps_1000 import create_containers, remove_containers
from bot.config import EnvSettings, Settings, parse_file
from bot.pipeline import Pipeline
from bot.policy import Actor
from bot.services import Services
from tests.engines_rig import SecondEngine
from tests.support import RUN_ID, RecordingResponder

LABEL = "dockops.bench"


def cli_seconds(args: list[str], rounds: int) -> float:
    """Median wall time of `docker ARGS ps -a --filter label=...`."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(["docker", *args, "ps", "-a", "--filter", f"label={LABEL}={RUN_ID}"],
                       check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def fanout_seconds(pipeline: Pipeline, hosts: list[str], rounds: int) -> float:
    """Median wall time of `ps -a --host A,B,...` through the pipeline (console)."""
    times = []
    for _ in range(rounds):
        responder = RecordingResponder()
        started = time.perf_counter()
        outcome = pipeline.execute(f"ps -a --host {','.join(hosts)} --filter "
                                   f"label={LABEL}={RUN_ID}",
                                   Actor("bench", source="console"), responder)
        times.append(time.perf_counter() - started)
        assert outcome.ok, responder.text()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100, help="containers on each engine")
    parser.add_argument("--rounds", type=int, default=7)
    options = parser.parse_args()
    local = docker.from_env(timeout=60)
    engine = SecondEngine.create()
    services = None
    try:
        engine.start()
        engine.load_image(local)
        ssh = engine.start_sshd()
        os.environ["PATH"] = f"{ssh.bin_dir}:{os.environ['PATH']}"
        remote = engine.client()
        create_containers(local, options.count, RUN_ID)
        create_containers(remote, options.count, RUN_ID)
        certs = engine.certs
        assert certs is not None
        tls = ["--tlsverify", "--tlscacert", str(certs.ca), "--tlscert", str(certs.client_cert),
               "--tlskey", str(certs.client_key)]
        hosts = {
            "local": ("unix:///var/run/docker.sock", [], ""),
            "edge": (engine.socket_url, [], ""),
            "edge-tls": (engine.tls_url, tls, f'tls_ca = "{certs.ca}"\ntls_cert = '
                         f'"{certs.client_cert}"\ntls_key = "{certs.client_key}"\n'),
            "edge-ssh": (ssh.url, [], ""),
        }
        toml = "".join(f'[hosts.{name}]\nurl = "{url}"\n{extra}\n'
                       for name, (url, _, extra) in hosts.items())
        with tempfile.TemporaryDirectory() as data:
            settings = Settings(EnvSettings(dockops_data_dir=data), parse_file(toml), None)
            services = Services.build(settings)
            pipeline = Pipeline(services)
            fanout_seconds(pipeline, list(hosts), 1)  # connect once, as a running bot has
            singles = {name: cli_seconds(["-H", url, *flags], options.rounds)
                       for name, (url, flags, _) in hosts.items()}
            print(f"{options.count} containers per engine, median of {options.rounds} rounds")
            for name, seconds in singles.items():
                print(f"  docker -H {name:<9} ps -a: {seconds * 1000:7.1f} ms")
            # With and without the ssh host: each ssh request is a new ssh session here.
            for names in (list(hosts), [name for name in hosts if name != "edge-ssh"]):
                together = fanout_seconds(pipeline, names, options.rounds)
                slowest = max(names, key=lambda name: singles[name])
                print(f"  /docker ps -a --host {','.join(names)}: {together * 1000:7.1f} ms, "
                      f"{together / singles[slowest]:.2f}x the slowest single host ({slowest})")
            services.close()
            services = None
    finally:
        if services is not None:
            services.close()
        remove_containers(local, RUN_ID)
        engine.stop()
        local.close()


if __name__ == "__main__":
    main()
