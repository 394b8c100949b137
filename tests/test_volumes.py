"""volume ls/inspect/create/rm/prune against the real engine.

Every volume here has a unique name and this run's label; prunes filter on a label only this
test's volumes carry, so other engineers' volumes are never candidates.
"""

from __future__ import annotations

from collections.abc import Callable

import docker

from bot.views.terminal import render
from tests.lifecycle_rig import LABEL, Confirmed
from tests.support import RUN_ID, TEST_LABEL, Runner, unique, volume_exists

OPERATOR = {"user": "U0OPER", "source": "slack"}


def test_create_ls_inspect_rm(run_command: Runner, confirmed: Confirmed,
                              docker_client: docker.DockerClient,
                              vol_name: Callable[[], str]) -> None:
    name = vol_name()
    outcome, sent = run_command(f"volume create --label {LABEL} --label team=api {name}",
                                **OPERATOR)
    assert outcome.ok, sent.text()
    assert docker_client.api.inspect_volume(name)["Labels"]["team"] == "api"

    _, listed = run_command(f"volume ls --filter label={LABEL} --filter name={name}")
    assert "VOLUME NAME" in listed.text() and f"local     {name}" in listed.text()
    _, quiet = run_command(f"volume ls -q --filter name={name}")
    assert name in quiet.text()
    _, formatted = run_command(f"volume ls --filter name={name} --format '{{{{.Name}}}} {{{{.Labels}}}}'")
    assert f"{name} {LABEL},team=api" in formatted.text()
    _, shown = run_command(f"volume inspect -f '{{{{.Mountpoint}}}}' {name}")
    assert f"/volumes/{name}/_data" in shown.text()

    preview, done, sent = confirmed(f"volume rm {name}")
    assert preview.awaiting_confirmation and done is not None and done.ok, sent.text()
    assert not volume_exists(docker_client, name)


def test_rm_of_a_volume_in_use_keeps_it(vol_name: Callable[[], str], confirmed: Confirmed,
                                        docker_client: docker.DockerClient,
                                        make_container) -> None:
    name = vol_name()
    docker_client.api.create_volume(name, labels={TEST_LABEL: RUN_ID})
    user = make_container(volumes=[f"{name}:/data"])
    preview, done, sent = confirmed(f"volume rm -f {name}")
    assert done is None and not preview.ok  # the engine's refusal, not a question
    assert user.name in sent.text() and "remove that container first" in sent.text()
    assert volume_exists(docker_client, name)


def test_volume_prune_takes_only_what_the_filter_names(vol_name: Callable[[], str],
                                                       confirmed: Confirmed,
                                                       docker_client: docker.DockerClient,
                                                       make_container) -> None:
    """Unused volumes with the test's group label go; a used one and an unlabelled one stay."""
    group = unique("grp")
    labels = {TEST_LABEL: RUN_ID, "dockops.test.group": group}
    unused, used, other = vol_name(), vol_name(), vol_name()
    docker_client.api.create_volume(unused, labels=labels)
    docker_client.api.create_volume(used, labels=labels)
    docker_client.api.create_volume(other, labels={TEST_LABEL: RUN_ID})
    make_container(volumes=[f"{used}:/data"])
    preview, done, sent = confirmed(f"volume prune -a --filter label={TEST_LABEL}={RUN_ID} "
                                    f"--filter label=dockops.test.group={group}")
    assert preview.awaiting_confirmation, sent.text()
    shown = render(sent.sent[0])
    assert unused in shown and used not in shown and other not in shown
    assert done is not None and done.ok, sent.text()
    assert "Deleted Volumes:" in sent.text() and "Total reclaimed space: " in sent.text()
    assert not volume_exists(docker_client, unused)
    assert volume_exists(docker_client, used) and volume_exists(docker_client, other)


def test_volume_create_without_a_name_and_missing_rm(run_command: Runner,
                                                     docker_client: docker.DockerClient) -> None:
    outcome, sent = run_command(f"volume create --label {LABEL}", **OPERATOR)
    assert outcome.ok, sent.text()
    created = [v["Name"] for v in docker_client.api.volumes(filters={"label": LABEL})["Volumes"]
               if v["Name"] in sent.text()]
    assert created
    for name in created:
        docker_client.api.remove_volume(name)
    missing = unique("novol")
    outcome, sent = run_command(f"volume rm {missing}")
    assert f"No such volume: {missing}" in sent.text()

