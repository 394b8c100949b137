"""network ls, volume ls and the prune reports compared with the docker CLI, field by field.

Both sides read the same labelled objects; each prune runs on its own twin set (the CLI
prunes one, dockops the other), always filtered by this run's label and a group label.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator

import docker
import pytest

from bot.views.terminal import render
from tests.fidelity import assert_same, cli, cli_json, parse_table
from tests.lifecycle_rig import Confirmed
from tests.support import RUN_ID, TEST_LABEL, Runner, unique

GROUP = "dockops.test.group"
_TOTAL = re.compile(r"Total reclaimed space: (\S+)")


def _table(text: str, header: str) -> str:
    """The table in dockops's answer, from its header line on."""
    return text[text.index(header):]


@pytest.fixture
def group() -> str:
    return unique("fid")


@pytest.fixture
def networks(docker_client: docker.DockerClient, group: str) -> Iterator[list[str]]:
    made = [docker_client.api.create_network(f"{group}-n{i}", labels={GROUP: group},
                                             internal=i == 2)["Id"] for i in (1, 2, 10)]
    yield made
    for network in made:
        with contextlib.suppress(docker.errors.APIError):
            docker_client.api.remove_network(network)


def test_network_ls(run_command: Runner, networks: list[str], group: str) -> None:
    _, sent = run_command(f"network ls --filter label={GROUP}={group}")
    ours = _table(render(sent.last), "NETWORK ID")
    theirs = cli("network", "ls", "--filter", f"label={GROUP}={group}")
    assert ours == theirs  # byte for byte: order (n1, n2, n10), widths, columns
    rows = parse_table(ours)
    oracle = cli_json("network", "ls", "--filter", f"label={GROUP}={group}")
    for mine, row in zip(rows, oracle, strict=True):
        assert_same("network ls", {"ID": mine["NETWORK ID"], "Name": mine["NAME"],
                                   "Driver": mine["DRIVER"], "Scope": mine["SCOPE"]}, row,
                    ["ID", "Name", "Driver", "Scope"])


def test_network_ls_format(run_command: Runner, networks: list[str], group: str) -> None:
    template = "{{.ID}} {{.Name}} {{.IPv6}} {{.Internal}} {{.Labels}} {{.CreatedAt}}"
    _, sent = run_command(f"network ls --no-trunc --filter label={GROUP}={group} "
                          f"--format '{template}'")
    ours = [line for line in render(sent.last).splitlines() if line.split(" ")[0] in networks]
    theirs = cli("network", "ls", "--no-trunc", "--filter", f"label={GROUP}={group}",
                 "--format", template).splitlines()
    fields = ("ID", "Name", "IPv6", "Internal", "Labels", "CreatedAt")
    for mine, row in zip(ours, theirs, strict=True):
        split_mine, split_row = mine.split(" ", 5), row.split(" ", 5)
        assert_same("network ls --format", dict(zip(fields, split_mine, strict=True)),
                    dict(zip(fields, split_row, strict=True)))
    _, table = run_command(f"network ls --filter label={GROUP}={group} "
                           "--format 'table {{.Name}}\\t{{.Driver}}'")
    assert _table(render(table.last), "NAME") == cli(
        "network", "ls", "--filter", f"label={GROUP}={group}", "--format",
        "table {{.Name}}\t{{.Driver}}")


@pytest.fixture
def volumes(docker_client: docker.DockerClient, group: str) -> Iterator[list[str]]:
    made = [docker_client.api.create_volume(f"{group}-v{i}", labels={GROUP: group})["Name"]
            for i in (1, 2, 10)]
    yield made
    for volume in made:
        with contextlib.suppress(docker.errors.APIError):
            docker_client.api.remove_volume(volume, force=True)


def test_volume_ls(run_command: Runner, volumes: list[str], group: str) -> None:
    _, sent = run_command(f"volume ls --filter label={GROUP}={group}")
    ours = _table(render(sent.last), "DRIVER")
    assert ours == cli("volume", "ls", "--filter", f"label={GROUP}={group}")
    oracle = cli_json("volume", "ls", "--filter", f"label={GROUP}={group}")
    for mine, row in zip(parse_table(ours), oracle, strict=True):
        assert_same("volume ls", {"Driver": mine["DRIVER"], "Name": mine["VOLUME NAME"]}, row,
                    ["Driver", "Name"])
    template = "{{.Name}}|{{.Driver}}|{{.Labels}}|{{.Mountpoint}}|{{.Scope}}|{{.Size}}"
    _, formatted = run_command(f"volume ls --filter label={GROUP}={group} --format '{template}'")
    ours_lines = [line for line in render(formatted.last).splitlines() if line.startswith(group)]
    theirs = cli("volume", "ls", "--filter", f"label={GROUP}={group}", "--format",
                 template).splitlines()
    fields = ("Name", "Driver", "Labels", "Mountpoint", "Scope", "Size")
    for mine, row in zip(ours_lines, theirs, strict=True):
        assert_same("volume ls --format", dict(zip(fields, mine.split("|"), strict=True)),
                    dict(zip(fields, row.split("|"), strict=True)))


# -- prune reports: the engine's own figure, printed as the CLI prints it ------------------

def _stopped_twins(client: docker.DockerClient, busybox: str, groups: tuple[str, str]) -> None:
    for twin in groups:
        for _ in range(2):
            container = client.containers.run(
                busybox, ["sh", "-c", "printf helloworld1 > /eleven"], name=unique("fidc"),
                labels={TEST_LABEL: RUN_ID, GROUP: twin}, detach=True)
            container.wait(timeout=20)


def _cleanup_containers(client: docker.DockerClient, groups: tuple[str, ...]) -> None:
    for twin in groups:
        for raw in client.api.containers(all=True, filters={"label": f"{GROUP}={twin}"}):
            with contextlib.suppress(docker.errors.APIError):
                client.api.remove_container(raw["Id"], force=True)


def _prune_totals(confirmed: Confirmed, command: str, twins: tuple[str, str]) -> tuple[str, str]:
    label = f"--filter label={TEST_LABEL}={RUN_ID}"
    theirs = cli(*command.split(), "-f", "--filter", f"label={TEST_LABEL}={RUN_ID}",
                 "--filter", f"label={GROUP}={twins[0]}")
    _, done, sent = confirmed(f"{command} {label} --filter label={GROUP}={twins[1]}")
    assert done is not None and done.ok, sent.text()
    mine, cli_total = _TOTAL.search(render(sent.last)), _TOTAL.search(theirs)
    assert mine and cli_total, (sent.text(), theirs)
    # The preview announced the same bytes the engine then reported.
    assert f"frees {cli_total.group(1)}" in sent.text() or f"({cli_total.group(1)} in all)" in \
        sent.text(), sent.text()
    return mine.group(1), cli_total.group(1)


def test_container_prune_report(confirmed: Confirmed, docker_client: docker.DockerClient,
                                busybox: str) -> None:
    twins = (unique("fa"), unique("fb"))
    try:
        _stopped_twins(docker_client, busybox, twins)
        mine, theirs = _prune_totals(confirmed, "container prune", twins)
        assert_same("container prune", {"SpaceReclaimed": mine}, {"SpaceReclaimed": theirs})
        assert mine == "22B"
    finally:
        _cleanup_containers(docker_client, twins)


def test_image_prune_report(confirmed: Confirmed, docker_client: docker.DockerClient,
                            busybox: str) -> None:
    """Dangling images with an 11-byte layer each: dockops says what the engine says (22B)."""
    twins = (unique("fa"), unique("fb"))
    built: list[str] = []
    try:
        # Each layer its own file: two builds in the same second of the same file and bytes
        # make one shared layer, which the first prune leaves for the second.
        for t, twin in enumerate(twins):
            for n in range(2):
                dockerfile = (f"FROM {busybox}\nLABEL {TEST_LABEL}={RUN_ID} {GROUP}={twin}\n"
                              f"RUN printf helloworld1 > /eleven{t}{n}\n")
                image, _ = docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()),
                                                      rm=True, forcerm=True)
                built.append(image.id)
        mine, theirs = _prune_totals(confirmed, "image prune", twins)
        assert_same("image prune", {"SpaceReclaimed": mine}, {"SpaceReclaimed": theirs})
        assert mine == "22B"
    finally:
        for image_id in built:
            with contextlib.suppress(docker.errors.APIError):
                docker_client.api.remove_image(image_id, force=True)


def test_volume_prune_report(confirmed: Confirmed, docker_client: docker.DockerClient,
                             busybox: str) -> None:
    twins = (unique("fa"), unique("fb"))
    made: list[str] = []
    try:
        for twin in twins:
            name = docker_client.api.create_volume(
                unique("fv"), labels={TEST_LABEL: RUN_ID, GROUP: twin})["Name"]
            made.append(name)
            docker_client.containers.run(busybox, ["sh", "-c", "printf helloworld1 > /v/f"],
                                         volumes=[f"{name}:/v"], remove=True,
                                         labels={TEST_LABEL: RUN_ID})
        mine, theirs = _prune_totals(confirmed, "volume prune", twins)
        assert_same("volume prune", {"SpaceReclaimed": mine}, {"SpaceReclaimed": theirs})
    finally:
        for name in made:
            with contextlib.suppress(docker.errors.APIError):
                docker_client.api.remove_volume(name, force=True)


def test_inspect_prints_what_the_cli_prints(run_command: Runner, networks: list[str],
                                            volumes: list[str]) -> None:
    for kind, name in (("network", networks[0]), ("volume", volumes[0])):
        _, sent = run_command(f"{kind} inspect {name}")
        ours = render(sent.last)
        ours = ours[ours.index("["):]
        theirs = cli(kind, "inspect", name)
        assert_same(f"{kind} inspect", {"json": ours}, {"json": theirs})
