"""dockops against the docker CLI on the same engine, field by field (issue 13).

One labelled fleet per module: containers created, running (ports on IPv4 and IPv6, a
published range), exited 0 and 3, paused, restarting, healthy, on two extra networks, with a
volume and a bind mount, one whose image lost its tag; images with several tags, a dangling
one, one pushed to the rig's registry (a digest), one whose registry tag was removed (a
repository holding only a digest). Each test asks the CLI and dockops the same question and
compares every field with `tests/fidelity.py` (`make fidelity` prints the share equal).

What moves between the two calls (ages, "Up N seconds", a restarting container's status,
`system df` while other tests run) is compared against a CLI answer taken just before and one
just after dockops's: equal to either counts as equal. Not compared: the order of a container's
networks (the CLI walks a Go map: `Networks` is compared as a set) and the order of rows within
one image in `images` (also a Go map in the CLI: rows are matched by ID, repository and tag).
"""

from __future__ import annotations

import contextlib
import io
import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import docker
import pytest

from tests.fidelity import assert_same, cli, parse_table, shown
from tests.registry_rig import RegistryRig
from tests.support import RUN_ID, TEST_LABEL, Runner, unique, wait_for

FID = "dockops.fidelity"


@dataclass
class Fleet:
    key: str
    repo: str
    names: dict[str, str] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)

    @property
    def filter(self) -> str:
        return f"label={FID}={self.key}"


def _check_push(stream: Iterator[dict[str, Any]]) -> None:
    for item in stream:
        if "error" in item:
            raise AssertionError(f"push failed: {item['error']}")


def _free_pair() -> int:
    """A port P with P and P+1 free on 0.0.0.0 (for a published range)."""
    import socket

    for _ in range(50):
        base = random.randint(20000, 40000)
        with contextlib.ExitStack() as stack:
            try:
                for port in (base, base + 1):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("0.0.0.0", port))
            except OSError:
                continue
            return base
    raise AssertionError("no two free ports in a row")


@pytest.fixture(scope="module")
def fleet(docker_client: docker.DockerClient, busybox: str,
          registry: RegistryRig) -> Iterator[Fleet]:
    key = unique("fid")
    short = key.rsplit("-", 1)[-1]
    labels = {TEST_LABEL: RUN_ID, FID: key}
    fleet = Fleet(key, f"dockops-fid-{short}/app")
    api = docker_client.api
    containers: list[str] = []
    networks: list[str] = []
    volumes: list[str] = []

    def build(variant: str) -> str:
        dockerfile = f'FROM {busybox}\nLABEL variant="{variant}"\nCMD ["sleep", "300"]\n'
        image, _ = docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), rm=True,
                                              forcerm=True, labels=labels)
        fleet.images[variant] = image.id
        return image.id

    def run(role: str, image: str, command: Any, *, start: bool = True,
            **kwargs: Any) -> docker.models.containers.Container:
        name = unique(role)
        extra = kwargs.pop("labels", {})
        container = docker_client.containers.create(image, command, name=name,
                                                    labels={**labels, **extra}, **kwargs)
        containers.append(container.id)
        fleet.names[role] = name
        if start:
            container.start()
        return container

    try:
        # First, so its restart back-off (doubling from 100 ms) is long by the time tests run:
        # then it shows "Restarting (1) ..." for seconds at a time, not flapping to "Up".
        run("restarting", busybox, ["sh", "-c", "exit 1"], restart_policy={"Name": "always"})
        old = build("old")
        api.tag(old, fleet.repo, "1.0")
        multi = build("multi")
        for tag in ("latest", "stable"):
            api.tag(multi, fleet.repo, tag)
        api.tag(multi, f"dockops-fid-{short}/other", "x")
        pushed = registry.image(f"fid{short}/app", "1.0")
        api.tag(multi, pushed)
        _check_push(api.push(pushed, stream=True, decode=True))
        digest_only = build("digest-only")
        gone = registry.image(f"fid{short}/gone", "1.0")
        api.tag(digest_only, gone)
        _check_push(api.push(gone, stream=True, decode=True))
        api.tag(digest_only, fleet.repo, "kept")
        digest = next(d for d in api.inspect_image(gone)["RepoDigests"]
                      if d.startswith(gone.rsplit(":", 1)[0] + "@"))
        api.remove_image(gone)
        api.pull(digest)  # by digest: the repository now holds only the digest

        # A container on repo:1.0, then the tag moves: its image shows as a short ID.
        run("orphan", f"{fleet.repo}:1.0", "true", start=False)
        build("new")
        api.tag(fleet.images["new"], fleet.repo, "1.0", force=True)
        build("dangling")  # untagged from birth

        run("created", f"{fleet.repo}:latest",
            ["sh", "-c", 'echo "hello world" && sleep 1000 # a long, quoted command'],
            start=False, labels={"team": "api", "tier": "web"})
        port = _free_pair()
        run("web", busybox, ["httpd", "-f", "-p", "80"],
            ports={"80/tcp": None, "81/udp": ("127.0.0.1", None)})
        run("range", busybox, "sleep 300",
            ports={f"{port}/tcp": port, f"{port + 1}/tcp": port + 1})
        exited3 = run("exit3", busybox, ["sh", "-c", "exit 3"])
        exited0 = run("exit0", busybox, "true")
        paused = run("paused", busybox, "sleep 300")
        paused.pause()
        healthy = run("healthy", busybox, "sleep 300",
                      healthcheck={"test": ["CMD", "true"], "interval": 500_000_000})
        for role in ("front", "back"):
            net = docker_client.networks.create(unique(role), labels=labels)
            networks.append(net.id)
        multi_net = run("nets", busybox, "sleep 300", network=networks[0])
        docker_client.networks.get(networks[1]).connect(multi_net)
        volume = docker_client.volumes.create(unique("vol"), labels=labels)
        volumes.append(volume.name)
        run("mounts", busybox, "sleep 300",
            volumes={volume.name: {"bind": "/data", "mode": "rw"},
                     "/tmp": {"bind": "/host-tmp", "mode": "ro"}})
        run("unicode", busybox, ["echo", "tab\there", "é", 'back\\slash'], start=False)

        exited3.wait(timeout=30)
        exited0.wait(timeout=30)
        wait_for(lambda: api.inspect_container(healthy.id)["State"]["Health"]["Status"]
                 == "healthy", timeout=30, what="a healthy container")
        wait_for(lambda: api.inspect_container(fleet.names["restarting"])["RestartCount"] >= 6,
                 timeout=30, what="a restarting container")
        yield fleet
    finally:
        for container_id in containers:
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_container(container_id, force=True)
        for network_id in networks:
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_network(network_id)
        for name in volumes:
            with contextlib.suppress(docker.errors.NotFound):
                api.remove_volume(name, force=True)
        for image_id in fleet.images.values():
            with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                api.remove_image(image_id, force=True)


# -- reading dockops's answer --------------------------------------------------------------------

def ours(run_command: Runner, command: str) -> str:
    _outcome, responder = run_command(command)
    return shown(responder.last)


def json_rows(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def three_way(ask_cli: Callable[[], Any], ask_ours: Callable[[], Any]) -> tuple[Any, Any, Any]:
    """The CLI's answer just before and just after dockops's, and dockops's."""
    before = ask_cli()
    mine = ask_ours()
    after = ask_cli()
    return before, mine, after


def closest(mine: dict[str, Any], before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Per field, the CLI value (before or after) equal to ours if either is; else `after`."""
    return {f: before[f] if f in before and mine.get(f) == before[f] else after.get(f)
            for f in {*before, *after}}


def by(rows: list[dict[str, Any]], *keys: str) -> dict[tuple[str, ...], dict[str, Any]]:
    return {tuple(str(r.get(k)) for k in keys): r for r in rows}


def compare_rows(command: str, mine: list[dict[str, Any]], before: list[dict[str, Any]],
                 after: list[dict[str, Any]], *keys: str,
                 normalise: Callable[[dict[str, Any]], dict[str, Any]] = lambda r: r) -> None:
    mine_by, before_by, after_by = (by([normalise(r) for r in rows], *keys)
                                    for rows in (mine, before, after))
    assert set(mine_by) == set(after_by), (
        f"{command}: rows differ: dockops {sorted(mine_by)} != docker {sorted(after_by)}")
    problems = []
    for row_key, row in mine_by.items():
        theirs = closest(row, before_by.get(row_key, after_by[row_key]), after_by[row_key])
        try:
            assert_same(command, row, theirs)
        except AssertionError as failure:
            problems.append(f"{row_key}: {failure}")
    assert not problems, "\n".join(problems)


def sorted_networks(row: dict[str, Any]) -> dict[str, Any]:
    """Networks and Mounts as sets: the engine (mounts) and the CLI (networks) list them from
    Go maps, so their order changes from one call to the next."""
    return {k: ",".join(sorted(v.split(","))) if k in ("Networks", "Mounts") else v
            for k, v in row.items()}


# -- ps -------------------------------------------------------------------------------------------

def test_ps_json_equals_the_cli_field_by_field(fleet: Fleet, run_command: Runner) -> None:
    command = f"ps -a --filter {fleet.filter} --format '{{{{json .}}}}'"
    before, mine, after = three_way(
        lambda: json_rows(cli("ps", "-a", "--filter", fleet.filter, "--format", "{{json .}}")),
        lambda: json_rows(ours(run_command, command)))
    assert len(after) == len(fleet.names)
    compare_rows("ps --format json", mine, before, after, "ID", normalise=sorted_networks)


@pytest.mark.parametrize("flags", [(), ("-s",), ("--no-trunc",), ("--filter", "status=exited"),
                                   ("-n", "3")],
                         ids=["table", "size", "no-trunc", "status-filter", "last"])
def test_ps_table_equals_the_cli(fleet: Fleet, run_command: Runner, flags: tuple[str, ...]) -> None:
    before, mine, after = three_way(
        lambda: parse_table(cli("ps", "-a", *flags, "--filter", fleet.filter)),
        lambda: parse_table(ours(run_command, " ".join(("ps -a", *flags, "--filter",
                                                         fleet.filter)))))
    compare_rows(" ".join(("ps", *flags)), mine, before, after, "NAMES")


def test_ps_quiet_and_custom_table_equal_the_cli(fleet: Fleet, run_command: Runner) -> None:
    theirs = cli("ps", "-aq", "--filter", fleet.filter).split()
    mine = ours(run_command, f"ps -aq --filter {fleet.filter}").split()
    assert_same("ps -q", {"IDs": mine}, {"IDs": theirs})
    template = "table {{.Names}}\\t{{.Image}}\\t{{.Ports}}\\t{{.Labels}}\\t{{.LocalVolumes}}\\t{{.State}}"
    theirs_text = cli("ps", "-a", "--filter", fleet.filter, "--format", template)
    mine_text = ours(run_command, f"ps -a --filter {fleet.filter} --format '{template}'")
    compare_rows("ps --format table", parse_table(mine_text), parse_table(theirs_text),
                 parse_table(theirs_text), "NAMES")
    assert mine_text.rstrip("\n") == theirs_text.rstrip("\n")
    template = '{{.Names}} team={{.Label "team"}} {{json .Networks}}'
    theirs_lines = sorted(cli("ps", "-a", "--filter", fleet.filter, "--format", template)
                          .splitlines())
    mine_lines = sorted(ours(run_command, f"ps -a --filter {fleet.filter} --format '{template}'")
                        .splitlines())
    assert_same("ps --format", {"lines": [sorted_line(x) for x in mine_lines]},
                {"lines": [sorted_line(x) for x in theirs_lines]})


def sorted_line(line: str) -> str:
    """A `NAME team=T "net1,net2"` line with its networks sorted (a Go map in the CLI)."""
    head, _, networks = line.rpartition(" ")
    return f"{head} {','.join(sorted(networks.strip(chr(34)).split(',')))}"


# -- images -------------------------------------------------------------------------------------

def test_images_json_equals_the_cli_field_by_field(fleet: Fleet, run_command: Runner) -> None:
    args = ("images", "-a", "--filter", fleet.filter)
    before, mine, after = three_way(
        lambda: json_rows(cli(*args, "--format", "{{json .}}")),
        lambda: json_rows(ours(run_command, " ".join(args) + " --format '{{json .}}'")))
    repos = {r["Repository"] for r in after}
    assert "<none>" in repos and any(r["Tag"] == "<none>" and r["Repository"] != "<none>"
                                     for r in after), "the fleet lacks a digest-only row"
    compare_rows("images --format json", mine, before, after, "ID", "Repository", "Tag")


@pytest.mark.parametrize("flags", [(), ("--digests",), ("-a", "--no-trunc"), ("REPO",)],
                         ids=["table", "digests", "no-trunc", "repository"])
def test_images_table_equals_the_cli(fleet: Fleet, run_command: Runner,
                                     flags: tuple[str, ...]) -> None:
    label = " ".join(("images", *flags)).replace("REPO", "REPOSITORY")
    flags = tuple(fleet.repo if flag == "REPO" else flag for flag in flags)
    args = ("images", *flags, "--filter", fleet.filter)
    before, mine, after = three_way(lambda: parse_table(cli(*args)),
                                    lambda: parse_table(ours(run_command, " ".join(args))))
    keys = ("IMAGE ID", "REPOSITORY", "TAG") + (("DIGEST",) if "--digests" in flags else ())
    compare_rows(label, mine, before, after, *keys)


def test_images_quiet_and_format_equal_the_cli(fleet: Fleet, run_command: Runner) -> None:
    theirs = sorted(cli("images", "-q", "--filter", fleet.filter).split())
    mine = sorted(ours(run_command, f"images -q --filter {fleet.filter}").split())
    assert_same("images -q", {"IDs": mine}, {"IDs": theirs})
    template = "{{.Repository}}:{{.Tag}} {{.Size}} {{.VirtualSize}} {{.Digest}}"
    theirs_lines = sorted(cli("images", "--filter", fleet.filter, "--format", template)
                          .splitlines())
    mine_lines = sorted(ours(run_command, f"images --filter {fleet.filter} --format '{template}'")
                        .splitlines())
    assert_same("images --format", {"lines": mine_lines}, {"lines": theirs_lines})


# -- system df, version ---------------------------------------------------------------------------

def test_system_df_equals_the_cli(fleet: Fleet, run_command: Runner) -> None:
    for _ in range(5):  # as for info: the engine's totals move while other tests run
        before, mine, after = three_way(
            lambda: json_rows(cli("system", "df", "--format", "{{json .}}")),
            lambda: json_rows(ours(run_command, "system df --format '{{json .}}'")))
        if all(closest(m, b, a) == m for m, b, a in zip(mine, before, after, strict=False)):
            break
    compare_rows("system df", mine, before, after, "Type")
    table_theirs = parse_table(cli("system", "df"))
    table_mine = parse_table(ours(run_command, "system df"))
    assert [r["TYPE"] for r in table_mine] == [r["TYPE"] for r in table_theirs]


def _sections(text: str) -> dict[str, list[dict[str, str]]]:
    """`system df -v` split into its four tables, by title."""
    found: dict[str, list[dict[str, str]]] = {}
    for part in re.split(r"\n(?=[A-Z][A-Za-z ]+ usage:)", text.strip("\n")):
        title, _, table = part.partition("\n\n")
        found[title.split(":")[0]] = parse_table(table) if table.strip() else []
    return found


def test_system_df_verbose_equals_the_cli_for_the_fleet(fleet: Fleet, run_command: Runner) -> None:
    ids = {docker_id[7:19] for docker_id in fleet.images.values()}
    names = set(fleet.names.values())

    def ask(text: str) -> dict[str, list[dict[str, str]]]:
        sections = _sections(text)
        return {"Images": [r for r in sections["Images space usage"] if r["IMAGE ID"] in ids],
                "Containers": [r for r in sections["Containers space usage"] if r["NAMES"] in names]}

    before, mine, after = three_way(lambda: ask(cli("system", "df", "-v")),
                                    lambda: ask(ours(run_command, "system df -v")))
    compare_rows("system df -v (images)", mine["Images"], before["Images"], after["Images"],
                 "IMAGE ID")
    compare_rows("system df -v (containers)", mine["Containers"], before["Containers"],
                 after["Containers"], "NAMES")


def test_version_server_part_equals_the_cli(run_command: Runner) -> None:
    theirs_text = cli("version").split("\nServer:", 1)[1]
    mine_text = ours(run_command, "version").split("Server:", 1)[1]

    def fields(text: str) -> dict[str, str]:
        found, section = {}, ""
        for line in text.splitlines():
            if re.match(r"^ \S.*:$", line):
                section = line.strip(" :")
            elif ":" in line:
                name, _, value = line.strip().partition(":")
                found[f"{section}.{name}"] = value.strip()
        return found

    assert_same("version", fields(mine_text), fields(theirs_text))
    assert mine_text.rstrip("\n") == theirs_text.rstrip("\n")


def _info_fields(text: str) -> dict[str, str]:
    """`docker info`'s Server part as `Section.Key: value` fields (Runtimes as a sorted set:
    the CLI walks a Go map)."""
    found: dict[str, str] = {}
    parents: list[str] = []
    for line in text.split("Server:", 1)[1].splitlines():
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip(" "))
        name, colon, value = line.strip().partition(": ") if ": " in line else (
            line.strip().rstrip(":"), ":", "")
        parents = [*parents[:depth - 1], name]
        key = ".".join(parents)
        if name == "Runtimes":
            value = " ".join(sorted(value.split()))
        found[key] = value if colon else ""
    return found


def test_info_server_part_equals_the_cli(run_command: Runner) -> None:
    # Other tests create and remove containers all the time: the counts may move between the
    # calls, so ask again (a few times) until both sides saw the same moment.
    for _ in range(5):
        before, mine, after = three_way(lambda: _info_fields(cli("info")),
                                        lambda: _info_fields(ours(run_command, "info")))
        theirs = closest(mine, before, after)
        if theirs == mine:
            break
    assert_same("info", mine, theirs)


def test_a_long_age_reads_as_the_cli_reads_it() -> None:
    """Ages the fleet cannot reach in a test run, checked against the CLI's own rules."""
    from datetime import UTC, datetime, timedelta

    from bot.units import ago
    now = datetime(2026, 11, 30, tzinfo=UTC)
    for delta, expected in [(timedelta(seconds=95), "About a minute ago"),
                            (timedelta(hours=30), "30 hours ago"),
                            (timedelta(days=20), "2 weeks ago")]:
        assert ago(now - delta, now) == expected
