"""`inspect` and `image inspect` against the docker CLI on the same objects (issue 13).

`--format` output must equal `docker inspect --format` byte for byte for the same template
(`{{json .X}}` spacing included); the summary's Command, Created, Ports and Image must read as
the CLI shows them (`ps --no-trunc`). Secrets stay masked: the one allowed difference.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import docker
import pytest

from bot.engine import containers as engine_containers
from bot.engine.client import Engine
from bot.engine.results import ContainerDetails
from bot.views import containers as container_views
from tests.fidelity import answer, cli, code_text, compare, shown
from tests.support import BUSYBOX, RUN_ID, TEST_LABEL, Runner, unique, wait_for


@dataclass(frozen=True)
class Objects:
    running: str
    exited: str
    image: str


@pytest.fixture(scope="module")
def objects(docker_client: docker.DockerClient) -> Iterator[Objects]:
    api = docker_client.api
    labels = {TEST_LABEL: RUN_ID, "team": "api", "tier": "web & <edge>"}
    running = api.create_container(
        BUSYBOX, ["sh", "-c", "echo \"hello 'world'\"; sleep 600"], name=unique("insp"),
        labels=labels, environment={"MODE": "prod", "DB_PASSWORD": "hunter2"},
        ports=[80, (53, "udp")],
        host_config=api.create_host_config(port_bindings={80: None, "53/udp": None},
                                           restart_policy={"Name": "on-failure",
                                                           "MaximumRetryCount": 2}))
    exited = api.create_container(BUSYBOX, ["sh", "-c", "exit 3"], name=unique("insp"),
                                  labels={TEST_LABEL: RUN_ID})
    api.start(running["Id"])
    api.start(exited["Id"])
    wait_for(lambda: api.inspect_container(exited["Id"])["State"]["Status"] == "exited",
             what="the second container to exit")
    yield Objects(running["Id"], exited["Id"], BUSYBOX)
    for made in (running, exited):
        api.remove_container(made["Id"], force=True)


def ours(run: Runner, command: str) -> str:
    return code_text(answer(run, command))


def same(command: str, field: str, mine: str, theirs: str) -> None:
    mismatches = compare(command, {field: mine}, {field: theirs})
    assert not mismatches, f"{command}: " + "; ".join(mismatches)


CONTAINER_TEMPLATES = [
    "{{json .State}}", "{{.State.Status}}", "{{.State.ExitCode}}", "{{json .Config.Labels}}",
    "{{.Config.Cmd}}", "{{json .Config.Cmd}}", "{{.Name}}", "{{.Id}}", "{{.Path}}",
    "{{json .Args}}", "{{.HostConfig.RestartPolicy.Name}}", "{{json .HostConfig.RestartPolicy}}",
    "{{json .NetworkSettings.Ports}}", "{{json .Mounts}}", "{{.Config.Image}}",
    "{{.State.Running}}", "{{.RestartCount}}", "{{.Config.Labels.team}}",
    "{{json .Config.Labels.tier}}", "{{.Image}}", "{{json .HostConfig}}",
    "{{json .NetworkSettings}}", "{{json .Config}}", "{{json .NetworkSettings.Networks}}",
]


@pytest.mark.parametrize("template", CONTAINER_TEMPLATES)
@pytest.mark.parametrize("which", ["running", "exited"])
def test_inspect_format_equals_docker_inspect(run_command: Runner, objects: Objects,
                                              template: str, which: str) -> None:
    if which == "running" and template == "{{json .Config}}":
        pytest.skip("its Env holds a secret: masked by dockops, by design")
    name = getattr(objects, which)
    mine = ours(run_command, f"inspect --format '{template}' {name}")
    same("inspect --format", template, mine, cli("inspect", "--format", template, name).rstrip("\n"))


def test_the_whole_document_equals_docker_inspect(run_command: Runner, objects: Objects) -> None:
    mine = ours(run_command, f"inspect --raw {objects.exited}")
    del mine  # --raw attaches the engine's JSON (pretty); `{{json .}}` is the CLI's encoding
    template = "{{json .}}"
    outcome, sent = run_command(f"inspect --format '{template}' {objects.exited}")
    assert outcome.ok
    text = shown(sent.last)
    same("inspect --format", template, text.rstrip("\n"),
         cli("inspect", "--format", template, objects.exited).rstrip("\n"))


IMAGE_TEMPLATES = [
    "{{json .Config}}", "{{.Os}}", "{{.Architecture}}", "{{json .RepoTags}}", "{{.Size}}",
    "{{json .RootFS}}", "{{.Id}}", "{{.Config.Cmd}}", "{{json .Config.Entrypoint}}",
    "{{.Created}}", "{{json .GraphDriver.Name}}", "{{json .}}", "{{json .ContainerConfig}}",
]


@pytest.mark.parametrize("template", IMAGE_TEMPLATES)
def test_image_inspect_format_equals_docker_image_inspect(run_command: Runner, objects: Objects,
                                                         template: str) -> None:
    mine = ours(run_command, f"image inspect --format '{template}' {objects.image}")
    theirs = cli("image", "inspect", "--format", template, objects.image).rstrip("\n")
    same("image inspect --format", template, mine, theirs)


@pytest.mark.parametrize("which", ["running", "exited"])
def test_summary_fields_read_as_the_cli_shows_them(objects: Objects, which: str) -> None:
    container = getattr(objects, which)

    def ask() -> list[str]:
        return cli("ps", "-a", "--no-trunc", "--filter", f"id={container}", "--format",
                   "{{.Command}}\t{{.Ports}}\t{{.RunningFor}}\t{{.Image}}").rstrip("\n").split("\t")

    before = ask()
    details = _details(container)
    mine = container_views.inspect_fields(details)
    after = ask()
    for index, field in enumerate(("Command", "Ports", "Created", "Image")):
        # An age read a moment apart may turn over: equal to either CLI answer counts.
        theirs = before[index] if mine[field] == before[index] else after[index]
        same("inspect (summary)", field, mine[field], theirs)
    assert details.raw["Config"]["Image"] == mine["Image"]


def _details(container: str) -> ContainerDetails:
    return engine_containers.inspect(Engine(), container)


def test_secrets_stay_masked_in_every_form(run_command: Runner, objects: Objects) -> None:
    for command in (f"inspect {objects.running}", f"inspect --format '{{{{json .Config.Env}}}}' "
                    f"{objects.running}", f"inspect --format '{{{{.Config.Env}}}}' "
                    f"{objects.running}"):
        outcome, sent = run_command(command)
        assert outcome.ok and "hunter2" not in str(sent.last.blocks), command
        assert "DB_PASSWORD=********" in str(sent.last.blocks) or "DB_PASSWORD" in sent.text()


def _cli_both(*args: str) -> tuple[str, str]:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=60,
                          check=False)
    return done.stdout, done.stderr


def test_inspect_of_several_names_prints_one_array_as_the_cli(run_command: Runner,
                                                              objects: Objects) -> None:
    names = (objects.exited, objects.image)
    mine = shown(answer(run_command, "inspect " + " ".join(names)))
    theirs, _ = _cli_both("inspect", *names)
    assert json.loads(mine) == json.loads(theirs)
    same("inspect A B", "array", mine, theirs)


def test_inspect_format_of_several_names_prints_a_line_each(run_command: Runner,
                                                           objects: Objects) -> None:
    template = "{{.Id}} {{json .Config.Cmd}}"
    names = (objects.running, objects.exited, objects.image)
    mine = ours(run_command, f"inspect --format '{template}' " + " ".join(names))
    same("inspect A B --format", "lines", mine,
         cli("inspect", "--format", template, *names).rstrip("\n"))


def test_a_missing_name_among_several_prints_the_others_and_the_cli_error(
        run_command: Runner, objects: Objects) -> None:
    missing = unique("nothing-here")
    template = "{{.Id}}"
    outcome, sent = run_command(f"inspect --format '{template}' {objects.exited} {missing}")
    assert not outcome.ok
    theirs, error = _cli_both("inspect", "--format", template, objects.exited, missing)
    same("inspect A MISSING", "stdout", code_text(sent.last), theirs.rstrip("\n"))
    assert error.strip() in sent.text(), (error, sent.text())


def test_image_inspect_of_several_names_prints_one_array_then_a_line_each(
        run_command: Runner, objects: Objects) -> None:
    names = (objects.image, objects.image)  # the CLI prints one element per name, repeats too
    mine = shown(answer(run_command, "image inspect " + " ".join(names)))
    theirs, _ = _cli_both("image", "inspect", *names)
    assert json.loads(mine) == json.loads(theirs)
    same("image inspect A B", "array", mine, theirs)
    template = "{{.Id}} {{.Os}}"
    mine = ours(run_command, f"image inspect --format '{template}' " + " ".join(names))
    same("image inspect A B --format", "lines", mine,
         cli("image", "inspect", "--format", template, *names).rstrip("\n"))


def test_image_inspect_of_a_missing_name_among_several_prints_the_found_and_fails(
        run_command: Runner, objects: Objects) -> None:
    missing = unique("no-image")
    outcome, sent = run_command(f"image inspect --format '{{{{.Id}}}}' {objects.image} {missing}")
    assert not outcome.ok
    theirs, _ = _cli_both("image", "inspect", "--format", "{{.Id}}", objects.image, missing)
    same("image inspect A MISSING", "stdout", code_text(sent.last), theirs.rstrip("\n"))
    assert f"No such image: {missing}" in sent.text()
