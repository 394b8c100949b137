"""Networks and volumes cannot reach the host: each refusal is checked on the engine.

`volume create -o type=none -o o=bind -o device=/etc` is a bind mount in disguise: refused
unless the device passes the bind rule (under `[run] bind_mounts`, no symlink). Host-network
drivers and connecting into `host`/`none` follow `allow_host_namespaces`; dockops's own
container is never reconnected; the engine's own networks are never removed.
"""

from __future__ import annotations

import os
from pathlib import Path

import docker
import pytest

from bot.engine import privileges
from tests.lifecycle_rig import LABEL
from tests.support import BUSYBOX, unique, volume_exists

OPERATOR = {"user": "U0OPER", "source": "slack"}
ADMIN = {"user": "U0ADMIN", "source": "slack"}


BIND_DISGUISES = [
    "-o type=none -o o=bind -o device=/etc",
    "-o type=none -o o=rbind -o device=/",
    "-o o=ro,bind -o device=/etc",
    "-o type=none -o o=bind -o device=/var/run",
    "-o type=ext4 -o device=/dev/sda1",
    "-o type=overlay -o o=lowerdir=/etc,upperdir=/tmp/u,workdir=/tmp/w -o device=overlay",
    "-o type=nfs -o o=addr=10.0.0.1 -o device=:/export",
    "--driver vieux/sshfs -o sshcmd=root@host:/",
]


@pytest.mark.parametrize("options", BIND_DISGUISES)
def test_volume_create_that_mounts_the_host_is_refused(make_pipeline, vol_name,
                                                       docker_client: docker.DockerClient,
                                                       options: str) -> None:
    """Refused for operators and admins alike; no volume exists afterwards."""
    run = make_pipeline()
    for who in (OPERATOR, ADMIN):
        name = vol_name()
        outcome, sent = run(f"volume create {options} {name}", **who)
        assert outcome.result == "refused", sent.text()
        assert "Nothing was created" in sent.text()
        assert not volume_exists(docker_client, name)


def test_refused_bind_volume_never_shows_host_files(make_pipeline, vol_name,
                                                    docker_client: docker.DockerClient) -> None:
    """Even a container mounting that name afterwards sees an empty volume, never /etc."""
    run = make_pipeline()
    name = vol_name()
    run(f"volume create -o type=none -o o=bind -o device=/etc {name}", **OPERATOR)
    out = docker_client.containers.run(BUSYBOX, "ls /x", volumes=[f"{name}:/x"], remove=True,
                                       labels={LABEL.split("=")[0]: LABEL.split("=")[1]})
    assert b"passwd" not in out


def test_bind_volume_under_an_allowed_root_works(make_pipeline, vol_name, tmp_path: Path,
                                                 docker_client: docker.DockerClient) -> None:
    root = tmp_path / "allowed"
    (root / "data").mkdir(parents=True)
    (root / "data" / "hello.txt").write_text("hi\n")
    run = make_pipeline(f'[run]\nbind_mounts = ["{root}"]\n')
    name = vol_name()
    outcome, sent = run(f"volume create -o type=none -o o=bind -o device={root}/data {name}",
                        **OPERATOR)
    assert outcome.ok, sent.text()
    out = docker_client.containers.run(BUSYBOX, "cat /x/hello.txt", volumes=[f"{name}:/x"],
                                       remove=True,
                                       labels={LABEL.split("=")[0]: LABEL.split("=")[1]})
    assert out == b"hi\n"
    # A symlink under the root that points outside it is refused like any bind.
    os.symlink("/etc", root / "link")
    other = vol_name()
    outcome, sent = run(f"volume create -o type=none -o o=bind -o device={root}/link {other}",
                        **OPERATOR)
    assert outcome.result == "refused" and "symbolic link" in sent.text()
    assert not volume_exists(docker_client, other)


def test_tmpfs_volume_is_allowed(make_pipeline, vol_name,
                                 docker_client: docker.DockerClient) -> None:
    run = make_pipeline()
    name = vol_name()
    outcome, sent = run(f"volume create -o type=tmpfs -o device=tmpfs -o o=size=1m {name}",
                        **OPERATOR)
    assert outcome.ok, sent.text()
    assert docker_client.api.inspect_volume(name)["Options"]["type"] == "tmpfs"


@pytest.mark.parametrize("driver", ["host", "macvlan", "ipvlan", "MACVLAN"])
def test_host_network_drivers_follow_allow_host_namespaces(make_pipeline, driver: str,
                                                           docker_client: docker.DockerClient
                                                           ) -> None:
    run = make_pipeline()
    name = unique("snet")
    outcome, sent = run(f"network create --driver {driver} {name}", **OPERATOR)
    assert outcome.result == "refused" and "allow_host_namespaces" in sent.text()
    assert not docker_client.api.networks(names=[name])


@pytest.mark.parametrize("network", ["host", "none"])
def test_connect_into_host_or_none_is_refused(make_pipeline, make_container, network: str,
                                              docker_client: docker.DockerClient) -> None:
    run = make_pipeline()
    web = make_container()
    before = set(docker_client.api.inspect_container(web.id)["NetworkSettings"]["Networks"])
    outcome, sent = run(f"network connect {network} {web.name}", **ADMIN)
    assert outcome.result == "refused" and "allow_host_namespaces" in sent.text()
    after = set(docker_client.api.inspect_container(web.id)["NetworkSettings"]["Networks"])
    assert after == before


def test_dockops_own_container_is_not_reconnected(make_pipeline, make_container,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  docker_client: docker.DockerClient) -> None:
    run = make_pipeline()
    me = make_container()
    monkeypatch.setattr(privileges, "own_container_id", lambda: me.id)
    name = unique("snet")
    docker_client.api.create_network(name)
    try:
        for verb in ("connect", "disconnect -f"):
            outcome, sent = run(f"network {verb} {name} {me.name}", **ADMIN)
            assert outcome.result == "refused", sent.text()
            assert "dockops's own container" in sent.text()
        assert name not in docker_client.api.inspect_container(me.id)["NetworkSettings"]["Networks"]
    finally:
        docker_client.api.remove_network(name)


def test_engine_networks_are_never_removed(make_pipeline,
                                           docker_client: docker.DockerClient) -> None:
    run = make_pipeline()
    outcome, sent = run("network rm bridge host none", **ADMIN)
    assert outcome.result == "refused" and "Nothing was removed" in sent.text()
    assert {n["Name"] for n in docker_client.api.networks()} >= {"bridge", "host", "none"}


def test_operators_cannot_remove_or_prune(make_pipeline, vol_name,
                                          docker_client: docker.DockerClient) -> None:
    run = make_pipeline()
    name = vol_name()
    docker_client.api.create_volume(name)
    for command in (f"volume rm {name}", f"volume prune --filter label={LABEL}",
                    f"container prune --filter label={LABEL}",
                    f"system prune --filter label={LABEL}"):
        outcome, sent = run(command, **OPERATOR)
        assert outcome.result == "refused" and "admin" in sent.text(), command
    assert volume_exists(docker_client, name)


def test_a_chosen_subnet_is_for_admins(make_pipeline, docker_client: docker.DockerClient) -> None:
    """`--subnet` can shadow the host's own routes: an operator's is refused, nothing created."""
    run = make_pipeline()
    name = unique("snet")
    outcome, sent = run(f"network create --subnet 10.252.9.0/24 {name}", **OPERATOR)
    assert outcome.result == "refused" and "admin" in sent.text()
    assert not docker_client.api.networks(names=[name])


def test_an_existing_bind_volume_is_caught_before_a_container_mounts_it(
        make_pipeline, vol_name, docker_client: docker.DockerClient) -> None:
    """A volume made on the host with `o=bind,device=/etc`: the check the run path can call."""
    from bot.engine.volumes import volume_options
    from bot.errors import RefusedError
    from bot.policy.objects import check_named_volumes

    run = make_pipeline()
    name = vol_name()
    docker_client.api.create_volume(name, driver_opts={"type": "none", "o": "bind",
                                                       "device": "/etc"})
    options = volume_options(run.services.hosts.get(), [name, unique("new")])
    assert list(options) == [name]
    with pytest.raises(RefusedError, match="mounts a host path"):
        check_named_volumes(options, run.services.settings.run)
    check_named_volumes({"plain": {}}, run.services.settings.run)  # a plain volume passes


def _labelled_containers(client: docker.DockerClient) -> set[str]:
    return {c.id for c in client.containers.list(all=True, sparse=True,
                                                  filters={"label": LABEL})}


def test_an_operators_run_of_a_host_bind_volume_creates_nothing(
        make_pipeline, vol_name, docker_client: docker.DockerClient) -> None:
    """`run -v NAME:/x` of a volume made on the host with `o=bind,device=/etc`: no container."""
    run = make_pipeline()
    name = vol_name()
    docker_client.api.create_volume(name, driver_opts={"type": "none", "o": "bind",
                                                       "device": "/etc"})
    before = _labelled_containers(docker_client)
    for spelling in (f"-v {name}:/x", f"--mount type=volume,source={name},target=/x"):
        outcome, sent = run(f"run --label {LABEL} {spelling} {BUSYBOX} cat /x/passwd",
                            **OPERATOR)
        assert outcome.result == "refused", sent.text()
        assert "root:" not in sent.text()
    assert _labelled_containers(docker_client) == before


def test_an_operators_start_of_a_container_on_a_host_bind_volume_leaves_it_stopped(
        make_pipeline, vol_name, docker_client: docker.DockerClient) -> None:
    run = make_pipeline()
    name = vol_name()
    docker_client.api.create_volume(name, driver_opts={"type": "none", "o": "bind",
                                                       "device": "/etc"})
    created = docker_client.containers.create(
        BUSYBOX, "cat /x/passwd", volumes=[f"{name}:/x"], name=unique("svolstart"),
        labels={LABEL.split("=")[0]: LABEL.split("=")[1]})
    try:
        outcome, sent = run(f"start {created.name}", **OPERATOR)
        assert outcome.result == "refused", sent.text()
        created.reload()
        assert created.attrs["State"]["StartedAt"].startswith("0001-")  # never started
        outcome, sent = run(f"start {created.name}", **ADMIN)  # an admin decides for the host
        assert outcome.ok, sent.text()
    finally:
        created.remove(force=True)
