"""`run` against the real engine: attached and detached, every flag, and no leftovers on failure."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import docker
import pytest

from tests.lifecycle_rig import LABEL, Run, unchanged
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, container_exists, unique, wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_attached_run_answers_exit_code_and_both_streams_and_rm_removes_it(
        run_command: Run, docker_client: docker.DockerClient, names: Callable[[str], str]) -> None:
    name = names("att")
    outcome, sent = run_command(f"run --rm --name {name} -l {LABEL} {BUSYBOX} "
                                "sh -c 'echo to-stdout; echo to-stderr >&2; exit 3'")
    text = sent.text()
    assert "exited with code 3" in text
    assert "to-stdout" in text and "to-stderr" in text
    assert not outcome.ok  # like the CLI: a failing container fails the command
    assert not container_exists(docker_client, name)


def test_attached_run_without_rm_leaves_the_exited_container(
        run_command: Run, docker_client: docker.DockerClient, names: Callable[[str], str]) -> None:
    name = names("keep")
    outcome, sent = run_command(f"run --name {name} -l {LABEL} {BUSYBOX} echo hello")
    assert outcome.ok and "exited with code 0" in sent.text() and "hello" in sent.text()
    assert docker_client.api.inspect_container(name)["State"]["Status"] == "exited"


def test_attached_run_past_the_deadline_is_left_running_with_how_to_follow(
        make_pipeline: Callable[[str], Run], docker_client: docker.DockerClient,
        names: Callable[[str], str]) -> None:
    run = make_pipeline("[limits]\nattached_run_seconds = 1.5\n")
    name = names("slow")
    started = time.monotonic()
    outcome, sent = run(f"run --rm --name {name} -l {LABEL} {BUSYBOX} "
                        "sh -c 'echo begun; sleep 30'")
    assert time.monotonic() - started < 10
    text = sent.text()
    assert outcome.ok
    assert "still running after 1.5 s" in text and "left it running" in text
    assert f"/docker logs -f {name}" in text and "begun" in text
    assert docker_client.api.inspect_container(name)["State"]["Running"]


def test_long_output_is_tailed_inline_and_attached_whole(run_command: Run,
                                                         names: Callable[[str], str]) -> None:
    _, sent = run_command(f"run --rm --name {names('long')} -l {LABEL} {BUSYBOX} "
                          "sh -c 'i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done'")
    message = sent.last
    assert message.attachment is not None
    assert message.attachment.content.decode().splitlines()[0] == "line-0"
    assert "line-1999" in str(message.blocks) and "line-0\\n" not in str(message.blocks)


def test_detached_run_answers_name_short_id_and_published_ports_from_the_engine(
        run_command: Run, docker_client: docker.DockerClient, names: Callable[[str], str]) -> None:
    name = names("web")
    port = free_port()
    outcome, sent = run_command(f"run -d --name {name} -l {LABEL} -p 127.0.0.1:{port}:80 "
                                f"-p 127.0.0.1::53/udp {BUSYBOX} httpd -f -p 80")
    assert outcome.ok, sent.text()
    details = docker_client.api.inspect_container(name)
    text = sent.text()
    assert name in text and details["Id"][:12] in text
    assert f"127.0.0.1:{port}->80/tcp" in text
    udp = details["NetworkSettings"]["Ports"]["53/udp"][0]
    assert f"127.0.0.1:{udp['HostPort']}->53/udp" in text
    # The published port really answers.
    wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True,
             timeout=5, what="httpd on the published port")


def test_publish_without_host_port_and_without_ip(run_command: Run,
                                                  docker_client: docker.DockerClient,
                                                  names: Callable[[str], str]) -> None:
    name = names("anyport")
    outcome, _ = run_command(f"run -d --name {name} -l {LABEL} -p 80 {BUSYBOX} sleep 30")
    assert outcome.ok
    binding = docker_client.api.inspect_container(name)["NetworkSettings"]["Ports"]["80/tcp"]
    assert binding and int(binding[0]["HostPort"]) > 0


def test_detached_rm_removes_it_when_it_exits(run_command: Run,
                                              docker_client: docker.DockerClient,
                                              names: Callable[[str], str]) -> None:
    name = names("gone")
    outcome, sent = run_command(f"run -d --rm --name {name} -l {LABEL} {BUSYBOX} sleep 0.3")
    assert outcome.ok and "--rm" in sent.text()
    wait_for(lambda: not container_exists(docker_client, name), timeout=10, what="auto-removal")


def test_every_run_flag_reaches_the_engine(run_command: Run, docker_client: docker.DockerClient,
                                           names: Callable[[str], str]) -> None:
    name, volume, network = names("flags"), unique("vol"), unique("net")
    docker_client.networks.create(network, labels={TEST_LABEL: RUN_ID})
    try:
        outcome, sent = run_command(
            f"run -d --name {name} -l {LABEL} --label team=api -e MODE=once -e EMPTY= "
            f"--restart on-failure:2 -w /tmp --entrypoint /bin/sh -v {volume}:/data:ro "
            f"--network {network} -u 1000:1000 --hostname box -m 64m --cpus 0.5 "
            f"{BUSYBOX} -c 'sleep 30'")
        assert outcome.ok, sent.text()
        details = docker_client.api.inspect_container(name)
        config, host = details["Config"], details["HostConfig"]
        assert config["Labels"]["team"] == "api" and config["Labels"][TEST_LABEL] == RUN_ID
        assert {"MODE=once", "EMPTY="} <= set(config["Env"])
        assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
        assert config["WorkingDir"] == "/tmp"
        assert config["Entrypoint"] == ["/bin/sh"] and config["Cmd"] == ["-c", "sleep 30"]
        mount = next(m for m in details["Mounts"] if m["Destination"] == "/data")
        assert mount["Type"] == "volume" and mount["Name"] == volume and mount["RW"] is False
        assert network in details["NetworkSettings"]["Networks"]
        assert config["User"] == "1000:1000" and config["Hostname"] == "box"
        assert host["Memory"] == 64 * 1024 * 1024 and host["NanoCpus"] == 500_000_000
    finally:
        docker_client.api.remove_container(name, force=True)
        docker_client.networks.get(network).remove()
        docker_client.volumes.get(volume).remove(force=True)


def test_mount_of_a_tmpfs_and_an_anonymous_volume(run_command: Run,
                                                  docker_client: docker.DockerClient,
                                                  names: Callable[[str], str]) -> None:
    name = names("mnt")
    outcome, sent = run_command(f"run --name {name} -l {LABEL} -v /anon "
                                "--mount type=tmpfs,target=/scratch,tmpfs-size=1m "
                                f"{BUSYBOX} sh -c 'grep -c /scratch /proc/mounts'")
    assert outcome.ok, sent.text()
    details = docker_client.api.inspect_container(name)
    assert {m["Destination"] for m in details["Mounts"]} >= {"/anon"}
    assert details["HostConfig"]["Mounts"][0]["Type"] == "tmpfs"
    docker_client.api.remove_container(name, v=True)


@pytest.mark.parametrize("flags", ["-it", "-i", "-t", "--interactive --tty"])
def test_a_terminal_is_refused_with_what_to_do_instead_and_nothing_is_created(
        run_command: Run, docker_client: docker.DockerClient, flags: str) -> None:
    check = unchanged(docker_client)
    started = time.monotonic()
    outcome, sent = run_command(f"run {flags} -l {LABEL} {BUSYBOX} sh")
    assert time.monotonic() - started < 2
    assert not outcome.ok and "Slack has no terminal" in sent.text()
    assert f"/docker run -d -l {LABEL} {BUSYBOX} sh" in sent.text() and "logs -f" in sent.text()
    check()


def test_env_file_is_refused_clearly(run_command: Run, docker_client: docker.DockerClient) -> None:
    check = unchanged(docker_client)
    outcome, sent = run_command(f"run --env-file ./prod.env -l {LABEL} {BUSYBOX} true")
    assert outcome.result == "refused"
    assert "--env-file" in sent.text() and "-e KEY=VALUE" in sent.text()
    check()


@pytest.mark.parametrize("flags, problem", [
    ("-p 99999:80", "Invalid port"),
    ("-p 1000-1002:80", "ranges"),
    ("-p 80/icmp", "protocol"),
    ("-v data:relative", "absolute"),
    ("--restart sometimes", "restart policy"),
    ("--rm --restart always", "Conflicting options"),
    ("-e JUST_A_NAME", "-e JUST_A_NAME=VALUE"),
    ("-m lots", "memory size"),
    ("--cpus 0", "--cpus"),
    ("--mount type=nfs,target=/x", "not supported"),
])
def test_bad_options_are_one_clear_message_and_create_nothing(
        run_command: Run, docker_client: docker.DockerClient, flags: str, problem: str) -> None:
    check = unchanged(docker_client)
    outcome, sent = run_command(f"run {flags} -l {LABEL} {BUSYBOX} true")
    assert outcome.result == "invalid" or outcome.decision == "allowed"
    assert not outcome.ok and problem in sent.text(), sent.text()
    assert "Traceback" not in sent.text()
    check()


@pytest.mark.parametrize("detach", ["", "-d"])
def test_a_failed_start_leaves_no_container(run_command: Run, docker_client: docker.DockerClient,
                                            names: Callable[[str], str], detach: str) -> None:
    name = names("nostart")
    outcome, sent = run_command(f"run {detach} --rm --name {name} -l {LABEL} {BUSYBOX} "
                                "no-such-command")
    assert not outcome.ok
    assert "no-such-command cannot run in the container" in sent.text(), sent.text()
    assert not container_exists(docker_client, name)


def test_a_busy_host_port_is_reported_and_leaves_no_container(
        run_command: Run, docker_client: docker.DockerClient, names: Callable[[str], str]) -> None:
    name = names("busy")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        outcome, sent = run_command(f"run -d --name {name} -l {LABEL} -p 127.0.0.1:{port}:80 "
                                    f"{BUSYBOX} sleep 30")
    assert not outcome.ok and "-p OTHER:PORT" in sent.text(), sent.text()
    assert not container_exists(docker_client, name)


def test_an_unknown_image_says_so_and_creates_nothing(run_command: Run,
                                                      docker_client: docker.DockerClient) -> None:
    check = unchanged(docker_client)
    outcome, sent = run_command(f"run -l {LABEL} dockops-test/does-not-exist:{RUN_ID} true")
    assert not outcome.ok and "pull" in sent.text()
    check()


def test_an_operator_may_run_and_a_viewer_may_not(run_command: Run,
                                                  docker_client: docker.DockerClient,
                                                  names: Callable[[str], str]) -> None:
    check = unchanged(docker_client)
    refused, sent = run_command(f"run --rm -l {LABEL} {BUSYBOX} true", user="U0VIEW",
                                source="slack")
    assert refused.result == "refused" and "operator" in sent.text()
    check()
    allowed, _ = run_command(f"run --rm --name {names('op')} -l {LABEL} {BUSYBOX} true",
                             user="U0OPER", source="slack")
    assert allowed.ok
