"""`network ls` and `volume ls` on several hosts at once (`--host all`), each host's part as
`docker -H HOST network ls` / `volume ls` prints it."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable

import docker

from tests.engines_rig import LABEL, LOCAL, Bot, SecondEngine, by_host, hosts_toml
from tests.fidelity import cli
from tests.support import RUN_ID, TEST_LABEL, unique

_CODE = re.compile(r"```(.*?)```", re.S)


def _code(part: str) -> str:
    """The code block of one host's part of a grouped answer, as Slack shows it."""
    texts = [json.loads(line)["text"]["text"] for line in part.splitlines()[1:]
             if line.startswith("{") and '"text"' in line]
    found = [m.group(1) for text in texts for m in _CODE.finditer(text)]
    return html.unescape("\n".join(found))


def test_network_ls_and_volume_ls_host_all_answer_per_host_as_the_cli(
        multi: Callable[[str], Bot], second_engine: SecondEngine,
        docker_client: docker.DockerClient) -> None:
    bot = multi(hosts_toml(default="local", local=LOCAL, edge=second_engine.socket_url))
    edge = docker.DockerClient(base_url=second_engine.socket_url)
    labels = {TEST_LABEL: RUN_ID}
    here, there = unique("net-here"), unique("net-there")
    made = [docker_client.networks.create(here, labels=labels),
            edge.networks.create(there, labels=labels)]
    volumes = [docker_client.volumes.create(unique("vol-here"), labels=labels),
               edge.volumes.create(unique("vol-there"), labels=labels)]
    try:
        for command in ("network ls", "volume ls"):
            outcome, sent = bot.run(f"{command} --host all --filter label={LABEL}")
            assert outcome.ok, sent.text()
            parts = by_host(sent.last)
            assert list(parts) == ["local", "edge"]
            for host, url in (("local", LOCAL), ("edge", second_engine.socket_url)):
                words = command.split()
                theirs = cli(*words, "--filter", f"label={LABEL}", host=url).rstrip("\n")
                assert _code(parts[host]) == theirs, (command, host, parts[host])
        assert here in by_host(bot.run(f"network ls -H all --filter label={LABEL}")[1].last
                               )["local"]
    finally:
        for network in made:
            network.remove()
        for volume in volumes:
            volume.remove()
        edge.close()
