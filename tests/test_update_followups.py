"""Issue 15's follow-ups against a real engine and registry: `min_age` holds new tags too
(offered once old enough, once; a tag without a created date stays held), a notice turns
"applied" within seconds of its container being recreated (by hand: the scheduler's light
check; by the Recreate button: at once, naming the clicker), and the button's recreate
honours the job's `cleanup` (the old image goes when unused, stays with the reason if not)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import docker
import pytest

from bot.jobs import notices as n
from bot.jobs import policy
from bot.jobs.runner import JobRunner
from bot.jobs.scheduler import JobScheduler
from bot.pipeline import Pipeline
from bot.policy import Actor
from bot.store import Buttons
from tests import test_jobs_update as jobs_rig
from tests.registry_push import push_image
from tests.registry_rig import RegistryRig
from tests.support import RUN_ID, TEST_LABEL, RecordingResponder, unique, wait_for
from tests.test_jobs_update import AppImage, new_channel, posted, update_job

app_image, watching, standin, boot = (jobs_rig.app_image, jobs_rig.watching, jobs_rig.standin,
                                      jobs_rig.boot)

Boot = Callable[[str], JobRunner]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.123456789Z")


class _FiveDaysLater(datetime):
    """The policy's clock, five days on (min_age is measured against it)."""

    @classmethod
    def now(cls, tz: Any = None) -> _FiveDaysLater:  # type: ignore[override]
        moment = datetime.now(tz) + timedelta(days=5)
        return cls.fromtimestamp(moment.timestamp(), tz)


def test_min_age_holds_a_new_tag_until_its_image_is_old_enough_then_offers_it_once(
        registry: RegistryRig, standin, boot: Boot, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = f"dockops-test/{unique('tagage').lower()}"
    push_image(registry, repo, "1.2.3", created=_stamp(datetime.now(UTC) - timedelta(days=30)))
    push_image(registry, repo, "1.2.4", created=_stamp(datetime.now(UTC)))  # built moments ago
    push_image(registry, repo, "1.3.0", created="")  # no created date: cannot be shown old
    ref = f"{registry.host}/{repo}:1.2.3"
    runner = boot(update_job(new_channel(), images=[ref],
                             extra='watch_tags = true\nmin_age = "3d"\n'))

    def tags() -> tuple[str, list[str]]:
        report, queued = runner.run("updates")
        return report.summary, [f"{t.current} -> {t.tag}" for t in queued
                                if isinstance(t, n.TagAvailable)]

    summary, told = tags()
    assert told == [] and ", 2 under min_age" in summary
    assert tags()[1] == []  # still held, not told

    monkeypatch.setattr(policy, "datetime", _FiveDaysLater)
    summary, told = tags()
    assert told == ["1.2.3 -> 1.2.4"] and ", 1 under min_age" in summary  # 1.3.0 stays held
    summary, told = tags()
    assert told == [] and ", 1 under min_age" in summary  # once


def test_tag_held_says_why_in_one_clause(registry: RegistryRig, boot: Boot) -> None:
    repo = f"dockops-test/{unique('tagwhy').lower()}"
    push_image(registry, repo, "2.0", created=_stamp(datetime.now(UTC) - timedelta(hours=5)))
    runner = boot(update_job(new_channel(), images=[f"{registry.host}/{repo}:1.0"],
                             extra='watch_tags = true\nmin_age = "3d"\n'))
    from bot.jobs.report import JobContext

    ctx = JobContext(runner.job("updates"), runner.services, 0)
    assert policy.tag_held(ctx, f"{registry.host}/{repo}:1.0", "2.0") == \
        "it was created 5 hours ago, under min_age (3 days)"
    assert "created date is unknown" in policy.tag_held(ctx, f"{registry.host}/{repo}:1.0",
                                                        "no-such-tag")


def _notice(standin, runner: JobRunner, channel: str) -> dict[str, Any]:
    [message] = posted(standin, runner, channel)
    return message


def _button(notice: dict[str, Any], action: str) -> str:
    actions = next(b for b in notice["blocks"] if b["type"] == "actions")["elements"]
    return str(next(a["value"] for a in actions if a["action_id"] == action))


def _click_and_confirm(runner: JobRunner, token: str, channel: str) -> RecordingResponder:
    """Click the notice's Recreate (its command has --cleanup) and confirm, as U0ADMIN."""
    pipeline = Pipeline(runner.services)
    actor = Actor(user_id="U0ADMIN", channel_id=channel, source="slack")
    responder = RecordingResponder()
    preview = pipeline.click(token, n.RECREATE_ACTION, actor, responder, responder)
    assert preview.awaiting_confirmation and preview.message is not None
    assert "--cleanup: then each image the containers ran is removed if no other container " \
        "or tag uses it" in json.dumps(preview.message.blocks)  # the preview says so
    assert pipeline.decide(preview.token, actor, responder, confirm=True).ok
    return responder


def test_a_container_recreated_by_hand_turns_the_notice_applied_within_the_light_check(
        app_image: AppImage, watching, docker_client: docker.DockerClient, standin,
        boot: Boot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKOPS_APPLIED_CHECK_SECONDS", "1")
    web = watching()
    channel = new_channel()
    runner = boot(update_job(channel, containers=f"label:{watching.label}"))
    app_image.publish_v2()
    runner.run("updates")
    notice = _notice(standin, runner, channel)
    scheduler = JobScheduler(runner)
    assert scheduler.start()
    try:
        docker_client.images.pull(app_image.repo, tag="latest")  # what someone does by hand
        web.remove(force=True)
        docker_client.containers.run(app_image.ref, name=web.name, detach=True,
                                     labels={TEST_LABEL: RUN_ID, watching.label: "true"},
                                     stop_signal="SIGKILL")
        edited = wait_for(lambda: next((m for m in posted(standin, runner, channel)
                                        if "edited" in m), None), timeout=20,
                          what="the notice edited by the light check")
    finally:
        scheduler.shutdown(wait=False)
    assert edited["ts"] == notice["ts"]
    assert "Update applied" in edited["text"] and "updated outside dockops" in edited["text"]
    runner.run("updates")
    assert _notice(standin, runner, channel) == edited  # edited once, the job found it done


def test_the_recreate_button_applies_the_notice_at_once_and_cleans_up_as_the_job_says(
        app_image: AppImage, watching, docker_client: docker.DockerClient, standin,
        boot: Boot) -> None:
    web = watching()
    channel = new_channel()
    runner = boot(update_job(channel, containers=f"label:{watching.label}",
                             extra="cleanup = true\n"))
    app_image.publish_v2()
    runner.run("updates")
    notice = _notice(standin, runner, channel)
    token = _button(notice, n.RECREATE_ACTION)
    stored = Buttons(runner.services.store).get(token)
    assert stored is not None and " recreate --pull --cleanup --image " in stored.command

    responder = _click_and_confirm(runner, token, channel)

    assert docker_client.api.inspect_container(web.name)["Image"] == app_image.local_id()
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.api.inspect_image(app_image.v1)
    answer = json.dumps([m.blocks for m in responder.sent])
    assert f"removed the old image `{app_image.v1[7:19]}`" in answer
    edited = _notice(standin, runner, channel)  # no job run: the button told it
    assert edited["ts"] == notice["ts"]
    assert "applied by <@U0ADMIN> (recreate)" in json.dumps(edited["blocks"])


def test_the_buttons_cleanup_keeps_an_image_another_container_uses_and_says_why(
        app_image: AppImage, watching, docker_client: docker.DockerClient, standin,
        boot: Boot) -> None:
    watching()
    channel = new_channel()
    runner = boot(update_job(channel, containers=f"label:{watching.label}",
                             extra="cleanup = true\n"))
    app_image.publish_v2()
    runner.run("updates")
    token = _button(_notice(standin, runner, channel), n.RECREATE_ACTION)
    other = docker_client.containers.create(app_image.v1, name=unique("other"),
                                            labels={TEST_LABEL: RUN_ID})  # came after the notice
    try:
        responder = _click_and_confirm(runner, token, channel)
        assert docker_client.api.inspect_image(app_image.v1)["Id"] == app_image.v1
        answer = json.dumps([m.blocks for m in responder.sent])
        assert (f"Kept the old image `{app_image.v1[7:19]}`: container {other.name} still "
                "uses it.") in answer
    finally:
        other.remove(force=True)
        with contextlib.suppress(docker.errors.APIError):
            docker_client.api.remove_image(app_image.v1)


def test_typed_recreate_takes_cleanup_and_help_documents_it() -> None:
    from bot.commands import TABLE, parse

    invocation = parse("recreate --pull --cleanup web", TABLE)
    assert invocation.opt("cleanup") and invocation.opt("pull")
    assert invocation.command.role.name == "OPERATOR"  # the role of recreate
    assert "--cleanup" in "\n".join(f.signature() for f in invocation.command.flags)
