"""The run policy: risky `run` options refused unless `[run]` allows them; a refusal touches nothing."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from bot.commands import TABLE, parse
from bot.config import RunPolicyConfig
from bot.errors import RefusedError
from bot.policy import check_run
from tests.lifecycle_rig import LABEL, Run, unchanged
from tests.support import BUSYBOX


@pytest.mark.parametrize("flags, rule, setting", [
    ("--privileged", "--privileged", "allow_privileged = true"),
    ("--cap-add SYS_ADMIN", "--cap-add SYS_ADMIN", 'allow_cap_add = ["SYS_ADMIN"]'),
    ("--cap-add cap_net_admin", "--cap-add cap_net_admin", 'allow_cap_add = ["NET_ADMIN"]'),
    ("--device /dev/null", "--device /dev/null", "allow_devices = true"),
    ("--pid host", "--pid host", "allow_host_namespaces = true"),
    ("--ipc host", "--ipc host", "allow_host_namespaces = true"),
    ("--network host", "--network host", "allow_host_namespaces = true"),
    ("--security-opt seccomp=unconfined", "--security-opt", "allow_security_opt = true"),
    ("-v /etc:/host-etc", "-v /etc:/host-etc", 'bind_mounts = ["/etc"]'),
    ("-v ./here:/x", "-v ./here:/x", "bind_mounts"),
    ("--mount type=bind,source=/etc,target=/x", "--mount type=bind", "bind_mounts"),
    ("--user root", "--user root", "allow_root_user = true"),
    ("-u 0", "--user 0", "allow_root_user = true"),
    ("-u 0:0", "--user 0:0", "allow_root_user = true"),
    ("-u +0", "--user +0", "allow_root_user = true"),
    ("--user=1000:0", "--user 1000:0", "allow_root_user = true"),
    ("-u nobody:root", "--user nobody:root", "allow_root_user = true"),
    ("--uts host", "--uts host", "allow_host_namespaces = true"),
    ("--uts=host", "--uts host", "allow_host_namespaces = true"),
    ("--pid container:web", "--pid container:web", "allow_join_containers = true"),
    ("--ipc=container:web", "--ipc container:web", "allow_join_containers = true"),
    ("--network container:web", "--network container:web", "allow_join_containers = true"),
    ("--uts container:web", "--uts container:web", "allow_join_containers = true"),
    ("--volumes-from web", "--volumes-from web", "allow_join_containers = true"),
    ("--volumes-from=web:ro", "--volumes-from web:ro", "allow_join_containers = true"),
    ("--pid host --pid container:web", "--pid container:web", "allow_join_containers = true"),
])
def test_each_risky_option_is_refused_naming_the_rule_and_the_key_and_nothing_is_created(
        run_command: Run, docker_client: docker.DockerClient, flags: str, rule: str,
        setting: str) -> None:
    check = unchanged(docker_client)
    outcome, sent = run_command(f"run -d {flags} -l {LABEL} {BUSYBOX} sleep 30",
                                user="U0OPER", source="slack")
    text = sent.text()
    assert outcome.result == "refused", text
    assert rule in text and "run policy" in text
    assert setting in text and "[run]" in text
    check()


def test_volume_options_that_could_bind_host_paths_are_refused(run_command: Run,
                                                               docker_client: docker.DockerClient
                                                               ) -> None:
    check = unchanged(docker_client)
    outcome, sent = run_command("run --mount type=volume,source=v,target=/x,volume-opt=device=/etc,"
                                f"volume-opt=o=bind -l {LABEL} {BUSYBOX} true")
    assert outcome.result == "refused" and "volume drivers and options" in sent.text()
    check()


def test_the_console_admin_is_held_to_the_same_policy(run_command: Run,
                                                      docker_client: docker.DockerClient) -> None:
    check = unchanged(docker_client)
    outcome, _ = run_command(f"run --privileged -l {LABEL} {BUSYBOX} true")
    assert outcome.result == "refused"
    check()


def _policy(text: str, **config: object) -> None:
    check_run(parse(text, TABLE), RunPolicyConfig(**config))  # type: ignore[arg-type]


def test_allowed_options_pass(tmp_path: Path) -> None:
    root = str(tmp_path)
    _policy("run --privileged x", allow_privileged=True)
    _policy("run --cap-add NET_ADMIN --cap-add CAP_SYS_TIME x",
            allow_cap_add=["CAP_NET_ADMIN", "sys_time"])
    _policy("run --cap-add SYS_ADMIN x", allow_cap_add=["ALL"])
    _policy("run --device /dev/fuse x", allow_devices=True)
    _policy("run --pid host --ipc host --network host x", allow_host_namespaces=True)
    _policy("run --security-opt no-new-privileges x", allow_security_opt=True)
    _policy("run -u root x", allow_root_user=True)
    (tmp_path / "data").mkdir()
    _policy(f"run -v {root}/data:/data:ro --mount type=bind,src={root},dst=/y x",
            bind_mounts=[root])
    # Joins pass check_run once allowed; the target itself is checked in the handler.
    _policy("run --pid container:web --uts container:web --volumes-from web:ro x",
            allow_join_containers=True)
    # Not risky at all: named volumes, other users, plain networks.
    _policy("run -v data:/data -v /anon -u 1000 -u 1000:1000 --network backend x")


def test_bind_mount_paths_are_normalised_before_they_are_checked(tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, allowed / "escape")
    for source in (f"{allowed}/../outside", f"{allowed}/escape", f"{allowed}-sibling", "/"):
        with pytest.raises(RefusedError, match="bind_mounts"):
            _policy(f"run -v {source}:/x x", bind_mounts=[str(allowed)])
    (allowed / "sub").mkdir()
    _policy(f"run -v {allowed}/sub/../sub:/x x", bind_mounts=[str(allowed)])


def test_an_allowed_bind_mount_really_mounts_the_host_directory(
        make_pipeline: Callable[[str], Run], tmp_path: Path, names: Callable[[str], str]) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "note.txt").write_text("from the host\n")
    run = make_pipeline(f'[run]\nbind_mounts = ["{shared}"]\nallow_cap_add = ["NET_ADMIN"]\n')
    outcome, sent = run(f"run --rm --name {names('bind')} -l {LABEL} -v {shared}:/shared:ro "
                        f"--cap-add NET_ADMIN {BUSYBOX} cat /shared/note.txt")
    assert outcome.ok, sent.text()
    assert "from the host" in sent.text()
