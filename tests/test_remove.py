"""rm, rmi and image prune: previews apply the seed's rules, removals happen only once confirmed.

Every prune here filters on a label only this test's images carry: other engineers' images
on the same engine are never candidates.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator
from datetime import timedelta

import docker
import pytest

from bot.engine import prune
from bot.pipeline import Pipeline
from bot.policy import Actor
from bot.services import Services
from bot.views.confirm import CONFIRM_ACTION
from tests.bot_rig import BotProcess, answer_text
from tests.lifecycle_rig import LABEL, Confirmed, Run, preview
from tests.support import (
    BUSYBOX,
    RUN_ID,
    TEST_LABEL,
    RecordingResponder,
    container_exists,
    image_exists,
    unique,
    wait_for,
)

Container = docker.models.containers.Container
Make = Callable[..., Container]
PRUNE_KEY = "dockops.test.prune"


@pytest.fixture
def make_image(docker_client: docker.DockerClient, busybox: str) -> Iterator[Callable[..., str]]:
    """Build a tiny labelled image (unique ID); removed after the test. Returns its ID."""
    built: list[str] = []

    def make(tag: str | None = None, *, group: str, extra: str = "") -> str:
        dockerfile = (f"FROM {busybox}\nLABEL {TEST_LABEL}={RUN_ID} {PRUNE_KEY}={group} "
                      f"unique={unique('img')} {extra}\n")
        image, _ = docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag,
                                              rm=True, forcerm=True)
        built.append(image.id)
        return image.id

    yield make
    for image_id in built:
        with contextlib.suppress(docker.errors.APIError):
            docker_client.api.remove_image(image_id, force=True)


@pytest.fixture
def use_image(docker_client: docker.DockerClient) -> Iterator[Callable[[str], Container]]:
    """A created (never started) container using an image; removed after the test."""
    made: list[Container] = []

    def use(image: str) -> Container:
        made.append(docker_client.containers.create(image, "true", name=unique("user"),
                                                    labels={TEST_LABEL: RUN_ID}))
        return made[-1]

    yield use
    for container in made:
        with contextlib.suppress(docker.errors.APIError):
            container.remove(force=True)


# -- rm -------------------------------------------------------------------------------------

def test_rm_of_a_running_container_says_stop_it_or_force_and_it_stays(
        confirmed: Confirmed, make_container: Make, docker_client: docker.DockerClient) -> None:
    web = make_container()
    held, done, sent = confirmed(f"rm {web.name}")
    assert done is None and not held.awaiting_confirmation and not held.ok
    text = sent.text()
    assert f"Container {web.name} is running: stop it first (/docker stop {web.name}) " \
           "or use rm -f." in text
    assert "Confirm" not in text
    assert container_exists(docker_client, web.name)


def test_rm_f_previews_then_removes_a_running_container(confirmed: Confirmed,
                                                        make_container: Make,
                                                        docker_client: docker.DockerClient
                                                        ) -> None:
    web = make_container()
    held, done, sent = confirmed(f"rm -f {web.name}")
    assert held.awaiting_confirmation
    preview_text = "".join(sent.text())
    assert "Remove 1 container" in preview_text and web.name in preview_text
    assert "-f kills it first" in preview_text
    assert done is not None and done.ok and f"Removed {web.name}" in sent.text()
    assert not container_exists(docker_client, web.name)


def test_rm_v_removes_the_anonymous_volume_too(confirmed: Confirmed, run_command: Run,
                                               names: Callable[[str], str],
                                               docker_client: docker.DockerClient) -> None:
    name = names("vol")
    run_command(f"run --name {name} -l {LABEL} -v /anon {BUSYBOX} true")
    volume = docker_client.api.inspect_container(name)["Mounts"][0]["Name"]
    _, done, sent = confirmed(f"rm -v {name}")
    assert done is not None and done.ok, sent.text()
    assert "Anonymous volumes are removed too" in sent.text()
    assert not container_exists(docker_client, name)
    assert volume not in {v.name for v in docker_client.volumes.list()}


def test_rm_of_several_with_a_missing_one_removes_nothing(confirmed: Confirmed,
                                                          make_container: Make,
                                                          docker_client: docker.DockerClient
                                                          ) -> None:
    idle = make_container(start=False)
    held, done, sent = confirmed(f"rm {idle.name} dockops-missing-{RUN_ID}")
    assert done is None and not held.ok
    assert f"No such container: dockops-missing-{RUN_ID}" in sent.text()
    assert container_exists(docker_client, idle.name)


def test_rm_of_several_stopped_containers(confirmed: Confirmed, make_container: Make,
                                          docker_client: docker.DockerClient) -> None:
    first, second = make_container(start=False), make_container(start=False)
    _, done, sent = confirmed(f"rm {first.name} {second.name}")
    assert done is not None and done.ok
    assert "Remove 2 containers" in sent.text()
    assert not any(container_exists(docker_client, c.name) for c in (first, second))


def test_rm_rmi_and_prune_need_an_admin(run_command: Run, make_container: Make,
                                        docker_client: docker.DockerClient) -> None:
    idle = make_container(start=False)
    for text in (f"rm {idle.name}", f"rmi {BUSYBOX}", "image prune -a"):
        outcome, sent = run_command(text, user="U0OPER", source="slack")
        assert outcome.result == "refused" and "admin role" in sent.text(), text
    assert container_exists(docker_client, idle.name) and image_exists(docker_client, BUSYBOX)


# -- rmi ------------------------------------------------------------------------------------

def test_rmi_of_an_image_in_use_names_the_containers_and_removes_nothing(
        confirmed: Confirmed, make_image: Callable[..., str], use_image: Callable[[str], Container],
        docker_client: docker.DockerClient) -> None:
    tag = f"dockops-test/inuse:{RUN_ID}"
    make_image(tag, group=unique("g"))
    user = use_image(tag)
    held, done, sent = confirmed(f"rmi {tag}")
    assert done is None and not held.ok
    assert f"is in use by {user.name} (created)" in sent.text()
    assert "rmi -f" in sent.text()
    assert image_exists(docker_client, tag)


def test_rmi_previews_then_deletes_an_unused_image(confirmed: Confirmed,
                                                  make_image: Callable[..., str],
                                                  docker_client: docker.DockerClient) -> None:
    tag = f"dockops-test/unused:{RUN_ID}"
    image_id = make_image(tag, group=unique("g"))
    held, done, sent = confirmed(f"rmi {tag}")
    assert held.awaiting_confirmation and f"delete {image_id.split(':')[1][:12]}" in sent.text()
    assert done is not None and done.ok and f"untagged {tag}" in sent.text()
    assert not image_exists(docker_client, image_id)


def test_rmi_of_one_of_two_tags_only_untags(confirmed: Confirmed, make_image: Callable[..., str],
                                            docker_client: docker.DockerClient) -> None:
    tag, other = f"dockops-test/two:{RUN_ID}", f"dockops-test/two:{RUN_ID}-b"
    image_id = make_image(tag, group=unique("g"))
    docker_client.api.tag(image_id, "dockops-test/two", f"{RUN_ID}-b")
    _, done, sent = confirmed(f"rmi {tag}")
    assert f"untag  {tag} (the image stays as {other})" in sent.text()
    assert done is not None and done.ok
    assert not image_exists(docker_client, tag) and image_exists(docker_client, other)


def test_rmi_f_of_an_image_used_by_a_stopped_container(confirmed: Confirmed,
                                                       make_image: Callable[..., str],
                                                       use_image: Callable[[str], Container],
                                                       docker_client: docker.DockerClient) -> None:
    tag = f"dockops-test/forced:{RUN_ID}"
    make_image(tag, group=unique("g"))
    use_image(tag)
    _, done, sent = confirmed(f"rmi -f {tag}")
    assert done is not None and done.ok, sent.text()
    assert not image_exists(docker_client, tag)


# -- image prune ----------------------------------------------------------------------------

def dangling(make_image: Callable[..., str], group: str) -> str:
    """An untagged image: build one under a tag, then build another over that tag."""
    tag = f"dockops-test/dangling:{unique('t')[-6:]}"
    old = make_image(tag, group=group)
    make_image(tag, group=group)
    return old


def test_prune_preview_lists_the_images_and_bytes_without_deleting(
        services: Services, make_image: Callable[..., str],
        docker_client: docker.DockerClient) -> None:
    group = unique("g")
    first, second = dangling(make_image, group), dangling(make_image, group)
    shown = preview(services, f"image prune --filter label={PRUNE_KEY}={group}").text()
    # LABEL-only images add no layer: the engine would free nothing, and the preview says so.
    assert "Prune 2 images" in shown and "frees 0B" in shown
    for image_id in (first, second):
        assert image_id.split(":")[1][:12] in shown
        assert image_exists(docker_client, image_id)  # nothing deleted by a preview


def test_prune_removes_only_dangling_images_and_reports_bytes(
        confirmed: Confirmed, make_image: Callable[..., str],
        docker_client: docker.DockerClient) -> None:
    group = unique("g")
    old = dangling(make_image, group)
    kept = make_image(f"dockops-test/tagged:{unique('t')[-6:]}", group=group)
    held, done, sent = confirmed(f"image prune --filter label={PRUNE_KEY}={group}")
    assert held.awaiting_confirmation and done is not None and done.ok, sent.text()
    assert "Pruned 1 image" in sent.text()
    # The engine's figure: the image's own layers (none: it only adds a LABEL), not its SIZE.
    assert done.message is not None and "reclaimed 0 bytes" in done.message.text
    assert "Total reclaimed space: 0B" in sent.text()
    assert not image_exists(docker_client, old) and image_exists(docker_client, kept)


def test_prune_a_skips_images_in_use_and_honours_label_and_until_filters(
        confirmed: Confirmed, make_image: Callable[..., str],
        use_image: Callable[[str], Container], docker_client: docker.DockerClient) -> None:
    group = unique("g")
    unused = make_image(f"dockops-test/unused-a:{unique('t')[-6:]}", group=group)
    used_tag = f"dockops-test/used-a:{unique('t')[-6:]}"
    used = make_image(used_tag, group=group)
    special = make_image(f"dockops-test/special:{unique('t')[-6:]}", group=group,
                         extra="keep=yes")
    user = use_image(used_tag)
    # until=24h: everything here is younger, so nothing goes.
    _, _, sent = confirmed(f"image prune -a --filter until=24h "
                           f"--filter label={PRUNE_KEY}={group}")
    assert "Nothing to prune" in sent.text()
    assert all(image_exists(docker_client, i) for i in (unused, used, special))
    _, done, sent = confirmed(f"image prune -a --filter label={PRUNE_KEY}={group} "
                              "--filter label!=keep=yes")
    assert done is not None and done.ok, sent.text()
    assert f"in use by container {user.name}" in sent.text()
    assert not image_exists(docker_client, unused)
    assert image_exists(docker_client, used) and image_exists(docker_client, special)


def test_prune_filter_mistakes_are_usage_errors(run_command: Run) -> None:
    for bad in ("dangling=false", "until=soon", "label="):
        outcome, sent = run_command(f"image prune --filter {bad}")
        assert not outcome.ok, bad
        assert "Invalid filter" in sent.text() or "is not a duration" in sent.text(), bad


def test_plan_prune_keeps_by_glob_and_label_and_execute_refuses_an_image_used_since(
        services: Services, make_image: Callable[..., str],
        use_image: Callable[[str], Container], docker_client: docker.DockerClient) -> None:
    engine = services.hosts.get()
    group = unique("g")
    base = unique("base")[-10:]
    kept_glob = make_image(f"127.0.0.1:5000/{base}/app:1", group=group)
    kept_label = make_image(f"dockops-test/pinned:{base}", group=group, extra="pin=1")
    victim_tag = f"dockops-test/victim:{base}"
    victim = make_image(victim_tag, group=group)
    later_used = make_image(f"dockops-test/later:{base}", group=group)
    plan = prune.plan_prune(engine, all=True, until=None, labels=[f"label={PRUNE_KEY}={group}"],
                            keep=[f"127.0.0.1:5000/{base}/*", "label:pin=1"])
    planned = {image.id for image in plan.images}
    assert planned == {victim, later_used}
    reasons = {image.id: image.reason for image in plan.skipped}
    assert reasons[kept_glob].startswith("kept by") and reasons[kept_label].startswith("kept by")
    assert plan.total_bytes == sum(i.size for i in plan.images) > 0
    # Between plan and execution someone starts using one of them: it must survive.
    use_image(later_used)
    result = prune.execute_prune(engine, plan)
    assert [image.id for image in result.removed] == [victim]
    assert [image.id for image, _ in result.failed] == [later_used]
    assert result.reclaimed_bytes == next(i.size for i in plan.images if i.id == victim)
    assert image_exists(docker_client, later_used) and not image_exists(docker_client, victim)


def test_plan_prune_until_is_applied(services: Services, make_image: Callable[..., str]) -> None:
    group = unique("g")
    make_image(f"dockops-test/recent:{unique('t')[-6:]}", group=group)
    engine = services.hosts.get()
    labels = [f"label={PRUNE_KEY}={group}"]
    assert prune.plan_prune(engine, all=True, until=timedelta(hours=1), labels=labels).images == ()
    assert len(prune.plan_prune(engine, all=True, until=timedelta(0), labels=labels).images) == 1


# -- end to end through Slack ---------------------------------------------------------------

@pytest.mark.timeout(120)
def test_prune_over_slack_previews_then_removes_on_confirm(bot_server: BotProcess,
                                                           make_image: Callable[..., str],
                                                           docker_client: docker.DockerClient
                                                           ) -> None:
    group = unique("g")
    old = dangling(make_image, group)
    body = bot_server.ask(f"image prune --filter label={PRUNE_KEY}={group}")
    shown = answer_text(body)
    assert "Prune 1 image" in shown and old.split(":")[1][:12] in shown
    assert image_exists(docker_client, old)  # the preview deleted nothing
    token = next(e["value"] for b in body["blocks"] for e in b.get("elements", ())
                 if e.get("action_id") == CONFIRM_ACTION)
    message = wait_for(lambda: next((m for m in bot_server.slack.messages("C0OPS")
                                     if token in str(m)), None), timeout=10, what="the preview")
    status, url = bot_server.click(CONFIRM_ACTION, token, message=message)
    assert status == 200
    [reply] = bot_server.slack.wait_for_responses(url, 1)
    assert "Pruned 1 image" in answer_text(reply)
    assert not image_exists(docker_client, old)


def test_a_confirmed_prune_removes_only_what_its_preview_showed(
        services: Services, make_image: Callable[..., str], docker_client: docker.DockerClient) -> None:
    group = unique("pin")
    shown = make_image(group=group)
    pipeline = Pipeline(services)
    actor = Actor(user_id="console", channel_id="C0OPS", source="console")
    responder = RecordingResponder()
    preview = pipeline.execute(f"image prune -a --filter label={PRUNE_KEY}={group}", actor,
                               responder)
    assert preview.awaiting_confirmation
    late = make_image(group=group)  # unused and matching, but made after the preview
    done = pipeline.decide(preview.token, actor, responder, confirm=True)
    assert done.ok, responder.text()
    assert not image_exists(docker_client, shown)
    assert image_exists(docker_client, late)
