"""Run, exec, start: no sequence of commands lets an operator reach the host.

Every test asserts effects on the real engine (containers created, processes, files on the
host), not the wording of the refusal.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from bot.commands import TABLE, parse
from bot.config import RunPolicyConfig
from bot.engine.privileges import ContainerPrivileges, exposes_runtime_socket, from_inspect
from bot.errors import RefusedError
from bot.policy.binds import bind_problem
from bot.policy.run import Join, check_exec, check_join, check_start, join_targets
from bot.policy.users import resolves_to_root
from bot.roles import Role
from tests.lifecycle_rig import LABEL, Run, state, unchanged
from tests.support import BUSYBOX, wait_for

Make = Callable[..., docker.models.containers.Container]
OPERATOR = {"user": "U0OPER", "source": "slack"}
ROOT_USERS = ["0", "00", "0000", "+0", "-0", "root", "ROOT", "0:0", "00:00", "root:root",
              "1000:0", "0:1000", "nobody:root", ":0", ":root", "4294967296", " 0 "]


# -- the uid parser ------------------------------------------------------------------------------

@pytest.mark.parametrize("user, root", [
    *((spec, True) for spec in ROOT_USERS),
    ("1000", False), ("1000:1000", False), ("nobody", False), ("nobody:nogroup", False),
    ("", False), ("10", False), ("+1000", False), ("rooter", False), ("1000:", False),
    ("1000:1000:0", True),  # runc ignores a third field; refusing it costs nothing
])
def test_the_uid_parser_reads_users_as_runc_does(user: str, root: bool) -> None:
    assert resolves_to_root(user) is root


# -- joining other containers --------------------------------------------------------------------

JOINS = ["--pid container:{t}", "--ipc container:{t}", "--network container:{t}",
         "--uts container:{t}", "--volumes-from {t}", "--pid=container:{t}",
         "--network=Container:{t}", "--volumes-from={t}:ro", "--pid host --pid container:{t}",
         "--volumes-from other --volumes-from {t}"]


@pytest.mark.parametrize("flags", JOINS)
def test_joining_a_container_is_refused_by_default_and_nothing_is_created(
        run_command: Run, make_container: Make, docker_client: docker.DockerClient,
        flags: str) -> None:
    target = make_container(start=False)
    check = unchanged(docker_client)
    for who in (OPERATOR, {}):  # the console admin is held to the run policy too
        outcome, sent = run_command(f"run -d -l {LABEL} {flags.format(t=target.name)} "
                                    f"{BUSYBOX} sleep 30", **who)
        assert outcome.result == "refused", sent.text()
        assert "allow_join_containers" in sent.text()
    check()


def _dangerous_targets(make_container: Make, tmp_path: Path) -> dict[str, str]:
    """Created, never started: each a way to the host that no join may reach."""
    return {
        "privileged": make_container(start=False, privileged=True).name,
        "host pid": make_container(start=False, pid_mode="host").name,
        "host network": make_container(start=False, network_mode="host").name,
        "docker socket": make_container(start=False, volumes={
            "/var/run/docker.sock": {"bind": "/sock", "mode": "ro"}}).name,
        "/run": make_container(start=False, volumes={"/run": {"bind": "/r", "mode": "ro"}}).name,
    }


@pytest.mark.parametrize("flag", ["--pid container:", "--ipc container:", "--network container:",
                                  "--volumes-from "])
def test_even_when_joins_are_allowed_a_dangerous_target_is_refused_and_nothing_is_created(
        make_pipeline: Callable[[str], Run], make_container: Make,
        docker_client: docker.DockerClient, tmp_path: Path, flag: str) -> None:
    run = make_pipeline("[run]\nallow_join_containers = true\n")
    for kind, target in _dangerous_targets(make_container, tmp_path).items():
        check = unchanged(docker_client)
        outcome, sent = run(f"run -d -l {LABEL} {flag}{target} {BUSYBOX} sleep 30", **OPERATOR)
        assert outcome.result == "refused", (kind, sent.text())
        check()


def test_a_target_that_itself_joins_a_host_namespace_is_refused(
        make_pipeline: Callable[[str], Run], make_container: Make,
        docker_client: docker.DockerClient) -> None:
    hostnet = make_container(start=False, network_mode="host")
    relay = make_container(start=False, network_mode=f"container:{hostnet.id}")
    run = make_pipeline("[run]\nallow_join_containers = true\n")
    check = unchanged(docker_client)
    outcome, sent = run(f"run -d -l {LABEL} --network container:{relay.name} {BUSYBOX} sleep 30",
                        **OPERATOR)
    assert outcome.result == "refused", sent.text()
    check()


def test_volumes_from_a_container_binding_outside_the_roots_is_refused(
        make_pipeline: Callable[[str], Run], make_container: Make,
        docker_client: docker.DockerClient, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    target = make_container(start=False, volumes={str(outside): {"bind": "/o", "mode": "rw"}})
    run = make_pipeline("[run]\nallow_join_containers = true\n")
    check = unchanged(docker_client)
    for flag in ("--volumes-from ", "--pid container:"):
        outcome, _ = run(f"run --rm -l {LABEL} {flag}{target.name} {BUSYBOX} touch /o/pwned",
                         **OPERATOR)
        assert outcome.result == "refused"
    check()
    assert list(outside.iterdir()) == []


def test_an_allowed_join_shares_the_checked_container_by_id(
        make_pipeline: Callable[[str], Run], make_container: Make,
        docker_client: docker.DockerClient, names: Callable[[str], str]) -> None:
    target = make_container("sleep 300")
    run = make_pipeline("[run]\nallow_join_containers = true\n")
    joined = names("joined")
    outcome, sent = run(f"run -d --name {joined} -l {LABEL} --pid container:{target.name} "
                        f"{BUSYBOX} sleep 300", **OPERATOR)
    assert outcome.ok, sent.text()
    assert docker_client.api.inspect_container(joined)["HostConfig"]["PidMode"] \
        == f"container:{target.id}"
    ps = docker_client.containers.get(joined).exec_run(["ps"]).output.decode()
    assert "sleep 300" in ps  # the target's process, seen from the joined namespace


def test_a_join_flag_after_the_image_is_the_command_not_an_option(
        run_command: Run, make_container: Make, docker_client: docker.DockerClient,
        names: Callable[[str], str]) -> None:
    target = make_container(start=False)
    name = names("after")
    run_command(f"run -d --name {name} -l {LABEL} {BUSYBOX} echo --pid container:{target.name}",
                **OPERATOR)
    host = docker_client.api.inspect_container(name)["HostConfig"]
    assert host["PidMode"] == "" and not host.get("VolumesFrom")


def test_join_targets_read_every_spelling() -> None:
    invocation = parse("run --pid=container:a --ipc Container:b --uts container:c "
                       "--network container:d --volumes-from e:ro --volumes-from f x", TABLE)
    assert [(j.flag, j.container) for j in join_targets(invocation)] == [
        ("pid", "a"), ("ipc", "b"), ("network", "d"), ("uts", "c"), ("volumes_from", "e"),
        ("volumes_from", "f")]


def test_dockops_own_container_is_never_joined_nor_exec_into() -> None:
    details = {"Id": "ab" * 32, "Name": "/dockops", "HostConfig": {}}
    me = from_inspect(details, own_id="ab" * 6)
    other = from_inspect(details, own_id="cd" * 6)
    assert me.is_self and not other.is_self and not from_inspect(details, None).is_self
    run = RunPolicyConfig(allow_join_containers=True)
    with pytest.raises(RefusedError):
        check_join(Join("network", "dockops", "--network container:dockops"), me, run)
    check_join(Join("network", "dockops", "--network container:dockops"), other, run)
    with pytest.raises(RefusedError):
        check_exec(me, Role.OPERATOR, run)


@pytest.mark.parametrize("source, exposed", [
    ("/var/run/docker.sock", True), ("/run/docker.sock", True), ("/run", True), ("/var", True),
    ("/", True), ("/var/run/", True), ("/srv/x/docker.sock", True), ("/run/user/1000", True),
    ("/srv/data", False), ("/var/lib/app", False), ("/runner", False),
])
def test_runtime_socket_detection(source: str, exposed: bool) -> None:
    assert exposes_runtime_socket(source) is exposed


# -- the root user --------------------------------------------------------------------------------

@pytest.mark.parametrize("user", ROOT_USERS)
def test_every_spelling_of_root_is_refused_for_run_and_nothing_is_created(
        run_command: Run, docker_client: docker.DockerClient, busybox: str, user: str) -> None:
    check = unchanged(docker_client)
    outcome, sent = run_command(f"run -d -l {LABEL} -u '{user}' {BUSYBOX} sleep 30", **OPERATOR)
    assert outcome.result == "refused", sent.text()
    assert "allow_root_user" in sent.text()
    check()


def _processes(client: docker.DockerClient, name: str) -> list[str]:
    return sorted(row[-1] for row in client.api.top(name)["Processes"])


def _exists_in(client: docker.DockerClient, name: str, path: str) -> bool:
    return client.containers.get(name).exec_run(["test", "-e", path]).exit_code == 0


@pytest.mark.parametrize("user", ["-u +0", "-u 0:0", "-u root", "--user=00", "-u 1000:0",
                                  "-u nobody:root", "-u :0"])
def test_exec_as_root_is_refused_and_the_container_is_unchanged(
        run_command: Run, make_container: Make, docker_client: docker.DockerClient,
        user: str) -> None:
    web = make_container("sleep 300", user="1000")
    before = _processes(docker_client, web.name)
    for who in (OPERATOR, {}):
        outcome, _ = run_command(f"exec {user} {web.name} sh -c 'touch /pwned; sleep 60'",
                                 **who)
        assert outcome.result == "refused"
    assert _processes(docker_client, web.name) == before
    assert not _exists_in(docker_client, web.name, "/pwned")


def test_exec_as_root_is_allowed_when_the_config_says_so(make_pipeline: Callable[[str], Run],
                                                         make_container: Make) -> None:
    web = make_container("sleep 300", user="1000")
    run = make_pipeline("[run]\nallow_root_user = true\n")
    outcome, sent = run(f"exec -u +0 {web.name} id -u", **OPERATOR)
    assert outcome.ok and "0" in sent.text().split()


# -- exec into containers that reach the host -------------------------------------------------------

@pytest.mark.parametrize("kind", ["privileged", "host pid", "docker socket"])
def test_exec_into_a_host_reaching_container_is_admin_only(
        run_command: Run, make_container: Make, docker_client: docker.DockerClient,
        kind: str) -> None:
    options: dict[str, object] = {
        "privileged": {"privileged": True},
        "host pid": {"pid_mode": "host"},
        "docker socket": {"volumes": {"/var/run/docker.sock": {"bind": "/sock", "mode": "ro"}}},
    }[kind]
    try:
        box = make_container("sleep 300", **options)
    except docker.errors.APIError as exc:  # some sandboxes cannot run privileged containers
        pytest.skip(f"this engine cannot start a {kind} container: {exc.explanation}")
    before = _processes(docker_client, box.name)
    outcome, _ = run_command(f"exec -d {box.name} sh -c 'touch /pwned; sleep 60'",
                             **OPERATOR)
    assert outcome.result == "refused"
    assert _processes(docker_client, box.name) == before
    assert not _exists_in(docker_client, box.name, "/pwned")
    # An admin may: the same exec runs.
    outcome, _ = run_command(f"exec {box.name} touch /admin")
    assert outcome.ok and _exists_in(docker_client, box.name, "/admin")


def test_exec_into_a_container_binding_outside_the_roots_is_admin_only(
        run_command: Run, make_container: Make, docker_client: docker.DockerClient,
        tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    box = make_container("sleep 300", volumes={str(outside): {"bind": "/o", "mode": "rw"}})
    outcome, _ = run_command(f"exec {box.name} touch /o/pwned", **OPERATOR)
    assert outcome.result == "refused"
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("facts", [
    {"privileged": True}, {"host_namespaces": ("pid",)}, {"host_namespaces": ("network",)},
    {"mounts_docker_socket": True}, {"is_self": True}, {"devices": ("/dev/sda",)},
    {"cap_add": ("SYS_ADMIN",)}, {"bind_sources": ("/etc",)},
])
def test_exec_policy_on_facts(facts: dict[str, object]) -> None:
    target = ContainerPrivileges(id="x" * 64, name="box", **facts)  # type: ignore[arg-type]
    run = RunPolicyConfig()
    with pytest.raises(RefusedError) as refused:
        check_exec(target, Role.OPERATOR, run)
    assert "[access.roles] admin" in refused.value.detail
    check_exec(target, Role.ADMIN, run)
    check_exec(ContainerPrivileges(id="x" * 64, name="plain"), Role.OPERATOR, run)


def test_an_operator_still_execs_into_an_ordinary_container(run_command: Run,
                                                            make_container: Make) -> None:
    web = make_container("sleep 300")
    outcome, sent = run_command(f"exec {web.name} echo fine", **OPERATOR)
    assert outcome.ok and "fine" in sent.text()


# -- bind mounts: symlinks now and later ------------------------------------------------------------

@pytest.fixture
def roots(tmp_path: Path) -> tuple[Path, Path]:
    """(allowed root, a directory outside it)."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    return root, outside


@pytest.mark.parametrize("spec", ["-v {root}/link:/x", "-v {root}/link/:/x:rw",
                                  "-v {root}/link/../link:/x", "-v {root}/sub/../link:/x",
                                  "--mount type=bind,src={root}/link,dst=/x",
                                  "-v {root}/missing:/x", "-v {root}/dirlink/inner:/x"])
def test_a_bind_through_a_symlink_or_to_nothing_is_refused_and_nothing_escapes(
        make_pipeline: Callable[[str], Run], docker_client: docker.DockerClient,
        roots: tuple[Path, Path], spec: str) -> None:
    root, outside = roots
    (root / "sub").mkdir()
    (outside / "inner").mkdir()
    os.symlink(outside, root / "link")
    os.symlink(outside, root / "dirlink")
    run = make_pipeline(f'[run]\nbind_mounts = ["{root}"]\n')
    check = unchanged(docker_client)
    outcome, sent = run(f"run --rm -l {LABEL} {spec.format(root=root)} {BUSYBOX} "
                        "touch /x/pwned", **OPERATOR)
    assert outcome.result == "refused", sent.text()
    assert "bind_mounts" in sent.text()
    check()
    assert not (outside / "pwned").exists() and not (outside / "inner" / "pwned").exists()
    assert not (root / "missing").exists()  # the engine was not asked to create it


def test_bind_problem_rule_table(roots: tuple[Path, Path]) -> None:
    root, outside = roots
    (root / "sub").mkdir()
    (root / "file").write_text("x")
    os.symlink(outside, root / "link")
    allowed = [str(root)]
    assert bind_problem(str(root), allowed) is None
    assert bind_problem(f"{root}/sub", allowed) is None
    assert bind_problem(f"{root}/file", allowed) is None
    assert bind_problem(f"{root}//sub/./", allowed) is None
    for bad in (f"{root}/link", f"{root}/link/x", f"{root}/nope", str(outside), "relative",
                f"{root}/../outside", f"{root}-x", "/", f"//{str(root).lstrip('/')}"):
        assert bind_problem(bad, allowed), bad
    # A root configured through a symlink is refused too: the walk starts at /.
    os.symlink(root, root.parent / "rootlink")
    assert bind_problem(f"{root.parent}/rootlink/sub", [f"{root.parent}/rootlink"])


def _run_with_bind(run: Run, name: str, source: Path) -> None:
    outcome, sent = run(f"run -d --name {name} -l {LABEL} -v {source}:/x {BUSYBOX} "
                        "sh -c 'touch /x/started; sleep 300'", **OPERATOR)
    assert outcome.ok, sent.text()


def _stopped(client: docker.DockerClient, name: str) -> None:
    client.api.kill(name)
    wait_for(lambda: state(client, name) == "exited", what=f"{name} to exit")


@pytest.mark.parametrize("verb", ["start", "start -a", "restart"])
def test_start_rechecks_binds_whose_source_became_a_symlink(
        make_pipeline: Callable[[str], Run], docker_client: docker.DockerClient,
        names: Callable[[str], str], roots: tuple[Path, Path], verb: str) -> None:
    root, outside = roots
    sub = root / "sub"
    sub.mkdir()
    run = make_pipeline(f'[run]\nbind_mounts = ["{root}"]\n')
    name = names("bound")
    _run_with_bind(run, name, sub)
    wait_for(lambda: any(sub.iterdir()), what="the container to write into its bind")
    _stopped(docker_client, name)
    # What a second container binding `root` could do from inside: swap sub for a symlink.
    shutil.rmtree(sub)
    os.symlink(outside, sub)
    outcome, sent = run(f"{verb} {name}", **OPERATOR)
    assert outcome.result == "refused", sent.text()
    assert state(docker_client, name) == "exited"
    assert list(outside.iterdir()) == []


def test_start_of_a_container_binding_outside_the_roots_needs_an_admin(
        make_pipeline: Callable[[str], Run], make_container: Make,
        docker_client: docker.DockerClient, roots: tuple[Path, Path]) -> None:
    root, outside = roots
    box = make_container("sh -c 'touch /o/started; sleep 300'", start=False,
                         volumes={str(outside): {"bind": "/o", "mode": "rw"}})
    ordinary = make_container("sleep 300", start=False)
    run = make_pipeline(f'[run]\nbind_mounts = ["{root}"]\n')
    outcome, _ = run(f"start {ordinary.name} {box.name}", **OPERATOR)
    assert outcome.result == "refused"
    # Nothing started, not even the ordinary container named first.
    assert state(docker_client, box.name) == "created"
    assert state(docker_client, ordinary.name) == "created"
    assert list(outside.iterdir()) == []
    outcome, _ = run(f"start {box.name}")  # the console admin may
    assert outcome.ok
    wait_for(lambda: (outside / "started").exists(), what="the admin's start to run")


def test_an_operator_restarts_a_container_whose_binds_still_pass(
        make_pipeline: Callable[[str], Run], docker_client: docker.DockerClient,
        names: Callable[[str], str], roots: tuple[Path, Path]) -> None:
    root, _ = roots
    (root / "sub").mkdir()
    run = make_pipeline(f'[run]\nbind_mounts = ["{root}"]\n')
    name = names("fine")
    _run_with_bind(run, name, root / "sub")
    _stopped(docker_client, name)
    outcome, sent = run(f"start {name}", **OPERATOR)
    assert outcome.ok, sent.text()
    wait_for(lambda: state(docker_client, name) == "running", what=f"{name} to run")


def test_an_operator_cannot_give_a_bound_container_a_restart_policy(
        make_pipeline: Callable[[str], Run], docker_client: docker.DockerClient,
        roots: tuple[Path, Path]) -> None:
    root, _ = roots
    (root / "sub").mkdir()
    run = make_pipeline(f'[run]\nbind_mounts = ["{root}"]\nallow_join_containers = true\n')
    check = unchanged(docker_client)
    outcome, _ = run(f"run -d -l {LABEL} --restart always --volumes-from x {BUSYBOX} sleep 30",
                     **OPERATOR)
    assert outcome.result == "refused"
    for policy in ("always", "unless-stopped", "on-failure:3"):
        outcome, _ = run(f"run -d -l {LABEL} --restart {policy} -v {root}/sub:/x {BUSYBOX} "
                         "sleep 30", **OPERATOR)
        assert outcome.result == "refused"
    check()


def test_start_policy_passes_admins_and_checks_operators(roots: tuple[Path, Path]) -> None:
    root, outside = roots
    target = ContainerPrivileges(id="x" * 64, name="box", bind_sources=(str(outside),))
    run = RunPolicyConfig(bind_mounts=[str(root)])
    check_start(target, Role.ADMIN, run)
    with pytest.raises(RefusedError, match="bind_mounts") as refused:
        check_start(target, Role.OPERATOR, run)
    assert "bind_mounts" in refused.value.detail
