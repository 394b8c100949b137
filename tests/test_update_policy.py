"""The update job's policy against a real engine and registry: `min_age` holds back a digest
built moments ago and offers an old one, `cleanup` removes the replaced image only when
nothing names it, `remind` sends one summary instead of repeats, and a notice turns into
"applied" (who and how, or "updated outside dockops") once its container runs the digest."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import tarfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import docker
import pytest

from bot.config import parse_file
from bot.jobs import notices as n
from bot.jobs import policy
from bot.jobs.runner import JobRunner
from bot.pipeline import Pipeline
from bot.policy import Actor
from bot.store import update_notices as told_store
from tests import test_jobs_update as jobs_rig
from tests.support import RUN_ID, TEST_LABEL, RecordingResponder
from tests.test_check import mistakes
from tests.test_jobs_update import AppImage, new_channel, posted, update_job

# The update job tests' fixtures: a published app image, containers watching it, the Slack
# stand-in and a job runner posting to it.
app_image, watching, standin, boot = (jobs_rig.app_image, jobs_rig.watching, jobs_rig.standin,
                                      jobs_rig.boot)

Boot = Callable[[str], JobRunner]


def aged_copy(client: docker.DockerClient, image_id: str, tag: str, created: datetime) -> str:
    """`image_id` loaded again as `tag` with its config's created date set to `created` (the
    layers are the same): a digest as old as we need, built now."""
    with tarfile.open(fileobj=io.BytesIO(b"".join(client.api.get_image(image_id)))) as tar:
        files = {m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                 for m in tar.getmembers() if m.isfile()}
    manifest = json.loads(files["manifest.json"])
    config = json.loads(files[manifest[0]["Config"]])
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S.000000000Z")
    config["created"] = stamp
    for step in config.get("history") or []:
        step["created"] = stamp
    raw = json.dumps(config).encode()
    digest = hashlib.sha256(raw).hexdigest()
    del files[manifest[0]["Config"]]
    files[f"{digest}.json"] = raw
    manifest[0]["Config"], manifest[0]["RepoTags"] = f"{digest}.json", [tag]
    files["manifest.json"] = json.dumps(manifest).encode()
    files.pop("repositories", None)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as packed:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            packed.addfile(info, io.BytesIO(data))
    client.api.load_image(out.getvalue())
    return f"sha256:{digest}"


def publish_aged(image: AppImage, days: float) -> str:
    """Push a v3 created `days` ago under the watched tag; the local tag goes back to v1."""
    built = image.build("v3")
    aged = aged_copy(image.client, built, image.ref, datetime.now(UTC) - timedelta(days=days))
    digest = image.push()
    image.client.api.tag(image.v1, image.repo, "latest", force=True)
    for leftover in (aged, built):
        with contextlib.suppress(docker.errors.APIError):
            image.client.images.remove(leftover, force=True)
    return digest


def messages_of(standin: Any, runner: JobRunner, channel: str) -> list[dict[str, Any]]:
    return posted(standin, runner, channel)


def test_min_age_holds_back_a_digest_built_moments_ago_and_offers_an_old_one(
        app_image: AppImage, watching, standin, boot: Boot) -> None:
    watching()
    channel = new_channel()
    runner = boot(update_job(channel, containers=f"label:{watching.label}",
                             extra='min_age = "3d"\n'))
    app_image.publish_v2()  # created now

    report, _ = runner.run("updates")
    assert report.summary.startswith("1 image(s) checked, 1 changed, 1 under min_age")
    assert messages_of(standin, runner, channel) == []

    old = publish_aged(app_image, days=10)
    report, _ = runner.run("updates")
    assert ", under min_age" not in report.summary
    [message] = messages_of(standin, runner, channel)
    assert old[:19] in message["text"] and app_image.ref in message["text"]


def test_hold_reason_says_why_in_one_clause() -> None:
    job = type("Job", (), {"min_age": timedelta(days=3)})()
    now = datetime(2026, 11, 30, tzinfo=UTC)
    assert policy.hold_reason(job, now - timedelta(hours=5), now) == \
        "it was created 5 hours ago, under min_age (3 days)"  # type: ignore[arg-type]
    assert policy.hold_reason(job, now - timedelta(days=4), now) == ""  # type: ignore[arg-type]
    assert "unknown" in policy.hold_reason(job, None, now)  # type: ignore[arg-type]
    assert policy.parse_created("2026-11-27T08:15:00.123456789Z") == \
        datetime(2026, 11, 27, 8, 15, 0, 123456, tzinfo=UTC)


def _recreate_job(channel: str, label: str) -> str:
    return update_job(channel, containers=f"label:{label}", action="recreate",
                      extra='cleanup = true\nrecreate_timeout = "20s"\n')


def test_cleanup_removes_the_replaced_image_when_nothing_names_it(
        app_image: AppImage, watching, docker_client: docker.DockerClient, standin,
        boot: Boot) -> None:
    web = watching()
    app_image.publish_v2()
    channel = new_channel()
    runner = boot(_recreate_job(channel, watching.label))

    report, _ = runner.run("updates")

    assert report.outcome == "ok"
    assert docker_client.api.inspect_container(web.name)["Image"] == app_image.local_id()
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.api.inspect_image(app_image.v1)
    [message] = messages_of(standin, runner, channel)
    assert f"removed the old image `{app_image.v1[7:19]}`" in json.dumps(message["blocks"])


def test_cleanup_keeps_the_replaced_image_while_another_tag_names_it_and_says_why(
        app_image: AppImage, watching, docker_client: docker.DockerClient, standin,
        boot: Boot) -> None:
    watching()
    docker_client.api.tag(app_image.v1, app_image.repo, "keep")
    app_image.publish_v2()
    channel = new_channel()
    runner = boot(_recreate_job(channel, watching.label))

    runner.run("updates")

    assert docker_client.api.inspect_image(app_image.v1)["RepoTags"] == [f"{app_image.repo}:keep"]
    [message] = messages_of(standin, runner, channel)
    assert (f"Kept the old image `{app_image.v1[7:19]}`: it is still tagged "
            f"{app_image.repo}:keep.") in json.dumps(message["blocks"])


def test_remind_weekly_posts_no_repeat_then_one_summary_of_what_is_still_pending(
        app_image: AppImage, watching, standin, boot: Boot) -> None:
    web = watching()
    channel = new_channel()
    runner = boot(update_job(channel, containers=f"label:{watching.label}",
                             extra='remind = "weekly"\n'))
    digest = app_image.publish_v2()
    runner.run("updates")
    runner.run("updates")
    assert len(messages_of(standin, runner, channel)) == 1  # told once, not again

    with runner.services.store.session.begin() as session:  # a week goes by
        told_store.set_reminder(session, "updates", time.time() - 8 * 24 * 3600)
    runner.run("updates")
    runner.run("updates")

    _, summary = messages_of(standin, runner, channel)
    assert "1 update(s) still pending" in summary["text"] and "weekly" in summary["text"]
    table = json.dumps(summary["blocks"])
    assert app_image.ref in table and digest[:19] in table and web.name in table


def _notice(standin, runner: JobRunner, channel: str) -> dict[str, Any]:
    [message] = messages_of(standin, runner, channel)
    return message


def test_a_container_recreated_outside_dockops_turns_the_notice_into_updated_outside(
        app_image: AppImage, watching, docker_client: docker.DockerClient, standin,
        boot: Boot) -> None:
    web = watching()
    channel = new_channel()
    runner = boot(update_job(channel, containers=f"label:{watching.label}"))
    app_image.publish_v2()
    runner.run("updates")
    notice = _notice(standin, runner, channel)
    assert "Update applied" not in notice["text"]

    docker_client.images.pull(app_image.repo, tag="latest")  # what someone does by hand
    web.remove(force=True)
    docker_client.containers.run(app_image.ref, name=web.name, detach=True,
                                 labels={TEST_LABEL: RUN_ID, watching.label: "true"},
                                 stop_signal="SIGKILL")
    runner.run("updates")

    edited = _notice(standin, runner, channel)  # the same message, edited in place
    assert edited["ts"] == notice["ts"] and "edited" in edited
    assert "Update applied" in edited["text"] and "updated outside dockops" in edited["text"]
    assert not [b for b in edited["blocks"] if b["type"] == "actions"]  # no buttons left
    runner.run("updates")
    assert _notice(standin, runner, channel) == edited  # edited once


def test_the_recreate_button_turns_the_notice_into_applied_by_the_clicker(
        app_image: AppImage, watching, docker_client: docker.DockerClient, standin,
        boot: Boot) -> None:
    web = watching()
    channel = new_channel()
    runner = boot(update_job(channel, containers=f"label:{watching.label}"))
    app_image.publish_v2()
    runner.run("updates")
    notice = _notice(standin, runner, channel)
    actions = next(b for b in notice["blocks"] if b["type"] == "actions")["elements"]
    token = next(a["value"] for a in actions if a["action_id"] == n.RECREATE_ACTION)

    pipeline = Pipeline(runner.services)
    actor = Actor(user_id="U0ADMIN", channel_id=channel, source="slack")
    responder = RecordingResponder()
    preview = pipeline.click(token, n.RECREATE_ACTION, actor, responder, responder)
    assert preview.awaiting_confirmation
    done = pipeline.decide(preview.token, actor, responder, confirm=True)
    assert done.ok
    assert docker_client.api.inspect_container(web.name)["Image"] == app_image.local_id()
    runner.run("updates")

    edited = _notice(standin, runner, channel)
    assert edited["ts"] == notice["ts"]
    assert "applied by <@U0ADMIN> (recreate)" in json.dumps(edited["blocks"])
    rendered = n.decode(n.encode(n.UpdateApplied("updates", "local", app_image.ref, "", "x",
                                                 (web.name,), "k", "U0ADMIN", "recreate")))
    assert isinstance(rendered, n.UpdateApplied)


def test_dockops_check_names_a_bad_min_age_or_remind_in_one_line() -> None:
    job = ('[[jobs]]\nname = "u"\ntype = "update"\nschedule = "0 4 * * *"\nchannel = "C0OPS"\n'
           'images = ["a:1"]\n')
    assert mistakes(job + 'min_age = "3 days"\nremind = "monthly"\ncleanup = true\n') == [
        "line 7: [[jobs]] #1 (u) min_age: '3 days' is not a duration: use forms like 30s, 10m, "
        "2h, 7d.",
        'line 8: [[jobs]] #1 (u) remind: must be "", "daily" or "weekly", got "monthly".']
    [parsed] = parse_file(job + 'min_age = "3d"\nremind = "weekly"\ncleanup = true\n').jobs
    assert (parsed.min_age, parsed.remind, parsed.cleanup) == (timedelta(days=3), "weekly", True)
